#!/usr/bin/env bash
# Install everything Watchkeeper needs on a fresh machine: apt tools, uv, and the locked virtualenv.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v prometheus-pushgateway >/dev/null || missing+=(prometheus-pushgateway)
# Peers of benchmarks/inference_bench.py and benchmarks/freshness_bench.py (no test needs them).
command -v prometheus-blackbox-exporter >/dev/null || missing+=(prometheus-blackbox-exporter)
command -v prometheus-sql-exporter >/dev/null || missing+=(prometheus-sql-exporter)
# pyspark (local mode, for the Spark exporter tests) needs a Java 17 runtime.
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
# Headless Debian chromium: screenshots of the SLA report page (tests/test_sla_html.py).
command -v chromium >/dev/null || missing+=(chromium)
# Node.js and npm: the dashboard schema tests generate Grafana's JSON schema from @grafana/schema (below).
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing apt packages: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null; then
    echo "bootstrap: installing uv from PyPI" >&2
    python3 -m pip install --quiet uv
fi

# The lock file pins every dependency; --frozen refuses to run with a stale lock.
uv sync --frozen --compile-bytecode --quiet

# Grafana's dashboard types (npm, pinned by tests/grafana_schema/package-lock.json), for the dashboard
# schema tests; needs node and npm (Debian's nodejs and npm packages).
if [ ! -d tests/grafana_schema/node_modules/@grafana/schema ]; then
    echo "bootstrap: installing @grafana/schema for the dashboard tests" >&2
    npm ci --prefix tests/grafana_schema --no-audit --no-fund --silent
fi
