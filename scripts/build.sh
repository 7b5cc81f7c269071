#!/usr/bin/env bash
# Configures and builds glia (Release) into build/. Extra arguments go to CMake.
# Used by demo.sh and test.sh; safe to re-run (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
else
  cmake -S . -B build "$@" >/dev/null
fi
cmake --build build --parallel "$(nproc)"
