#!/usr/bin/env bash
# The CUDA backend against the CPU engine on Brunel (2000) and Brunel + STDP
# (experiments/brunel.toml, experiments/brunel_stdp.toml), on a machine with a GPU:
#
#   bench/gpu/run.sh [--duration MS] [--threads N] [--reps R] [--no-build]
#
# Per network: wall time of the run (the summary's "wall time", i.e. without the build)
# for backend = cpu with N threads (default: all cores) and backend = cuda, R repetitions
# (default 3), the realtime factor and the rates, side by side. Without a device the cuda
# runs fall back to the CPU and the script says so and stops: there is nothing to time.
# Raw lines: bench/results/gpu_latest.txt. No figure from this script has been measured yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=1000 threads=$(nproc) reps=3 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "bench/gpu/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$build" -eq 1 ] && scripts/build.sh >/dev/null
glia=build/glia
mkdir -p bench/results
out=bench/results/gpu_latest.txt
: >"$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if "$glia" info | grep -q "no CUDA device\|not built"; then
  "$glia" info | grep backends
  echo "bench/gpu: no usable CUDA device here: nothing to time" >&2
  exit 1
fi
field() { sed -n "s/^$1 *//p" "$2" | head -1; }
printf "%-12s %-6s %4s %12s %10s %10s %10s\n" network backend rep "wall" "realtime" "rate E" "rate I"
# Weight reports are CPU-only: the bench copies drop them, so that STDP runs on the device.
for net in brunel brunel_stdp; do
  /usr/bin/python3 - "experiments/$net.toml" "$tmp/$net.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
chunks = text.split("\n[[")
keep = [chunks[0]] + [c for c in chunks[1:]
                      if not (c.startswith("record]]") and 'type = "weights"' in c)]
open(sys.argv[2], "w").write("\n[[".join(keep))
PY
done
for net in brunel brunel_stdp; do
  for backend in cpu cuda; do
    for rep in $(seq 1 "$reps"); do
      log="$tmp/$net-$backend-$rep.txt"
      "$glia" run "$tmp/$net.toml" -q -o "$tmp/$net-$backend.h5" \
        --set run.duration="$duration" --set run.threads="$threads" \
        --set run.backend="$backend" >"$log" 2>"$tmp/err.txt" || { cat "$tmp/err.txt" >&2; exit 1; }
      if [ "$backend" = cuda ] && grep -q "running on the CPU" "$tmp/err.txt"; then
        echo "bench/gpu: $net fell back to the CPU: $(grep warning "$tmp/err.txt")" >&2
      fi
      wall=$(field "wall time" "$log")
      rtf=$(field "realtime" "$log" | cut -d' ' -f1)
      re=$(awk '$1 == "E" {print $3}' "$log")
      ri=$(awk '$1 == "I" {print $3}' "$log")
      printf "%-12s %-6s %4s %12s %10s %10s %10s\n" "$net" "$backend" "$rep" "$wall" "$rtf" "$re" "$ri" | tee -a "$out"
    done
  done
done
