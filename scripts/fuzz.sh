#!/usr/bin/env bash
# Fuzzes the experiment-file parser and validator for SECONDS (default 60): builds the
# libFuzzer target (clang, AddressSanitizer, UndefinedBehaviorSanitizer; only the
# sources the parser needs) into build-fuzz/, seeds it with experiments/*.toml and runs
# it. Exits non-zero on a crash, a hang (> 10 s for one input), a sanitizer report or
# an exception other than glia's input error; the input that did it is left in
# build-fuzz/artifacts/ (reproduce: build-fuzz/glia_fuzz_experiment FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  cmake -S . -B build-fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGLIA_FUZZ=ON -DGLIA_PORTABLE=ON >/dev/null
fi
cmake --build build-fuzz --target glia_fuzz_experiment --parallel "$(nproc)"
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/artifacts
cp experiments/*.toml "$corpus"/
echo "fuzz: running for ${seconds} s"
build-fuzz/glia_fuzz_experiment -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict=fuzz/experiment.dict -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 \
  "$corpus" 2>build-fuzz/fuzz.log || { tail -60 build-fuzz/fuzz.log >&2; exit 1; }
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE" build-fuzz/fuzz.log || true
echo "fuzz: no crashes, hangs or sanitizer reports in ${seconds} s"
