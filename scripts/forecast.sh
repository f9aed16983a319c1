#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the baseline forecast:
# installs what is missing, builds a Release build, runs configs/baseline.toml.
# Extra arguments go to `chipcast run` (e.g. --trajectories 10000000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's interpreter, not one first on PATH (pyenv, conda): the package is built for it.
cmake --preset default -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build --preset default --target chipcast chipcast_python
# `/usr/bin/python3 -c "import chipcast"` for this user: a .pth file in their user site-packages
# naming build/python (nothing is installed or downloaded; rebuilding updates the package).
site=$(/usr/bin/python3 -m site --user-site)
mkdir -p "$site"
echo "$(pwd)/build/python" > "$site/chipcast.pth"
echo "forecast.sh: /usr/bin/python3 imports chipcast from $(pwd)/build/python ($site/chipcast.pth)"
./build/chipcast run configs/baseline.toml --out out/baseline "$@"
