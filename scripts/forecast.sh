#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the baseline forecast:
# installs what is missing, builds a Release build, runs configs/baseline.toml.
# Extra arguments go to `chipcast run` (e.g. --trajectories 10000000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target chipcast
./build/chipcast run configs/baseline.toml --out out/baseline "$@"
