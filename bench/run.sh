#!/usr/bin/env bash
# glia against Brian2 on the benchmark networks of MODELS.md (COBA, CUBA, Brunel 2000,
# Izhikevich 2003), one command:
#
#   bench/run.sh [--quick] [--networks coba,cuba,brunel,izhikevich] [--threads 1,2]
#                [--reps R] [--duration MS] [--wait-idle S] [--cold] [--no-build]
#
# Installs what is missing (glia's packages via scripts/setup.sh; python3-brian and
# /usr/bin/time for the peer), builds glia (scripts/build.sh, which also builds the
# scatter-add micro-benchmark), then runs bench/run.py with Debian's /usr/bin/python3
# (Brian2 and h5py are Debian packages; the python3 on PATH may be another interpreter).
# glia and Brian2 (C++ standalone, compiled before it is timed) run alternately,
# R repetitions (default 3) per thread count; per network a table of wall time per
# simulated second, Brian2/glia ratio, build time, peak memory, bytes per synapse,
# synaptic events per second, rates; glia's time per phase; Brunel's delivery rate
# against the scatter-add micro-benchmark. Raw data: bench/results/latest.json.
#
#   --quick       short durations, 1 repetition (smoke test; under 2 minutes once the
#                 Brian2 projects are compiled; compiling them the first time adds about
#                 25 s per network and thread count)
#   --duration    simulated ms for every network (defaults: Brunel 1000, others 20000)
#   --cold        recompile the Brian2 projects (bench/results/brian2_build) from scratch
#   --wait-idle S before each run, wait up to S seconds while someone else's compiler,
#                 build or simulator runs (run.py lists what it sees and the load)
#   --no-build    skip setup and build, use the existing build/glia
# The machine should be otherwise idle: run.py prints the load average and any compiler
# or simulator running beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

install_missing() {
  local missing=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bench: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "bench: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build=1
for arg in "$@"; do
  case "$arg" in --no-build | -h | --help) build=0 ;; esac
done
if [ "$build" -eq 1 ]; then
  scripts/setup.sh
  install_missing python3-brian time
  scripts/build.sh
fi
exec /usr/bin/python3 bench/run.py "$@"
