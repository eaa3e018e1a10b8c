#!/usr/bin/env bash
# The main job on embedded defaults: validate the example catalog and generate every artifact into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/watchkeeper validate examples/catalog
.venv/bin/watchkeeper build examples/catalog --out build "$@"
