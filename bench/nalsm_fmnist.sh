#!/usr/bin/env bash
# The NALSM Fashion-MNIST comparison (issue 5): three variants on the same liquid, each
# over several seeds, through `glia run` with --set; prints per run and then mean +- sd of
# the test accuracy (at the best validation epoch) and the wall time of every pipeline.
#
#   bench/nalsm_fmnist.sh [--experiment FILE] [--seeds 1,2,3] [--variants nalsm,stdp,fixed]
#                         [--threads N] [--out DIR] [-- extra --set arguments ...]
#
#   nalsm   the experiment as written (astro_stdp with the astrocyte's feedback)
#   stdp    --set modulator.astro.w_astro=0.0: A stays at b_astro = A_plus, plain STDP
#   fixed   --set training.images=0: no training, the initial liquid
# Anything after -- is passed to every run (e.g. --set dataset.train=5000 for a quick
# look). Outputs: DIR/VARIANT_seedS.h5 (default DIR bench/results/nalsm_fmnist).
set -euo pipefail
cd "$(dirname "$0")/.."

experiment=experiments/nalsm_fmnist.toml
seeds=1,2,3
variants=nalsm,stdp,fixed
threads=0
out=bench/results/nalsm_fmnist
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --experiment) experiment=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "nalsm_fmnist.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
glia=${GLIA:-build/glia}
[ -x "$glia" ] || { echo "nalsm_fmnist.sh: $glia not built (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$out"

start=$(date +%s)
IFS=, read -ra vs <<< "$variants"
IFS=, read -ra ss <<< "$seeds"
# Seeds outside, variants inside: a comparison cut short still compares like with like.
for s in "${ss[@]}"; do
  for v in "${vs[@]}"; do
    case "$v" in
      nalsm) set_v=() ;;
      stdp) set_v=(--set modulator.astro.w_astro=0.0) ;;
      fixed) set_v=(--set training.images=0) ;;
      *) echo "nalsm_fmnist.sh: unknown variant $v" >&2; exit 2 ;;
    esac
    f="$out/${v}_seed${s}.h5"
    echo "== $v seed $s -> $f" >&2
    # The variant's own settings last, so that extra --set arguments cannot undo them.
    "$glia" run "$experiment" -o "$f" -q --threads "$threads" --set run.seed="$s" \
      "${extra[@]}" "${set_v[@]}" 2>&1 |
      grep -E '^(training|branching|features|readout|accuracy|wall time)' >&2 || true
    [ -f "$f" ] || { echo "nalsm_fmnist.sh: run $v seed $s failed" >&2; exit 1; }
  done
done 2>&1

/usr/bin/python3 - "$out" "$variants" "$seeds" "$(( $(date +%s) - start ))" <<'PY'
import statistics, sys, h5py
out, variants, seeds, total = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), int(sys.argv[4])
print(f"{'variant':8} {'seed':>4} {'test':>8} {'val':>8} {'epoch':>5} {'bf':>7} {'samples/s':>10} {'wall s':>8}")
summary = []
for v in variants:
    accs, walls = [], []
    for s in seeds:
        with h5py.File(f"{out}/{v}_seed{s}.h5", "r") as f:
            m = f["metrics"].attrs
            accs.append(float(m["test_accuracy"])); walls.append(float(m["pipeline_wall_time_s"]))
            bf = float(m["branching_factor"]) if "branching_factor" in m else float("nan")
            print(f"{v:8} {s:>4} {100*accs[-1]:8.2f} {100*float(m['val_accuracy']):8.2f} "
                  f"{int(m['best_epoch']):5d} {bf:7.3f} {float(m['feature_samples_per_second']):10.1f} {walls[-1]:8.1f}")
    sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
    summary.append((v, 100 * statistics.mean(accs), 100 * sd, statistics.mean(walls), len(accs)))
print()
for v, mean, sd, wall, n in summary:
    print(f"{v:8} test accuracy {mean:.2f} +- {sd:.2f} % over {n} seed(s), pipeline wall time {wall:.0f} s each")
print(f"total wall time {total} s")
PY
