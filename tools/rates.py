#!/usr/bin/python3
"""Mean firing rate and CV of inter-spike intervals per population of a glia results file
in a time window, e.g. after the initial transient (glia's own summary and /metrics cover
the whole run). Optionally compares with reference ranges.

  /usr/bin/python3 tools/rates.py results/microcircuit.h5 --t-min 500
  /usr/bin/python3 tools/rates.py out.h5 --t-min 500 --t-max 1500 --reference microcircuit

Only h5py and numpy are needed. A population's size is its `size` attribute (every
neuron, silent ones included).
"""
import argparse
import sys

import h5py
import numpy as np

# Potjans & Diesmann (2014) Fig. 6 / NEST's examples/Potjans_2014, full scale, Poisson
# drive, after a 500 ms transient (Hz).
REFERENCES = {
    "microcircuit": {
        "L23E": (0.3, 0.9),
        "L23I": (2.5, 3.0),
        "L4E": (4.0, 4.5),
        "L4I": (5.5, 6.0),
        "L5E": (6.5, 7.5),
        "L5I": (8.0, 8.5),
        "L6E": (1.0, 1.2),
        "L6I": (7.0, 8.0),
    }
}


def population_stats(group, t_min, t_max):
    """(size, spikes, rate in Hz, mean CV of ISIs over neurons with >= 3 spikes)."""
    t = group["timestamps"][()]
    ids = group["node_ids"][()]
    size = int(group.attrs.get("size", ids.max() + 1 if len(ids) else 0))
    keep = (t > t_min) & (t <= t_max)
    t, ids = t[keep], ids[keep]
    rate = len(t) / size / ((t_max - t_min) * 1e-3) if size else float("nan")
    order = np.lexsort((t, ids))
    t, ids = t[order], ids[order]
    cvs = []
    if len(t) > 1:
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], len(ids)]
        for a, b in zip(starts, ends):
            if b - a >= 3:
                isi = np.diff(t[a:b])
                cvs.append(isi.std() / isi.mean())
    return size, len(t), rate, (float(np.mean(cvs)) if cvs else float("nan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--t-min", type=float, default=0.0, help="window start (ms, exclusive)")
    ap.add_argument("--t-max", type=float, help="window end (ms; default: the run's duration)")
    ap.add_argument("--reference", choices=sorted(REFERENCES), help="print reference ranges")
    a = ap.parse_args()
    with h5py.File(a.file, "r") as f:
        t_max = a.t_max if a.t_max is not None else float(f.attrs["duration"])
        if not t_max > a.t_min:
            sys.exit(f"empty window ({a.t_min}, {t_max}] ms")
        ref = REFERENCES.get(a.reference, {})
        print(f"window ({a.t_min:g}, {t_max:g}] ms")
        print(f"{'population':<10} {'neurons':>8} {'spikes':>9} {'rate_hz':>8} {'cv_isi':>7}"
              + ("  reference_hz" if ref else ""))
        for name, group in f.get("spikes", {}).items():
            size, n, rate, cv = population_stats(group, a.t_min, t_max)
            line = f"{name:<10} {size:>8} {n:>9} {rate:>8.3f} {cv:>7.3f}"
            if name in ref:
                lo, hi = ref[name]
                line += f"  {lo:g}-{hi:g}" + ("" if lo <= rate <= hi else "  (outside)")
            print(line)


if __name__ == "__main__":
    main()
