"""Shared command line, device set-up, timing and report of the Brian2 reference scripts.

Every script takes the same arguments:

    NAME.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
            [--seeds K] [--counts FILE.npz] [--scale F]

--seeds K runs the seeds SEED, SEED + 1, ..., SEED + K - 1 one after the other in the same
process (runtime targets only), one BENCH_JSON line each: Brian2 is imported and its code
generated and compiled once, which is most of a short run's cost. --counts writes, for
the fidelity comparison (bench/fidelity.py), one row per run of: every neuron's spike
count and ISI coefficient of variation (NaN for neurons with fewer than two ISIs) and
the population's spike count per BIN_MS (arrays `seeds`, `<pop>_counts`, `<pop>_cv`,
`<pop>_binned`). --scale multiplies the population sizes of the scripts that support it
(Brunel: in-degrees are kept, so the mean-field input is the same).

TARGET is a runtime code-generation target (numpy, cython) or cpp_standalone, the one the
benchmark uses: the network is generated and compiled once (`device.build(run=False)`),
then the binary is run under /usr/bin/time. Reported times:

- run_time_s: the binary's own timer around the network's run loop (Brian2's
  `_last_run_time`, omp_get_wtime when OpenMP is on): no Python, no compilation, no
  synapse creation. In runtime mode: the wall time of `run()`, which then includes code
  generation (and Cython compilation when it is not cached).
- setup_time_s: the binary's wall time outside the run loop (loading static arrays,
  creating synapses, initial values, writing results), standalone only.
- compile_s: code generation and `make` (standalone only); python_build_s: building the
  network objects in Python.
- peak_rss_bytes: the binary's maximum resident set size from /usr/bin/time -f %M
  (standalone); the Python process's in runtime mode.

The last line of stdout is `BENCH_JSON {...}` with these times, neurons, synapses and per
population the size, spike count, rate (Hz) and mean CV of ISIs (neurons with at least
two ISIs, population standard deviation, as glia computes it).

Step conventions. A Brian2 step runs 'groups' (state update), 'thresholds', 'synapses'
and 'resets' in the order of the network's schedule; glia's step is fixed by its model.
The scripts choose the schedule that reproduces glia's step exactly (conventions.py
checks it against glia, spike for spike and trace for trace):

- LIF models (lif_delta, lif_exp, lif_cond_exp) add the input that arrives in a step
  after the subthreshold update and before the threshold: schedule INPUT_BEFORE_THRESHOLD.
- izhikevich takes it as a current pulse in the update of the step it arrives in (the
  paper's I += S(:, fired) ahead of the update): the synapses add to a variable `Isyn`
  that the update reads as Isyn / dt and then clears; schedule INPUT_BEFORE_UPDATE.
- A spike of step k reaches its synaptic pathway in the first 'synapses' slot after the
  thresholds of step k: step k + 1 when 'synapses' comes before 'thresholds' (that step's
  share of the delay is already spent), step k otherwise. glia applies it in step
  k + D/dt, so the Brian2 delay is D - dt in the first case and D in the second
  (`Setup.delay`). For the "delay one step" networks (COBA, CUBA) that is Brian2's zero
  delay.
- Brian2 counts the refractory period from the spike's time stamp t (the start of the
  step whose update crossed threshold), so `refractory=t_ref` clamps t_ref/dt - 1 steps
  after the spike step; glia and NEST clamp t_ref/dt steps. `Setup.refractory` adds dt.
"""
import argparse
import gc
import json
import os
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import brian2 as b2
from brian2 import ms

INPUT_BEFORE_THRESHOLD = ["start", "groups", "synapses", "thresholds", "resets", "end"]
INPUT_BEFORE_UPDATE = ["start", "synapses", "groups", "thresholds", "resets", "end"]
TIME_FILE = "bench_time.txt"
BIN_MS = 10.0
STAMP_FILE = "bench_project.json"


@dataclass
class Setup:
    """The parsed command line plus the step conventions of the script's model."""

    seed: int
    duration_ms: float
    target: str
    threads: int
    build_dir: str
    dt_ms: float
    schedule: list
    counts: str = None
    scale: float = 1.0
    n_seeds: int = 1

    def delay(self, d):
        """Brian2 delay that makes a spike act in the same step as glia's delay d."""
        dt = self.dt_ms * ms
        if self.schedule.index("synapses") < self.schedule.index("thresholds"):
            return d - dt
        return d

    def refractory(self, t_ref):
        """Brian2 refractory period that clamps as many steps as glia's t_ref."""
        return t_ref + self.dt_ms * ms

    @property
    def standalone(self):
        return self.target == "cpp_standalone"


