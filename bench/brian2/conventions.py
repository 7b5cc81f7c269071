#!/usr/bin/python3
"""Checks that the Brian2 scripts step exactly as glia does: same step in which a
delayed spike acts, same refractory clamp, same place of the input in the step (before
the threshold for the LIF models, as a current pulse in the update for Izhikevich).
Small deterministic networks (DC-driven sources, one target that every arriving spike
can make fire, some spikes arriving while it is refractory) run in glia and in Brian2
(runtime mode, the conventions of common.py); spike steps must be identical and membrane traces equal to
1e-9 mV. Exit status 0 when both cases agree.
Usage: conventions.py [--glia build/glia]"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import brian2 as b2
from brian2 import ms, mV, pA, pF

import common
import izhikevich2003

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name: (I_e, V_m(0)); the target rests 0.05 mV below threshold.
LIF_SOURCES = {"S0": (400.0, 0.0), "S1": (380.0, 2.0), "S2": (420.0, 5.0)}
LIF_TARGET = {"E_L": 19.95, "V_th": 20.0}
IZH_SOURCES = {"S0": 10.0, "S1": 14.0}  # I_e
IZH_WEIGHT = 20.0


def toml_population(name, model, params, init, integrator=None):
    lines = ["[[population]]", f'name = "{name}"', f'model = "{model}"', "size = 1"]
    if integrator:
        lines.append(f'integrator = "{integrator}"')
    lines.append("[population.params]")
    lines += [f"{k} = {v}" for k, v in params.items()]
    lines.append("[population.init]")
    lines += [f"{k} = {v}" for k, v in init.items()]
    return "\n".join(lines)


def toml_experiment(dt, duration, populations, sources, weight, delay, record_vars):
    parts = [f"[run]\nduration = {duration}\ndt = {dt}\nseed = 1\nthreads = 1", *populations]
    for s in sources:
        parts.append(f'[[projection]]\npre = "{s}"\npost = "T"\nweight = {weight}\n'
                     f'delay = {delay}\n[projection.connect]\nrule = "one_to_one"')
    for p in [*sources, "T"]:
        parts.append(f'[[record]]\ntype = "spikes"\npopulation = "{p}"')
    parts.append(f'[[record]]\ntype = "state"\npopulation = "T"\n'
                 f'variables = {record_vars}\nneurons = [0]\ninterval = {dt}')
    return "\n\n".join(parts) + "\n"


def run_glia(glia, text, dt, variables):
    """Spike steps per population and T's traces (value after each step)."""
    with tempfile.TemporaryDirectory() as tmp:
        exp, out = os.path.join(tmp, "c.toml"), os.path.join(tmp, "c.h5")
        with open(exp, "w") as f:
            f.write(text)
        subprocess.run([glia, "run", exp, "-o", out, "-q"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with h5py.File(out) as f:
            # glia stamps a spike of step k with (k + 1) dt
            spikes = {p: (np.rint(f[f"spikes/{p}/timestamps"][:] / dt) - 1).astype(int).tolist()
                      for p in f["spikes"]}
            traces = {v: f[f"report/T/{v}/data"][:, 0] for v in variables}
    return spikes, traces


def brian2_results(net, groups, target, variables, s, namespace):
    """Spike steps per group and the target's traces after each step (Brian2 stamps a
    spike of step k with k dt)."""
    spikes = {name: b2.SpikeMonitor(g) for name, g in groups.items()}
    state = b2.StateMonitor(target, variables, record=0, when="end")
    net.add(*spikes.values(), state)
    net.schedule = list(s.schedule)
    net.run(s.duration_ms * ms, namespace=namespace)
    steps = {n: np.rint(m.t / (s.dt_ms * ms)).astype(int).tolist() for n, m in spikes.items()}
    traces = {v: getattr(state, v)[0] for v in variables}
    return steps, traces


def make_setup(dt_ms, duration_ms, schedule):
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt_ms * ms
    return common.Setup(1, duration_ms, "numpy", 1, "", dt_ms, schedule)


def lif_case(glia):
    """lif_delta (brunel.py's model with E_L and a DC current): D = 1.5 ms, t_ref 2 ms."""
    dt, duration, tau, cm = 0.1, 100.0, 20.0, 250.0
    pops = [toml_population(n, "lif_delta", {"C_m": cm, "tau_m": tau, "t_ref": 2.0, "E_L": 0.0,
                                             "V_th": 20.0, "V_reset": 10.0, "I_e": ie},
                            {"V_m": v0}) for n, (ie, v0) in LIF_SOURCES.items()]
    pops.append(toml_population("T", "lif_delta", {"C_m": cm, "tau_m": tau, "t_ref": 2.0,
                                                   **LIF_TARGET, "V_reset": 10.0},
                                {"V_m": LIF_TARGET["E_L"]}))
    text = toml_experiment(dt, duration, pops, list(LIF_SOURCES), 1.0, 1.5, '["V_m"]')
    g_spikes, g_traces = run_glia(glia, text, dt, ["V_m"])

    s = make_setup(dt, duration, common.INPUT_BEFORE_THRESHOLD)
    eqs = "dv/dt = (-(v - EL) + tau / C * Ie) / tau : volt (unless refractory)\n" \
          "Ie : amp (constant)\nEL : volt (constant)\nVt : volt (constant)"
    ns = {"tau": tau * ms, "C": cm * pF}
    groups = {}
    for name in [*LIF_SOURCES, "T"]:
        G = b2.NeuronGroup(1, eqs, threshold="v >= Vt", reset="v = 10*mV", method="exact",
                           refractory=s.refractory(2 * ms), name=name, namespace=ns)
        ie, v0 = LIF_SOURCES.get(name, (0.0, LIF_TARGET["E_L"]))
        G.Ie, G.v = ie * pA, v0 * mV
        G.EL = (LIF_TARGET["E_L"] if name == "T" else 0.0) * mV
        G.Vt = 20 * mV
        groups[name] = G
    syns = [b2.Synapses(groups[n], groups["T"], on_pre="v += 1*mV * int(not_refractory_post)",
                        delay=s.delay(1.5 * ms)) for n in LIF_SOURCES]
    for S in syns:
        S.connect()
    net = b2.Network(*groups.values(), *syns)
    b_spikes, b_traces = brian2_results(net, groups, groups["T"], ["v"], s, ns)
    return compare("LIF (input before threshold)", g_spikes, b_spikes,
                   g_traces["V_m"], np.asarray(b_traces["v"] / mV))


def izhikevich_case(glia):
    """izhikevich2003.py's neurons without noise: DC-driven sources, delay 1 ms."""
    dt, duration = 1.0, 300.0
    params = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0}
    pops = [toml_population(n, "izhikevich", {**params, "I_e": ie}, {"v": -65.0, "u": '"b * v"'},
                            "euler") for n, ie in IZH_SOURCES.items()]
    pops.append(toml_population("T", "izhikevich", params, {"v": -65.0, "u": '"b * v"'}, "euler"))
    text = toml_experiment(dt, duration, pops, list(IZH_SOURCES), IZH_WEIGHT, 1.0, '["v", "u"]')
    g_spikes, g_traces = run_glia(glia, text, dt, ["v", "u"])

    s = make_setup(dt, duration, common.INPUT_BEFORE_UPDATE)
    groups = {n: izhikevich2003.izhikevich(1, s, n) for n in [*IZH_SOURCES, "T"]}
    for name, G in groups.items():
        G.a, G.b, G.c, G.d = params["a"], params["b"], params["c"], params["d"]
        G.I_e, G.sigma = IZH_SOURCES.get(name, 0.0), 0.0
        G.v = -65.0
        G.u = "b * v"
    syns = [b2.Synapses(groups[n], groups["T"], on_pre=f"Isyn_post += {IZH_WEIGHT}",
                        delay=s.delay(1 * ms)) for n in IZH_SOURCES]
    for S in syns:
        S.connect()
    net = b2.Network(*groups.values(), *syns)
    b_spikes, b_traces = brian2_results(net, groups, groups["T"], ["v", "u"], s,
                                        izhikevich2003.NAMESPACE)
    ok_v = compare("Izhikevich (input in the update)", g_spikes, b_spikes,
                   g_traces["v"], np.asarray(b_traces["v"]))
    ok_u = compare("Izhikevich u", g_spikes, b_spikes, g_traces["u"], np.asarray(b_traces["u"]))
    return ok_v and ok_u


def compare(label, g_spikes, b_spikes, g_trace, b_trace):
    n = min(len(g_trace), len(b_trace))
    dv = float(np.max(np.abs(g_trace[:n] - b_trace[:n])))
    same = all(g_spikes[p] == b_spikes[p] for p in g_spikes)
    n_spk = sum(len(v) for v in g_spikes.values())
    print(f"{label}: {n_spk} spikes, spike steps {'identical' if same else 'DIFFER'}, "
          f"max |trace difference| {dv:.3g} over {n} steps")
    if not same:
        for p in g_spikes:
            print(f"  {p}: glia {g_spikes[p][:12]}\n  {p}: brian2 {b_spikes[p][:12]}")
    return same and dv < 1e-9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glia", default=os.path.join(ROOT, "build", "glia"))
    a = ap.parse_args()
    ok = lif_case(a.glia)
    ok = izhikevich_case(a.glia) and ok
    print("conventions: " + ("glia and Brian2 agree" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
