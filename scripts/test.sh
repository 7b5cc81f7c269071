#!/usr/bin/env bash
# The second command for a new user (and what CI runs): installs what is missing,
# builds glia with warnings as errors, runs every test with CTest, then fuzzes the
# experiment-file parser for 60 s (scripts/fuzz.sh; GLIA_FUZZ_SECONDS=0 skips it).
#   scripts/test.sh [ctest options]             Release build in build/
#   scripts/test.sh --sanitize [ctest options]  AddressSanitizer + UndefinedBehaviorSanitizer
#                                               build in build-sanitize/, whole suite, no fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  shift
  generator=() generator_args=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  # Not -Werror: GCC 12 gives false -Wmaybe-uninitialized in libstdc++ under ASan.
  [ -f build-sanitize/CMakeCache.txt ] || generator_args=("${generator[@]}")
  cmake -S . -B build-sanitize "${generator_args[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGLIA_SANITIZE=ON -DGLIA_WERROR=OFF >/dev/null
  cmake --build build-sanitize --parallel "$(nproc)"
  cd build-sanitize
  # Any report fails the test that caused it.
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1"
  export LSAN_OPTIONS="suppressions=$PWD/../scripts/lsan.supp"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  ctest --output-on-failure --parallel "$(nproc)" "$@"
  exit 0
fi
scripts/build.sh -DGLIA_WERROR=ON
(cd build && ctest --output-on-failure --parallel "$(nproc)" "$@")
seconds="${GLIA_FUZZ_SECONDS:-60}"
if [ "$seconds" != 0 ]; then scripts/fuzz.sh "$seconds"; fi
