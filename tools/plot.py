#!/usr/bin/python3
"""Overview figure of a glia results file (HDF5, SONATA layout).

One figure: a spike raster per population (stacked), population rates in 5 ms bins,
and one panel per recorded state variable. Only h5py, numpy and matplotlib are needed,
so it also serves as an example of reading the files without glia.

  /usr/bin/python3 tools/plot.py results/x.h5 -o x.png [--t-min MS --t-max MS --max-neurons N]
"""
import argparse
import bisect
import math
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)

RATE_BIN_MS = 5.0
TRACES_PER_PANEL = 5


class _Sorted:
    """Index-only view of a 1-D dataset, so bisect reads log(n) elements, not all."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return self.dataset.shape[0]

    def __getitem__(self, i):
        return self.dataset[i]


def read_spikes(f, t_min, t_max):
    """{population: (times, node_ids, size)} within [t_min, t_max]; spikes are sorted by time."""
    spikes = {}
    for name, group in f.get("spikes", {}).items():
        times = group["timestamps"]
        lo = 0 if t_min is None else bisect.bisect_left(_Sorted(times), t_min)
        hi = len(times) if t_max is None else bisect.bisect_right(_Sorted(times), t_max)
        t, ids = times[lo:hi], group["node_ids"][lo:hi]
        size = int(group.attrs.get("size", ids.max() + 1 if len(ids) else 0))
        spikes[name] = (t, ids, size)
    return spikes


def read_reports(f, t_min, t_max):
    """[(population, variable, units, times, data, node_ids)] with the first few neurons."""
    reports = []
    for population, variables in f.get("report", {}).items():
        for variable, group in variables.items():
            if "data" not in group:
                continue
            start, _, step = group["mapping/time"][()]
            rows = group["data"].shape[0]
            lo = 0 if t_min is None else max(0, math.ceil((t_min - start) / step))
            hi = rows if t_max is None else min(rows, math.floor((t_max - start) / step) + 1)
            lo, hi = min(lo, rows), max(min(lo, rows), hi)
            data = group["data"][lo:hi, :TRACES_PER_PANEL]
            units = group["data"].attrs.get("units", "")
            node_ids = group["mapping/node_ids"][:TRACES_PER_PANEL]
            times = start + step * np.arange(lo, hi)
            reports.append((population, variable, units, times, data, node_ids))
    return reports


def draw_raster(ax, spikes, colours, max_neurons):
    offset, ticks, labels = 0, [], []
    # Tick height about one row, so sparse rasters stay visible and dense ones do not smear.
    rows = sum(min(size, max_neurons) for _, _, size in spikes.values())
    tick = float(np.clip(250.0 / max(rows, 1), 1.0, 6.0))
    for (name, (t, ids, size)), colour in zip(spikes.items(), colours):
        shown = min(size, max_neurons)
        keep = ids < shown
        ax.plot(t[keep], ids[keep] + offset, "|", ms=tick, mew=0.6, color=colour)
        ticks.append(offset + shown / 2)
        labels.append(f"{name}\n({shown} of {size})" if shown < size else name)
        offset += shown
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_ylabel("neuron")


def draw_rates(ax, spikes, colours, t_range):
    # Whole bins only: a partial last bin would understate the rate.
    bins = int((t_range[1] - t_range[0]) // RATE_BIN_MS)
    edges = t_range[0] + RATE_BIN_MS * np.arange(bins + 1)
    for (name, (t, _, size)), colour in zip(spikes.items(), colours):
        if size == 0 or bins < 1:
            continue
        counts, _ = np.histogram(t, bins=edges)
        ax.stairs(counts / (size * RATE_BIN_MS / 1000.0), edges, color=colour, lw=1, label=name)
    ax.set_ylabel(f"rate (Hz)\n{RATE_BIN_MS:g} ms bins")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def draw_report(ax, report):
    population, variable, units, times, data, node_ids = report
    for column, node in enumerate(node_ids):
        ax.plot(times, data[:, column], lw=0.8, label=f"{node}")
    ax.set_ylabel(f"{population}\n{variable}" + (f" ({units})" if units else ""))
    if len(node_ids):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="x-small",
                  frameon=False, title="node", title_fontsize="x-small")


def time_range(spikes, reports, t_min, t_max):
    ends = [t[-1] for t, _, _ in spikes.values() if len(t)]
    ends += [times[-1] for _, _, _, times, _, _ in reports if len(times)]
    starts = [t[0] for t, _, _ in spikes.values() if len(t)]
    starts += [times[0] for _, _, _, times, _, _ in reports if len(times)]
    lo = t_min if t_min is not None else min(starts + [0.0])
    hi = t_max if t_max is not None else max(ends + [lo + RATE_BIN_MS])
    return lo, hi


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="glia results file (.h5)")
    parser.add_argument("-o", "--output", help="PNG to write (default: FILE with .png)")
    parser.add_argument("--t-min", type=float, help="start of the time window (ms)")
    parser.add_argument("--t-max", type=float, help="end of the time window (ms)")
    parser.add_argument("--max-neurons", type=int, default=200,
                        help="neurons shown per population in the raster (default 200)")
    args = parser.parse_args()
    output = args.output or args.file.rsplit(".", 1)[0] + ".png"

    with h5py.File(args.file, "r") as f:
        spikes = read_spikes(f, args.t_min, args.t_max)
        reports = read_reports(f, args.t_min, args.t_max)
        title = f.attrs.get("experiment_path", args.file)
    t_range = time_range(spikes, reports, args.t_min, args.t_max)

    heights = ([3.0, 1.2] if spikes else []) + [1.0] * len(reports)
    fig, axes = plt.subplots(len(heights) or 1, 1, sharex=True, squeeze=False,
                             figsize=(10, (1.5 + 1.6 * sum(heights)) if heights else 3),
                             gridspec_kw={"height_ratios": heights or [1]})
    axes = list(axes[:, 0])
    colours = plt.cm.tab10.colors
    if spikes:
        draw_raster(axes.pop(0), spikes, colours, args.max_neurons)
        draw_rates(axes.pop(0), spikes, colours, t_range)
    for ax, report in zip(axes, reports):
        draw_report(ax, report)
    if not heights:
        axes[0].text(0.5, 0.5, "no spikes or state reports in this file", ha="center",
                     va="center", transform=axes[0].transAxes)
        axes[0].set_yticks([])
    fig.axes[-1].set_xlabel("time (ms)")
    fig.axes[-1].set_xlim(*t_range)
    fig.suptitle(str(title))
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    print(output)


if __name__ == "__main__":
    sys.exit(main())
