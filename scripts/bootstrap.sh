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
# pyspark (local mode, for the Spark exporter tests) needs a Java 17 runtime.
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
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