def parse_args(default_target):
    """Command line shared by the scripts (see the module docstring)."""
    p = argparse.ArgumentParser()
    p.add_argument("seed", nargs="?", type=int, default=1)
    p.add_argument("duration", nargs="?", type=float, default=1000.0, help="ms")
    p.add_argument("target", nargs="?", default=default_target,
                   choices=["numpy", "cython", "cpp_standalone"])
    p.add_argument("--threads", type=int, default=1,
                   help="OpenMP threads of the standalone binary; 0: no OpenMP (the run "
                        "loop is then timed with std::clock, CPU time)")
    p.add_argument("--build-dir", default=None,
                   help="standalone project directory (default: a new temporary one)")
    p.add_argument("--seeds", type=int, default=1,
                   help="run this many consecutive seeds from SEED in one process "
                        "(runtime targets)")
    p.add_argument("--counts", default=None,
                   help="write per-neuron spike counts, ISI CVs and binned population "
                        "counts of every run to this .npz file")
    p.add_argument("--scale", type=float, default=1.0,
                   help="population size factor (scripts that support it)")
    return p.parse_args()


def setup(default_target="numpy", dt_ms=0.1, schedule=INPUT_BEFORE_THRESHOLD):
    """Parses the arguments, selects the device, seeds Brian2, sets dt and the schedule."""
    a = parse_args(default_target)
    if a.threads < 0:
        raise SystemExit("--threads must be >= 0")
    s = Setup(a.seed, a.duration, a.target, a.threads, a.build_dir, dt_ms, schedule, a.counts,
              a.scale, a.seeds)
    if not a.scale > 0:
        raise SystemExit("--scale must be > 0")
    if a.seeds < 1 or (a.seeds > 1 and s.standalone):
        raise SystemExit("--seeds must be >= 1, and 1 with cpp_standalone")
    if s.standalone:
        s.build_dir = s.build_dir or tempfile.mkdtemp(prefix="glia_bench_brian2_")
        os.makedirs(s.build_dir, exist_ok=True)
        b2.set_device("cpp_standalone", build_on_run=False, directory=s.build_dir)
        b2.prefs.devices.cpp_standalone.openmp_threads = s.threads
    else:
        b2.prefs.codegen.target = s.target
    b2.seed(s.seed)
    b2.defaultclock.dt = dt_ms * ms
    return s


def rng(s):
    """NumPy generator for connectivity drawn in Python (b2.seed does not seed NumPy's
    global generator in standalone mode)."""
    return np.random.default_rng(s.seed)


def cv_per_neuron(monitor):
    """std/mean of each neuron's ISIs; NaN for neurons with fewer than two ISIs."""
    out = []
    for ts in monitor.spike_trains().values():
        isi = np.diff(np.asarray(ts / ms))
        out.append(isi.std() / isi.mean() if len(isi) >= 2 else np.nan)
    return np.asarray(out, dtype=float)


def mean_cv_isi(monitor):
    """Mean over neurons with >= 2 ISIs of std/mean of the ISIs."""
    cvs = cv_per_neuron(monitor)
    cvs = cvs[~np.isnan(cvs)]
    return float(np.mean(cvs)) if len(cvs) else 0.0


def spike_arrays(populations, duration_ms):
    """Per population: spike count and ISI CV of every neuron, spike count per BIN_MS."""
    bins = int(np.ceil(duration_ms / BIN_MS))
    arrays = {}
    for pop, (mon, size) in populations.items():
        arrays[pop + "_counts"] = np.bincount(np.asarray(mon.i, dtype=np.int64), minlength=size)
        arrays[pop + "_cv"] = cv_per_neuron(mon)
        arrays[pop + "_binned"] = np.histogram(np.asarray(mon.t / ms), bins=bins,
                                               range=(0.0, bins * BIN_MS))[0]
    return arrays


