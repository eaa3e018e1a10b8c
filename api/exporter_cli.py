"""`watchkeeper exporter`: serve `/metrics` for the catalog's sources.

Commands import their libraries lazily so `--help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli_common import EXIT_USAGE, CatalogArg, VersionOption, fail, load_or_exit
from exporters.sources import COLLECTORS


def exporter(
    catalog: CatalogArg,
    listen: Annotated[
        str, typer.Option("--listen", help="host:port to serve /metrics and /healthz on.")
    ] = "127.0.0.1:9108",
    only: Annotated[
        str | None,
        typer.Option("--only", help=f"Comma-separated source kinds to collect ({','.join(COLLECTORS)})."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    version: VersionOption = False,
) -> None:
    """Serve Prometheus metrics for every source in the catalog (logs are logfmt on stderr)."""
    host, _, port_text = listen.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if (
        not host
        or not port_text.isdigit()
        or not 0 < int(port_text) < 65536
        or (":" in host and not bracketed)
        or (not bracketed and ("[" in host or "]" in host))
    ):
        fail(
            f"--listen must be host:port, such as 127.0.0.1:9108 or [::1]:9108 (IPv6 in brackets), not {listen!r}",
            EXIT_USAGE,
        )
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        fail(f"--log-level must be debug, info, warning or error, not {log_level!r}", EXIT_USAGE)
    from exporters import logs
    from exporters.errors import ConfigError
    from exporters.runtime import Runtime
    from exporters.server import serve
    from exporters.sources import IMPLEMENTED, build_sources

    kinds = None
    if only is not None:
        kinds = {k.strip() for k in only.split(",") if k.strip()}
        unknown = sorted(kinds - set(IMPLEMENTED))
        if unknown or not kinds:
            fail(f"--only takes {', '.join(IMPLEMENTED)}; not {', '.join(unknown) or 'nothing'}", EXIT_USAGE)
    result = load_or_exit(catalog)
    logs.setup(log_level)
    import logging

    log = logging.getLogger("watchkeeper.exporter")
    try:
        sources, notes = build_sources(result.catalog, kinds)
    except ConfigError as exc:
        fail(str(exc))
    for note in notes:
        log.warning(note)
    if not sources:
        log.warning("no sources to collect; serving ownership info only")
    try:
        serve(Runtime(result.catalog, sources), host.strip("[]"), int(port_text))
    except OSError as exc:
        fail(f"cannot listen on {listen}: {exc.strerror}", EXIT_USAGE)
