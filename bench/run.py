#!/usr/bin/python3
"""glia against Brian2 on the benchmark networks of MODELS.md (driven by bench/run.sh).

For each network, each thread count and each repetition, glia and Brian2 (C++ standalone
device, compiled before it is timed) run the same network one after the other; then a
table per network gives, for both simulators: wall time per simulated second (median,
min-max), the ratio Brian2 / glia, network build time, peak memory and bytes per
synapse, synaptic events per second, firing rates and CV of ISIs; plus glia's time per
phase in percent, and Brunel's delivery rate against the scatter-add micro-benchmark of
this machine. Everything printed is measured in this run; the raw records and the
summaries also go to bench/results/latest.json.

Definitions:
- wall per simulated second: glia's wall_time_s (the step loop, /metrics) and Brian2's
  own timer around its run loop (no Python, compilation or synapse creation), divided by
  the simulated seconds.
- build: glia's build_time_s (network construction); for Brian2 the binary's wall time
  outside the run loop (loading arrays, creating synapses, initialising, writing
  results). Brian2's code generation + make of the first repetition is reported apart
  (a full compile only when its project directory is new or was built otherwise).
- peak RSS: glia's getrusage maximum; Brian2's standalone binary under /usr/bin/time
  (the binary alone, without the Python process that generated it).
- synaptic events: spikes x mean out-degree (synapses / neurons), per second of wall.
- glia's time per phase: /metrics time_*_s of the repetition with the median wall time.
- recording: both record every spike and nothing else (the Brian2 scripts have spike
  monitors only; glia's experiment files' other records are turned off with --set
  record.N.enabled=false).
- Brunel's delivery rate: glia's events / time_propagate_s, against glia_scatter_add
  (run at the start and at the end; the faster of the two per layout and thread count).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PHASES = ["inputs", "integrate", "record", "propagate", "learn", "flush", "wait"]
BUSY_NAMES = {"cc1plus", "cc1", "ld", "ld.gold", "ninja", "make", "glia", "glia_tests", "main"}


@dataclass(frozen=True)
class Network:
    """One benchmark row: the glia experiment, its Brian2 twin, default and quick
    durations (ms), and whether the scatter-add comparison applies (Brunel's geometry)."""

    key: str
    title: str
    experiment: str
    brian2: str
    duration_ms: float
    quick_ms: float
    scatter_ref: bool = False


NETWORKS = [
    Network("coba", "COBA", "experiments/coba.toml", "bench/brian2/coba.py", 20000, 200),
    Network("cuba", "CUBA", "experiments/cuba.toml", "bench/brian2/cuba.py", 20000, 200),
    Network("brunel", "Brunel (2000) model A", "experiments/brunel.toml",
            "bench/brian2/brunel.py", 1000, 100, scatter_ref=True),
    Network("izhikevich", "Izhikevich (2003)", "experiments/izhikevich2003.toml",
            "bench/brian2/izhikevich2003.py", 20000, 500),
    Network("brunel_stdp", "Brunel (2000) model A + STDP on E->E", "experiments/brunel_stdp.toml",
            "bench/brian2/brunel_stdp.py", 1000, 100),
]


# ---------------------------------------------------------------- command line, plan

def parse_args():
    keys = ",".join(n.key for n in NETWORKS)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", default=keys, help=f"comma-separated subset of {keys}")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    p.add_argument("--duration", type=float, default=None,
                   help="simulated ms for every network (default: per network)")
    p.add_argument("--quick", action="store_true", help="short runs, 1 repetition (smoke test)")
    p.add_argument("--cold", action="store_true",
                   help="delete the Brian2 projects first, so rep 1 compiles from scratch")
    p.add_argument("--wait-idle", type=float, default=0, metavar="S",
                   help="before each run, wait up to S seconds while a compiler, build or "
                        "simulator of someone else is running")
    p.add_argument("--no-build", action="store_true", help="(run.sh) use the existing build")
    p.add_argument("--glia", default=str(ROOT / "build" / "glia"))
    p.add_argument("--output", default=str(RESULTS / "latest.json"))
    a = p.parse_args()
    by_key = {n.key: n for n in NETWORKS}
    unknown = [k for k in a.networks.split(",") if k not in by_key]
    if unknown:
        p.error(f"unknown network(s) {', '.join(unknown)}; choose from {keys}")
    a.networks = [by_key[k] for k in a.networks.split(",")]
    a.threads = [int(t) for t in a.threads.split(",")]
    if any(t < 1 for t in a.threads):
        p.error("thread counts must be >= 1")
    if a.reps is None:
        a.reps = 1 if a.quick else 3
    return a


