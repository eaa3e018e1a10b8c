#!/usr/bin/env bash
# Install everything Watchkeeper needs on a fresh machine: apt tools, uv, and the locked virtualenv.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(prometheus prometheus-alertmanager prometheus-pushgateway)
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v prometheus-pushgateway >/dev/null || missing+=(prometheus-pushgateway)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing apt packages: ${APT_PACKAGES[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi

if ! command -v uv >/dev/null; then
    echo "bootstrap: installing uv from PyPI" >&2
    python3 -m pip install --quiet uv
fi

# The lock file pins every dependency; --frozen refuses to run with a stale lock.
uv sync --frozen --compile-bytecode --quiet
