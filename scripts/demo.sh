#!/usr/bin/env bash
# The first command for a new user: installs what is missing, builds glia, runs the
# default experiment (Brunel 2000, 12 500 neurons, 1 s of model time), writes
# results/brunel.h5 and draws results/brunel.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p results
build/glia run experiments/brunel.toml -o results/brunel.h5 "$@"
/usr/bin/python3 tools/plot.py results/brunel.h5 -o results/brunel.png --t-max 500
echo "demo: wrote results/brunel.h5 and results/brunel.png"
