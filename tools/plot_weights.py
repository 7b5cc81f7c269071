#!/usr/bin/python3
"""Weight (and delay) figure of a glia results file: the /weights reports.

One row per recorded projection and variable: on the left, how the values evolve (the
distribution over time as a grey map when a histogram was recorded, the chosen synapses
as coloured lines on top); on the right, the final distribution (the last histogram, or a
histogram of the last snapshot of the chosen synapses), with the first one dashed.
Only h5py, numpy and matplotlib are needed.

  /usr/bin/python3 tools/plot_weights.py results/x.h5 -o x.png [--projection NAME --max-synapses N]
"""
import argparse
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)
import matplotlib.ticker  # noqa: E402

SNAPSHOT_BINS = 30


def sample_times(group, rows):
    """Times (ms) of a report's rows, from mapping/time [start, stop, step] or mapping/times."""
    mapping = group["mapping"]
    if "times" in mapping:
        return mapping["times"][:rows]
    start, _, step = mapping["time"][()]
    return start + step * np.arange(rows)


def read_weights(f, only):
    """[(projection, variable, synapses or None, histogram or None)] in file order."""
    out = []
    for projection, variables in f.get("weights", {}).items():
        if only and projection not in only:
            continue
        # Weights first, then delays (HDF5 lists names alphabetically).
        for variable, group in sorted(variables.items(), key=lambda v: v[0] != "weight"):
            synapses = histogram = None
            if "synapses" in group:
                g = group["synapses"]
                data = g["data"][()]
                synapses = {
                    "data": data,
                    "times": sample_times(g, data.shape[0]),
                    "pre": g["mapping/pre"][()],
                    "post": g["mapping/post"][()],
                    "units": g["data"].attrs.get("units", ""),
                }
            if "histogram" in group:
                g = group["histogram"]
                counts = g["counts"][()]
                histogram = {
                    "counts": counts,
                    "edges": g["bin_edges"][()],
                    "under": g["underflow"][()],
                    "over": g["overflow"][()],
                    "times": sample_times(g, counts.shape[0]),
                    "n": int(g.attrs.get("n_synapses", counts.sum(axis=1).max(initial=0))),
                    "units": g["bin_edges"].attrs.get("units", ""),
                }
            out.append((projection, variable, synapses, histogram))
    return out


def value_range(synapses, histogram):
    """The values that occur: the occupied bins and the recorded synapses, padded by 5 %."""
    lo, hi = [], []
    if histogram is not None and histogram["counts"].size:
        occupied = np.flatnonzero(histogram["counts"].sum(axis=0))
        if len(occupied):
            lo.append(histogram["edges"][occupied[0]])
            hi.append(histogram["edges"][occupied[-1] + 1])
    if synapses is not None and synapses["data"].size:
        lo.append(synapses["data"].min())
        hi.append(synapses["data"].max())
    if not lo:
        return None
    lo, hi = min(lo), max(hi)
    pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(lo), 1.0)
    return lo - pad, hi + pad


def draw_evolution(ax, variable, synapses, histogram, max_synapses):
    units = (histogram or synapses)["units"]
    if histogram is not None and len(histogram["times"]):
        h = histogram
        # Log scale: the tails of a distribution that starts as one value stay visible.
        n = max(h["n"], 1)
        fraction = np.ma.masked_equal(h["counts"].T / n, 0.0)
        centres = 0.5 * (h["edges"][:-1] + h["edges"][1:])
        mesh = ax.pcolormesh(h["times"], centres, fraction, shading="nearest", cmap="Greys",
                             norm=matplotlib.colors.LogNorm(vmin=min(1.0 / n, 0.1), vmax=1.0))
        colourbar = ax.figure.colorbar(mesh, ax=ax, pad=0.01, fraction=0.04)
        colourbar.set_label("fraction of synapses", fontsize="small")
    if synapses is not None:
        shown = min(synapses["data"].shape[1], max_synapses)
        for column in range(shown):
            ax.plot(synapses["times"], synapses["data"][:, column], lw=1.0,
                    label=f"{synapses['pre'][column]} → {synapses['post'][column]}")
        title = "pre → post" + (f"\n({shown} of {synapses['data'].shape[1]})"
                                if shown < synapses["data"].shape[1] else "")
        ax.legend(loc="upper left", bbox_to_anchor=(1.12 if histogram else 1.0, 1.0),
                  fontsize="x-small", frameon=False, title=title, title_fontsize="x-small")
    times = np.concatenate([r["times"] for r in (synapses, histogram) if r is not None])
    if len(times) > 1:
        ax.set_xlim(times.min(), times.max())
    if (limits := value_range(synapses, histogram)) is not None:
        ax.set_ylim(*limits)
    ax.set_ylabel(f"{variable}" + (f" ({units})" if units else ""))
    ax.set_xlabel("time (ms)")