def _reuse_or_clear(s, name):
    """Keeps a project directory only for the same script, thread count and Brian2.

    Brian2 rewrites only the files whose text changed and lets make rebuild what they
    feed; but its make.deps is stale when a header changes (the thread count changes
    synapses_classes.h), so objects built for another thread count would be linked in
    silently (seen: Brunel's I population at 95 Hz). Such a directory is emptied."""
    stamp = {"network": name, "threads": s.threads, "brian2": b2.__version__}
    path = os.path.join(s.build_dir, STAMP_FILE)
    try:
        with open(path) as f:
            same = json.load(f) == stamp
    except (OSError, ValueError):
        entries = set(os.listdir(s.build_dir))
        if entries and not {"makefile", "brianlib"} <= entries:
            raise SystemExit(f"{s.build_dir} is neither empty nor a Brian2 project")
        same = not entries
    if not same:
        shutil.rmtree(s.build_dir)
        os.makedirs(s.build_dir)
    with open(path, "w") as f:
        json.dump(stamp, f)


def _run_standalone(s, name):
    """Generates, compiles and runs the project; returns the measured times."""
    _reuse_or_clear(s, name)
    device = b2.get_device()
    t0 = time.perf_counter()
    device.build(directory=s.build_dir, compile=True, run=False, with_output=False)
    compile_s = time.perf_counter() - t0
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [
        "/usr/bin/time", "-f", "%M", "-o", TIME_FILE, "./main"]
    device.run(s.build_dir, with_output=False, run_args=[])
    with open(os.path.join(s.build_dir, TIME_FILE)) as f:
        rss_kib = int(f.read().split()[-1])
    run_s = float(device._last_run_time)
    wall_s = float(device.timers["run_binary"])
    return {"run_time_s": run_s, "binary_wall_s": wall_s, "setup_time_s": wall_s - run_s,
            "compile_s": compile_s, "peak_rss_bytes": rss_kib * 1024}


def run(s, net, populations, synapses, name, namespace, t_start):
    """Runs the network for the requested duration and prints the BENCH_JSON line.

    net: the b2.Network of every object; populations: {name: (SpikeMonitor, size)};
    synapses: the Synapses objects; namespace: the constants of the model's code;
    t_start: when building the network began. Returns the result and, with --counts,
    the run's spike_arrays."""
    net.schedule = list(s.schedule)
    t_python = time.perf_counter() - t_start
    if s.standalone:
        net.run(s.duration_ms * ms, namespace=namespace)
        times = _run_standalone(s, name)
    else:
        t0 = time.perf_counter()
        net.run(s.duration_ms * ms, namespace=namespace)
        run_s = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        times = {"run_time_s": run_s, "binary_wall_s": None, "setup_time_s": None,
                 "compile_s": None, "peak_rss_bytes": rss}
    t_s = s.duration_ms / 1000.0
    pops = {}
    for pop, (mon, size) in populations.items():
        n = int(mon.num_spikes)
        pops[pop] = {"size": size, "spikes": n, "rate_hz": n / (size * t_s),
                     "cv_isi": mean_cv_isi(mon)}
    result = {
        "simulator": "brian2", "network": name, "brian2_version": b2.__version__,
        "target": s.target, "threads": s.threads if s.standalone else 1, "seed": s.seed,
        "dt_ms": s.dt_ms, "duration_ms": s.duration_ms,
        "neurons": sum(p["size"] for p in pops.values()),
        "synapses": int(sum(len(S) for S in synapses)),
        "spikes_total": sum(p["spikes"] for p in pops.values()),
        "populations": pops, "python_build_s": t_python, **times,
    }
    print("BENCH_JSON " + json.dumps(result), flush=True)
    return result, spike_arrays(populations, s.duration_ms) if s.counts else None


def main(build, name, namespace, default_target="numpy", dt_ms=0.1,
         schedule=INPUT_BEFORE_THRESHOLD):
    """A script's command line: set-up, then build(setup) -> (net, populations, synapses)
    and run for every requested seed; writes --counts at the end."""
    s = setup(default_target, dt_ms, schedule)
    first, rows, t_start = s.seed, [], _T_START
    for seed in range(first, first + s.n_seeds):
        s.seed = seed
        b2.seed(seed)
        rows.append(run(s, *build(s), name, namespace, t_start)[1])
        # The run's objects must be gone before the next build: their names are then
        # free again, so the next build generates the same code and Brian2 takes it from
        # its cache instead of compiling it anew.
        gc.collect()
        t_start = time.perf_counter()
    if s.counts:
        np.savez(s.counts, seeds=np.arange(first, first + s.n_seeds),
                 **{k: np.stack([r[k] for r in rows]) for k in rows[0]})


_T_START = time.perf_counter()
