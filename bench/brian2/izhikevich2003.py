#!/usr/bin/python3
"""The 1000-neuron network of Izhikevich (2003), as experiments/izhikevich2003.toml and
the paper's MATLAB code define it: 800 E (regular spiking to chattering, r ~ U(0, 1))
and 200 I (fast spiking to low-threshold spiking), all-to-all including self with
weights 0.5 U(0, 1) from E and -U(0, 1) from I, dt = 1 ms, v advanced in two half steps
of the paper's Euler scheme and then u, thalamic input a Gaussian current redrawn every
millisecond (std 5 for E, 2 for I), a spike of step k adding its weight to its
targets' current in the update of step k + 1, before their threshold test (the paper's
`I = I + sum(S(:, fired), 2)` ahead of the update; glia's izhikevich model).
Usage: izhikevich2003.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
(see common.py for all options; prints one BENCH_JSON line per seed)."""
import brian2 as b2
from brian2 import ms

import common

NE, NI, DT_MS, DELAY = 800, 200, 1.0, 1.0 * ms
# Dimensionless (mV, ms) as in the paper; `h` is dt in ms.
NAMESPACE = {"v_peak": 30.0, "h": DT_MS}
EQS = """v : 1
u : 1
I : 1
Isyn : 1
r : 1 (constant)
a : 1 (constant)
b : 1 (constant)
c : 1 (constant)
d : 1 (constant)
I_e : 1 (constant)
sigma : 1 (constant)"""
EULER = """I = I_e + sigma * randn() + Isyn / h
v += 0.5 * h * (0.04 * v**2 + 5 * v + 140 - u + I)
v += 0.5 * h * (0.04 * v**2 + 5 * v + 140 - u + I)
u += h * a * (b * v - u)
Isyn = 0"""


def izhikevich(n, s, name):
    """Izhikevich neurons stepped by the paper's scheme; the noise is drawn at the start
    of each step (glia's inputs phase) and held for the step; synapses add to Isyn, which
    the update takes as a current pulse (Isyn / h over the step) and then clears."""
    G = b2.NeuronGroup(n, EQS, threshold="v >= v_peak", reset="v = c; u += d", name=name,
                       namespace=NAMESPACE)
    G.run_regularly(EULER, when="groups", name=name + "_euler")
    return G


def build(s):
    E, I = izhikevich(NE, s, "exc"), izhikevich(NI, s, "inh")
    E.r, I.r = "rand()", "rand()"
    E.a, E.b = 0.02, 0.2
    E.c, E.d = "-65 + 15 * r**2", "8 - 6 * r**2"
    I.a, I.b = "0.02 + 0.08 * r", "0.25 - 0.05 * r"
    I.c, I.d = -65.0, 2.0
    E.sigma, I.sigma = 5.0, 2.0
    syns = []
    for pre, w in ((E, "0.5 * rand()"), (I, "-rand()")):
        for post in (E, I):
            S = b2.Synapses(pre, post, "w : 1 (constant)", on_pre="Isyn_post += w",
                            delay=s.delay(DELAY), name=f"{pre.name}_{post.name}")
            S.connect()
            S.w = w
            syns.append(S)
    for G in (E, I):
        G.v = -65.0
        G.u = "b * v"
    se, si = b2.SpikeMonitor(E), b2.SpikeMonitor(I)
    net = b2.Network(E, I, *syns, se, si)
    return net, {"E": (se, NE), "I": (si, NI)}, syns


if __name__ == "__main__":
    common.main(build, "izhikevich2003", NAMESPACE, "cython", dt_ms=DT_MS,
                schedule=common.INPUT_BEFORE_UPDATE)
