"""A tiny model server for the inference probe tests and benchmark: FastAPI served by uvicorn, in its own process.

The model is a logistic regression with fixed weights: `POST /v1/predict {"features": [x1, x2, x3]}`
answers `{"predictions": [p], "model": "tiny-logit"}` with p = 1 / (1 + e^-(0.5 x1 - 0.25 x2 + 0.1 x3 + 0.2)).
`/models/NAME/predict` is the same model under another name, whose faults are set apart (`?model=NAME`
on the control calls), so that one server can hold a healthy endpoint beside failing ones.
Faults are injected through `/_control`, never by the prober:

- `PUT /_control/script`: a list of behaviours, one taken per predict request, in order; then the default.
- `PUT /_control/default`: the behaviour when the script is empty.
- `PUT /_control/cycle`: `{"delays": [...]}`: each client (by User-Agent) gets these delays in turn, so two
  probers polling the same endpoint see the same sequence (the benchmark).
- `GET /_control/seen`: the predict requests seen (method, headers without credentials, body, whether the
  credentials matched).

A behaviour: `{"delay": seconds, "status": code, "hang": true, "body": "raw text", "json": value,
"content_type": "..."}`. With `--auth-env VAR`, predict requests whose Authorization header is not the
variable's value are answered 401. With `--certfile/--keyfile` it serves HTTPS.

Run: `python -m tests.model_server --port PORT`; `model_server()` starts it on a free loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = (0.5, -0.25, 0.1)
BIAS = 0.2


def create_app(auth: str | None) -> FastAPI:
    """The FastAPI application; `auth` is the Authorization header value to require, if any."""
    app = FastAPI()
    scripts: dict[str, deque[dict[str, Any]]] = {}
    defaults: dict[str, dict[str, Any]] = {}
    state: dict[str, Any] = {"cycle": [], "positions": {}, "seen": []}

    @app.put("/_control/script")
    async def set_script(request: Request, model: str = "") -> dict[str, int]:
        scripts[model] = deque(await request.json())
        return {"queued": len(scripts[model])}

    @app.put("/_control/default")
    async def set_default(request: Request, model: str = "") -> dict[str, bool]:
        defaults[model] = await request.json()
        return {"ok": True}

    @app.put("/_control/cycle")
    async def set_cycle(request: Request) -> dict[str, int]:
        state["cycle"] = list((await request.json())["delays"])
        state["positions"] = {}
        return {"delays": len(state["cycle"])}

    @app.get("/_control/seen")
    async def seen() -> dict[str, Any]:
        return {"requests": state["seen"]}

    @app.api_route("/v1/predict", methods=["GET", "POST", "PUT"])
    async def predict(request: Request) -> Response:
        return await answer(request, "")

    @app.api_route("/models/{model}/predict", methods=["GET", "POST", "PUT"])
    async def predict_named(request: Request, model: str) -> Response:
        return await answer(request, model)

    async def answer(request: Request, model: str) -> Response:
        raw = await request.body()
        authorized = auth is None or request.headers.get("authorization") == auth
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        state["seen"].append(
            {
                "model": model,
                "method": request.method,
                "headers": headers,
                "body": raw.decode(),
                "authorized": authorized,
            }
        )
        script = scripts.get(model)
        behaviour = script.popleft() if script else dict(defaults.get(model, {}))
        if state["cycle"]:
            agent = request.headers.get("user-agent", "")
            position = state["positions"].get(agent, 0)
            state["positions"][agent] = position + 1
            behaviour.setdefault("delay", state["cycle"][position % len(state["cycle"])])
        if behaviour.get("hang"):
            await asyncio.sleep(3600)
        if behaviour.get("delay"):
            await asyncio.sleep(float(behaviour["delay"]))
        if not authorized:
            return Response('{"detail": "unauthorized"}', 401, media_type="application/json")
        status = int(behaviour.get("status", 200))
        ctype = behaviour.get("content_type", "application/json")
        if "body" in behaviour:
            return Response(behaviour["body"], status, media_type=ctype)
        if "json" in behaviour:
            return Response(json.dumps(behaviour["json"]), status, media_type=ctype)
        return Response(json.dumps(_predict(raw)), status, media_type=ctype)

    return app


def _predict(raw: bytes) -> dict[str, Any]:
    try:
        features = [float(x) for x in json.loads(raw or b"{}").get("features", [0, 0, 0])][:3]
    except (ValueError, TypeError, AttributeError):
        features = [0.0, 0.0, 0.0]
    features += [0.0] * (3 - len(features))
    z = sum(w * x for w, x in zip(WEIGHTS, features, strict=True)) + BIAS
    return {"predictions": [1 / (1 + math.exp(-z))], "model": "tiny-logit"}


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--more-ports", default="", help="comma-separated: also serve on these (benchmark)")
    parser.add_argument("--auth-env", help="variable holding the Authorization header value to require")
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()
    auth = os.environ[args.auth_env] if args.auth_env else None
    config = uvicorn.Config(
        create_app(auth),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        timeout_graceful_shutdown=1,
    )
    ports = [args.port, *(int(p) for p in args.more_ports.split(",") if p)]
    sockets = []
    for port in ports:  # each port is its own origin: no connection shared between them
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sockets.append(sock)
    uvicorn.Server(config).run(sockets=sockets)


@dataclass
class ModelServer:
    """A running model server: its predict URL and its control calls."""

    base: str
    proc: subprocess.Popen[bytes]
    context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"{self.base}/v1/predict"

    def url_for(self, model: str) -> str:
        return f"{self.base}/models/{model}/predict"

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10, context=self.context) as response:
            return json.load(response)

    def script(self, behaviours: list[dict[str, Any]], model: str = "") -> None:
        self._call("PUT", f"/_control/script?model={model}", behaviours)

    def default(self, behaviour: dict[str, Any], model: str = "") -> None:
        self._call("PUT", f"/_control/default?model={model}", behaviour)

    def cycle(self, delays: list[float]) -> None:
        self._call("PUT", "/_control/cycle", {"delays": delays})

    def seen(self, model: str | None = None) -> list[dict[str, Any]]:
        """The predict requests seen, in order (of one model, when given: "" is /v1/predict)."""
        requests: list[dict[str, Any]] = self._call("GET", "/_control/seen")["requests"]
        return [r for r in requests if model is None or r["model"] == model]


@contextmanager
def model_server(
    port: int | None = None,
    auth: str | None = None,
    tls: tuple[Path, Path] | None = None,
    log: Path | None = None,
    more_ports: list[int] = (),  # type: ignore[assignment]
) -> Iterator[ModelServer]:
    """Start the model server on a free loopback port (HTTPS with `tls` = (certfile, keyfile)); stop it after."""
    from tests.prometheus_stack import free_port, stop

    port = port or free_port()
    command = [sys.executable, "-m", "tests.model_server", "--port", str(port)]
    if more_ports:
        command += ["--more-ports", ",".join(map(str, more_ports))]
    env = dict(os.environ)
    if auth is not None:
        env["MODEL_SERVER_AUTH"] = auth
        command += ["--auth-env", "MODEL_SERVER_AUTH"]
    context = None
    if tls is not None:
        command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
        context = ssl.create_default_context(cafile=str(tls[0]))
    scheme = "https" if tls else "http"
    out = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ModelServer(f"{scheme}://127.0.0.1:{port}", proc, context)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.seen()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"the model server exited with {proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("the model server did not start within 30 s") from None
                time.sleep(0.05)
        yield server
    finally:
        stop(proc)
        if log:
            out.close()  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
