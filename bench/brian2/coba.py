#!/usr/bin/python3
"""COBA benchmark in Brian2 as MODELS.md and experiments/coba.toml define it (Brette et
al. 2007 benchmark 1 in the form of the common Brian2 / ANNarchy / BrainPy scripts):
4000 conductance-based LIF neurons (3200 E, 800 I), every ordered pair connected with
p = 0.02 (self-connections included), delay one step, constant drive, forward Euler.
Usage: coba.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
(see common.py for all options; prints one BENCH_JSON line per seed)."""
import brian2 as b2
from brian2 import ms, mV

import common

NE, NI, P_CONN = 3200, 800, 0.02
DELAY, T_REF = 0.1 * ms, 5 * ms
NAMESPACE = {
    "taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms,
    "Vt": -50 * mV, "Vr": -60 * mV, "El": -60 * mV,
    "Ee": 0 * mV, "Ei": -80 * mV, "I": 20 * mV,
    "we": 0.6, "wi": 6.7,
}
EQS = """dv/dt = (ge * (Ee - v) + gi * (Ei - v) - (v - El) + I) / taum : volt (unless refractory)
dge/dt = -ge / taue : 1
dgi/dt = -gi / taui : 1"""


def build(s):
    P = b2.NeuronGroup(NE + NI, EQS, threshold="v >= Vt", reset="v = Vr",
                       refractory=s.refractory(T_REF), method="euler", namespace=NAMESPACE)
    P.v = "Vr + rand() * (Vt - Vr)"
    Ce = b2.Synapses(P[:NE], P, on_pre="ge += we", delay=s.delay(DELAY), namespace=NAMESPACE)
    Ci = b2.Synapses(P[NE:], P, on_pre="gi += wi", delay=s.delay(DELAY), namespace=NAMESPACE)
    Ce.connect(p=P_CONN)
    Ci.connect(p=P_CONN)
    se, si = b2.SpikeMonitor(P[:NE]), b2.SpikeMonitor(P[NE:])
    net = b2.Network(P, Ce, Ci, se, si)
    return net, {"E": (se, NE), "I": (si, NI)}, [Ce, Ci]


if __name__ == "__main__":
    common.main(build, "coba", NAMESPACE, "numpy")
