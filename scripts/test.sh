#!/usr/bin/env bash
# The second command for a new user (and what CI runs): installs what is missing,
# builds glia with warnings as errors, and runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DGLIA_WERROR=ON
cd build
ctest --output-on-failure --parallel "$(nproc)" "$@"