def draw_distribution(ax, variable, synapses, histogram):
    if histogram is not None and len(histogram["times"]):
        h = histogram
        first, last = h["counts"][0], h["counts"][-1]
        # Scaled to the final distribution; a narrower first one runs off the top.
        top = 1.1 * max(last.max(), 1)
        if len(h["times"]) > 1:
            clipped = " (off scale)" if first.max() > top else ""
            ax.stairs(first, h["edges"], color="0.5", ls="--", lw=1,
                      label=f"t = {h['times'][0]:g} ms{clipped}")
        ax.stairs(last, h["edges"], color="C0", lw=1.5, fill=False,
                  label=f"t = {h['times'][-1]:g} ms")
        ax.set_ylim(0, top)
        outside = int(h["under"][-1] + h["over"][-1])
        note = f"{h['n']} synapses" + (f", {outside} outside the bins" if outside else "")
        units = h["units"]
    else:
        s = synapses
        first, last = s["data"][0], s["data"][-1]
        lo, hi = min(first.min(), last.min()), max(first.max(), last.max())
        if hi == lo:  # one value: a narrow bin around it
            half = 0.05 * max(abs(lo), 1e-3)
            lo, hi = lo - half, hi + half
        edges = np.linspace(lo, hi, SNAPSHOT_BINS + 1)
        if len(s["times"]) > 1:
            ax.hist(first, bins=edges, histtype="step", color="0.5", ls="--",
                    label=f"t = {s['times'][0]:g} ms")
        ax.hist(last, bins=edges, histtype="step", color="C0", lw=1.5,
                label=f"t = {s['times'][-1]:g} ms")
        note = f"{s['data'].shape[1]} recorded synapses"
        units = s["units"]
    if histogram is not None and (limits := value_range(None, histogram)) is not None:
        ax.set_xlim(*limits)
    ax.set_xlabel(f"{variable}" + (f" ({units})" if units else ""))
    ax.set_ylabel("synapses")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(matplotlib.ticker.EngFormatter())
    # Above the axes: inside, it would cover the distribution wherever that lies.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="x-small",
              frameon=False, title=note, title_fontsize="small")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="glia results file (.h5)")
    parser.add_argument("-o", "--output", help="PNG to write (default: FILE with _weights.png)")
    parser.add_argument("--projection", action="append",
                        help="only this projection (repeatable; default: all recorded)")
    parser.add_argument("--max-synapses", type=int, default=12,
                        help="chosen synapses drawn per panel (default 12)")
    args = parser.parse_args()
    output = args.output or args.file.rsplit(".", 1)[0] + "_weights.png"

    with h5py.File(args.file, "r") as f:
        reports = read_weights(f, args.projection)
        title = f.attrs.get("experiment_path", args.file)
    if not reports:
        print(f"{args.file}: no weight reports (add a [[record]] type = \"weights\")",
              file=sys.stderr)
        return 1

    fig, axes = plt.subplots(len(reports), 2, squeeze=False, figsize=(12, 0.8 + 3.2 * len(reports)),
                             gridspec_kw={"width_ratios": [2.3, 1]})
    for row, (projection, variable, synapses, histogram) in enumerate(reports):
        left, right = axes[row]
        draw_evolution(left, variable, synapses, histogram, args.max_synapses)
        left.set_title(f"{projection}: {variable}", loc="left", fontsize="medium")
        draw_distribution(right, variable, synapses, histogram)
    fig.suptitle(str(title))
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
