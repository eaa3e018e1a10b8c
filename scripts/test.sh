#!/usr/bin/env bash
# Install what is needed, then run the whole test suite against the real tools.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/pytest "$@"