def duration_of(net, args):
    if args.duration is not None:
        return args.duration
    return net.quick_ms if args.quick else net.duration_ms


def experiment(net):
    with open(ROOT / net.experiment, "rb") as f:
        return tomllib.load(f)


def machine_info():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    brian2 = subprocess.run(["/usr/bin/python3", "-c", "import brian2; print(brian2.__version__)"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "glia_git": git, "brian2_version": brian2,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def print_plan(args, info):
    print(f"machine: {info['cpu']}, {info['cores']} cores; glia {info['glia_git']}, "
          f"Brian2 {info['brian2_version']} (C++ standalone, OpenMP threads = glia threads)")
    print(f"plan: {args.reps} repetition(s) x threads {args.threads}, glia and Brian2 "
          "alternating:")
    n_runs = 0
    for net in args.networks:
        ex = experiment(net)
        neurons = sum(p["size"] for p in ex["population"])
        runs = 2 * args.reps * len(args.threads)
        n_runs += runs
        print(f"  {net.title:<24} {neurons:>6} neurons, dt {ex['run']['dt']} ms, "
              f"{duration_of(net, args):g} ms simulated, {runs} runs")
    print(f"  {n_runs} runs in all, plus the scatter-add micro-benchmark; Brian2 projects in "
          f"{(RESULTS / 'brian2_build').relative_to(ROOT)} "
          f"({'rebuilt from scratch' if args.cold else 'reused: incremental make'})")
    return n_runs


# ---------------------------------------------------------------- machine load

def busy_processes():
    """Names of compilers, builds and simulators running now (other people's work)."""
    found = []
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name in BUSY_NAMES:
            found.append(name)
    return sorted(found)


def load_snapshot(wait_s=0.0):
    """Load average and other people's busy processes, after waiting up to wait_s
    seconds for the latter to finish."""
    waited = 0.0
    while waited < wait_s and busy_processes():
        time.sleep(5)
        waited += 5
    return {"loadavg_1min": os.getloadavg()[0], "busy": busy_processes(), "waited_s": waited}


# ---------------------------------------------------------------- runners

def run_glia(args, net, threads, duration_ms, workdir):
    out = workdir / f"{net.key}_t{threads}.h5"
    cmd = [args.glia, "run", str(ROOT / net.experiment), "-o", str(out), "-q",
           "--set", f"run.duration={duration_ms}", "--threads", str(threads)]
    # The Brian2 scripts record spikes only: glia's other records (a V_m trace, weight
    # histograms and chosen synapses) are turned off so both do the same work.
    for i, rec in enumerate(experiment(net).get("record", [])):
        if rec.get("type") != "spikes":
            cmd += ["--set", f"record.{i}.enabled=false"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"glia exited with {p.returncode}: {p.stderr.strip()[-2000:]}")
    with h5py.File(out) as f:
        m = {k: v.item() if hasattr(v, "item") else v for k, v in f["metrics"].attrs.items()}
    out.unlink()
    pops = sorted(k[len("rate_"):-len("_hz")] for k in m if k.startswith("rate_"))
    return {
        "wall_s": m["wall_time_s"], "build_s": m["build_time_s"], "compile_s": None,
        "peak_rss_bytes": m["peak_rss_bytes"], "network_bytes": m["network_bytes"],
        "synapses": m["synapses"], "neurons": m["neurons"], "spikes_total": m["spikes_total"],
        "simulated_ms": m["simulated_ms"],
        "rates_hz": {p: m[f"rate_{p}_hz"] for p in pops},
        "cv_isi": {p: m[f"cv_isi_{p}"] for p in pops},
        "phases_s": {ph: m.get(f"time_{ph}_s", 0.0) for ph in PHASES},
        # Several threads: the least and the most busy thread's time at work.
        "busy_s": ([m["time_busy_min_s"], m["time_busy_max_s"]]
                   if "time_busy_min_s" in m else None),
    }


def run_brian2(net, threads, duration_ms, seed):
    build_dir = RESULTS / "brian2_build" / f"{net.key}_t{threads}"
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["/usr/bin/python3", str(ROOT / net.brian2), str(seed), str(duration_ms),
           "cpp_standalone", "--threads", str(threads), "--build-dir", str(build_dir)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = [l for l in p.stdout.splitlines() if l.startswith("BENCH_JSON ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"Brian2 exited with {p.returncode}: "
                           f"{(p.stderr + p.stdout).strip()[-2000:]}")
    r = json.loads(lines[-1][len("BENCH_JSON "):])
    pops = r["populations"]
    return {
        "wall_s": r["run_time_s"], "build_s": r["setup_time_s"], "compile_s": r["compile_s"],
        "python_build_s": r["python_build_s"], "binary_wall_s": r["binary_wall_s"],
        "peak_rss_bytes": r["peak_rss_bytes"], "synapses": r["synapses"],
        "neurons": r["neurons"], "spikes_total": r["spikes_total"],
        "simulated_ms": r["duration_ms"],
        "rates_hz": {k: v["rate_hz"] for k, v in pops.items()},
        "cv_isi": {k: v["cv_isi"] for k, v in pops.items()},
    }


def derive(rec):
    """Per-run quantities that the tables use."""
    sim_s = rec["simulated_ms"] / 1000.0
    events = rec["spikes_total"] * rec["synapses"] / rec["neurons"]
    rec["wall_per_sim_s"] = rec["wall_s"] / sim_s
    rec["events"] = events
    rec["events_per_s"] = events / rec["wall_s"] if rec["wall_s"] > 0 else None
    rec["bytes_per_synapse"] = rec["peak_rss_bytes"] / rec["synapses"] if rec["synapses"] else None
    prop = rec.get("phases_s", {}).get("propagate")
    rec["delivery_per_s"] = events / prop if prop else None
    return rec


def run_scatter_add(args):
    """Runs the micro-benchmark (built with glia, else compiled here with g++)."""
    exe = Path(args.glia).parent / "bench" / "glia_scatter_add"
    if not exe.exists():
        exe = RESULTS / "glia_scatter_add"
        src = ROOT / "bench" / "scatter_add.cpp"
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["g++", "-O3", "-march=native", "-std=c++20", "-pthread", str(src),
                            "-o", str(exe)], check=True)
    cmd = [str(exe), "--json"] + (["--seconds", "0.1"] if args.quick else [])
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return {"executable": str(exe.relative_to(ROOT)), **json.loads(p.stdout)}


# ---------------------------------------------------------------- statistics, tables

def med(recs, key):
    vals = [r[key] for r in recs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def profile_of(recs):
    """Phase times of the repetition with the median wall time (phases of different
    repetitions do not add up to one wall time)."""
    if "phases_s" not in recs[0]:
        return None
    r = sorted(recs, key=lambda r: r["wall_s"])[(len(recs) - 1) // 2]
    return {"rep": r["rep"], "wall_s": r["wall_s"], "phases_s": r["phases_s"],
            "busy_s": r.get("busy_s")}


def busy_gap(rec):
    """How much longer the busiest thread worked than the least busy one, in %."""
    lo, hi = rec["busy_s"]
    return 100 * (hi / lo - 1) if lo > 0 else 0.0


def summarize(recs):
    """Median (and range of the wall time) over the repetitions of one configuration."""
    if not recs:
        return None
    walls = [r["wall_per_sim_s"] for r in recs]
    pops = recs[0]["rates_hz"].keys()
    return {
        "reps": len(recs),
        "wall_per_sim_s": {"median": statistics.median(walls), "min": min(walls),
                           "max": max(walls)},
        "build_s": med(recs, "build_s"),
        "compile_s_first_rep": recs[0].get("compile_s"),
        "peak_rss_bytes": med(recs, "peak_rss_bytes"),
        "bytes_per_synapse": med(recs, "bytes_per_synapse"),
        "events_per_s": med(recs, "events_per_s"),
        "delivery_per_s": med(recs, "delivery_per_s"),
        "synapses": recs[0]["synapses"], "neurons": recs[0]["neurons"],
        "rates_hz": {p: statistics.median(r["rates_hz"][p] for r in recs) for p in pops},
        "cv_isi": {p: statistics.median(r["cv_isi"][p] for r in recs) for p in pops},
        "profile": profile_of(recs),
        "busy_gap_pct": [busy_gap(r) for r in recs if r.get("busy_s")],
        "wall_s": med(recs, "wall_s"),
        "loadavg_1min_max": max(r["load"]["loadavg_1min"] for r in recs),
        "busy": sorted({b for r in recs for b in r["load"]["busy"]}),
    }


def sig3(x):
    """About three significant digits, without exponent for the ranges printed here."""
    a = abs(x)
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt_seconds(x):
    return "-" if x is None else f"{sig3(x)} s"


def fmt_bytes(x):
    if x is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if x >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{x:.0f} B"


def fmt_rate(x):
    if x is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{sig3(x / scale)} {unit}/s"
    return f"{sig3(x)} /s"


def table_rows(cols):
    """cols: list of (header, summary, is_brian2, glia summary of the same threads)."""
    rows = [("", [h for h, *_ in cols])]

    def row(label, f):
        rows.append((label, [f(s, b, g) if s else "-" for _, s, b, g in cols]))

    row("wall / simulated s", lambda s, b, g: fmt_seconds(s["wall_per_sim_s"]["median"]))
    row("  min - max", lambda s, b, g: f"{sig3(s['wall_per_sim_s']['min'])} - "
                                        f"{sig3(s['wall_per_sim_s']['max'])}")
    row("Brian2 / glia", lambda s, b, g: (
        f"{s['wall_per_sim_s']['median'] / g['wall_per_sim_s']['median']:.2f} x"
        if b and g else ""))
    row("build", lambda s, b, g: fmt_seconds(s["build_s"]))
    row("codegen + make (rep 1)",
        lambda s, b, g: fmt_seconds(s["compile_s_first_rep"]) if b else "")
    row("peak RSS", lambda s, b, g: fmt_bytes(s["peak_rss_bytes"]))
    row("bytes / synapse", lambda s, b, g: f"{s['bytes_per_synapse']:.1f}"
        if s["bytes_per_synapse"] is not None else "-")
    row("synaptic events / s", lambda s, b, g: fmt_rate(s["events_per_s"]))
    for pop in next(s for _, s, _, _ in cols if s)["rates_hz"]:
        row(f"rate {pop} (Hz)", lambda s, b, g, p=pop: f"{s['rates_hz'].get(p, float('nan')):.2f}")
    for pop in next(s for _, s, _, _ in cols if s)["cv_isi"]:
        row(f"CV ISI {pop}", lambda s, b, g, p=pop: f"{s['cv_isi'].get(p, float('nan')):.3f}")
    return rows


def print_table(rows):
    width0 = max(len(r[0]) for r in rows)
    widths = [max(len(r[1][i]) for r in rows) for i in range(len(rows[0][1]))]
    for label, cells in rows:
        padded = "".join("  " + c.rjust(w) for c, w in zip(cells, widths))
        print("  " + label.ljust(width0) + padded)


def print_network(net, summ, args, duration_ms, scatter):
    any_s = next((s for s in summ.values() if s), None)
    if any_s is None:
        print(f"\n{net.title}: no successful run")
        return
    print(f"\n== {net.title}: {any_s['neurons']} neurons, {any_s['synapses']:,} synapses, "
          f"{duration_ms:g} ms simulated, {args.reps} rep(s) ==")
    cols = []
    for t in args.threads:
        g, b = summ.get(("glia", t)), summ.get(("brian2", t))
        cols += [(f"glia {t}T", g, False, g), (f"Brian2 {t}T", b, True, g)]
    print_table(table_rows(cols))
    print_profile(summ, args.threads)
    if net.scatter_ref and scatter:
        print_delivery(summ, args.threads, scatter)
    loads = [s for s in summ.values() if s]
    worst = max(s["loadavg_1min_max"] for s in loads)
    busy = sorted({b for s in loads for b in s["busy"]})
    print(f"  machine: 1-min load average up to {worst:.2f} on {os.cpu_count()} cores"
          + (f"; also running: {', '.join(busy)} (timings disturbed)" if busy else ""))


def print_profile(summ, threads):
    for t in threads:
        g = summ.get(("glia", t))
        if not g or not g["profile"]:
            continue
        p = g["profile"]
        wall, phases = p["wall_s"], p["phases_s"]
        parts = [f"{ph} {100 * phases[ph] / wall:.1f}%" for ph in PHASES]
        other = 100 * (wall - sum(phases.values())) / wall
        other = 0.0 if abs(other) < 0.05 else other  # timer rounding, not a negative cost
        print(f"  glia {t}T time per phase (% of wall, rep {p['rep']}): " + ", ".join(parts)
              + f", other {other:.1f}%")
        gaps = g.get("busy_gap_pct")
        if gaps:
            # The blocks carry equal shares of the work: a gap beyond a few % is a core
            # running slower than the other, and its cost is the barrier wait above.
            print(f"  glia {t}T busiest thread's work above the least busy one's: "
                  + ", ".join(f"{x:.0f}%" for x in gaps) + " (by repetition)")


def print_delivery(summ, threads, scatter):
    for t in threads:
        g = summ.get(("glia", t))
        if not g or not g["delivery_per_s"]:
            continue
        ref = {r["layout"]: r["updates_per_s"] for r in scatter["results"] if r["threads"] == t}
        if not ref:
            continue
        rel = ", ".join(f"{100 * g['delivery_per_s'] / v:.0f}% of {k} ({fmt_rate(v)})"
                        for k, v in sorted(ref.items()))
        print(f"  glia {t}T delivery (events / propagate time): {fmt_rate(g['delivery_per_s'])}"
              f" = {rel} in glia_scatter_add (best of start and end)")


def best_scatter(runs):
    """The faster of the micro-benchmark's runs per layout and thread count (a capability
    of the machine: the slower one was disturbed), with the runs themselves."""
    best = {}
    for run in runs:
        for r in run["results"]:
            key = (r["layout"], r["threads"])
            if key not in best or r["updates_per_s"] > best[key]["updates_per_s"]:
                best[key] = r
    return {**runs[0], "results": list(best.values()), "runs": runs}


def print_scatter(scatter, when):
    print(f"\nscatter-add micro-benchmark {when} ({scatter['executable']}): slot of "
          f"{scatter['size']} doubles, rows of {scatter['row']} sorted targets "
          f"(load {scatter['load']['loadavg_1min']:.2f})")
    for r in scatter["results"]:
        print(f"  {r['layout']:<6} ({r['rows']:>5} rows, {fmt_bytes(r['index_bytes']):>9} of "
              f"indices) {r['threads']} thread{'s' if r['threads'] > 1 else ' '}: "
              f"{fmt_rate(r['updates_per_s'])}")


# ---------------------------------------------------------------- main loop

def run_network(args, net, workdir, counter, records, failures):
    duration_ms = duration_of(net, args)
    seed = experiment(net)["run"]["seed"]
    for threads in args.threads:
        for rep in range(1, args.reps + 1):
            for sim in ("glia", "brian2"):
                counter[0] += 1
                load = load_snapshot(args.wait_idle)
                t0 = time.perf_counter()
                try:
                    rec = (run_glia(args, net, threads, duration_ms, workdir) if sim == "glia"
                           else run_brian2(net, threads, duration_ms, seed))
                except (RuntimeError, OSError, KeyError, ValueError) as e:
                    failures.append(f"{net.key} {sim} {threads}T rep {rep}: {e}")
                    print(f"[{counter[0]:>3}/{counter[1]}] {net.key} {sim} {threads}T rep {rep}: "
                          f"FAILED: {e}", flush=True)
                    continue
                rec.update(network=net.key, simulator=sim, threads=threads, rep=rep, load=load,
                           duration_ms=duration_ms, elapsed_s=time.perf_counter() - t0)
                records.append(derive(rec))
                rates = " ".join(f"{p} {v:.2f}" for p, v in rec["rates_hz"].items())
                print(f"[{counter[0]:>3}/{counter[1]}] {net.key:<10} {sim:<6} {threads}T rep {rep}:"
                      f" {rec['wall_per_sim_s']:.4g} s per simulated s, rates {rates} Hz "
                      f"(load {load['loadavg_1min']:.2f}, {rec['elapsed_s']:.0f} s)", flush=True)
    return {(sim, t): summarize([r for r in records if r["network"] == net.key
                                 and r["simulator"] == sim and r["threads"] == t])
            for sim in ("glia", "brian2") for t in args.threads}


def save(path, info, args, scatter, records, summaries, failures):
    data = {
        "meta": info,
        "plan": {"networks": [n.key for n in args.networks], "threads": args.threads,
                 "reps": args.reps, "quick": args.quick,
                 "duration_ms": {n.key: duration_of(n, args) for n in args.networks}},
        "scatter_add": scatter, "runs": records, "failures": failures,
        "summary": {net: {f"{sim}_{t}T": s for (sim, t), s in summ.items()}
                    for net, summ in summaries.items()},
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def main():
    args = parse_args()
    if not Path(args.glia).exists():
        sys.exit(f"bench: {args.glia} not found (run scripts/build.sh)")
    if not Path("/usr/bin/time").exists():
        sys.exit("bench: /usr/bin/time not found (Debian package 'time'; bench/run.sh installs it)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.cold:
        shutil.rmtree(RESULTS / "brian2_build", ignore_errors=True)
    workdir = RESULTS / "tmp"
    workdir.mkdir(exist_ok=True)
    info = machine_info()
    counter = [0, print_plan(args, info)]
    start = load_snapshot()
    print(f"load now: {start['loadavg_1min']:.2f}"
          + (f"; running: {', '.join(start['busy'])} - timings may be disturbed"
             if start["busy"] else ""), flush=True)

    load = load_snapshot(args.wait_idle)
    scatter_runs = [{**run_scatter_add(args), "load": load}]
    print_scatter(scatter_runs[0], "at the start")
    print(flush=True)
    records, failures, summaries = [], [], {}
    for net in args.networks:
        summaries[net.key] = run_network(args, net, workdir, counter, records, failures)
        save(args.output, info, args, best_scatter(scatter_runs), records, summaries, failures)
    load = load_snapshot(args.wait_idle)
    scatter_runs.append({**run_scatter_add(args), "load": load})
    print_scatter(scatter_runs[1], "at the end")
    scatter = best_scatter(scatter_runs)
    for net in args.networks:
        print_network(net, summaries[net.key], args, duration_of(net, args), scatter)
    info["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save(args.output, info, args, scatter, records, summaries, failures)
    out = Path(args.output).resolve()
    print(f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if failures:
        print(f"{len(failures)} run(s) failed:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
