#!/usr/bin/python3
"""CUBA benchmark in Brian2 as MODELS.md and experiments/cuba.toml define it (Brian2's
examples/CUBA.py; Brette et al. 2007 benchmark 2): 4000 current-based LIF neurons
(3200 E, 800 I) with exponential synaptic currents, p = 0.02, delay one step, exact
integration; E_L = -49 mV lies above threshold, so the network fires without input.
Usage: cuba.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
(see common.py for all options; prints one BENCH_JSON line per seed)."""
import brian2 as b2
from brian2 import ms, mV

import common

NE, NI, P_CONN = 3200, 800, 0.02
DELAY, T_REF = 0.1 * ms, 5 * ms
NAMESPACE = {
    "taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms,
    "Vt": -50 * mV, "Vr": -60 * mV, "El": -49 * mV,
    "we": (60 * 0.27 / 10) * mV, "wi": (-20 * 4.5 / 10) * mV,  # 1.62 mV, -9 mV
}
EQS = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
dge/dt = -ge / taue : volt
dgi/dt = -gi / taui : volt"""


def build(s):
    P = b2.NeuronGroup(NE + NI, EQS, threshold="v >= Vt", reset="v = Vr",
                       refractory=s.refractory(T_REF), method="exact", namespace=NAMESPACE)
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P[:NE], P, on_pre="ge += we", delay=s.delay(DELAY), namespace=NAMESPACE)
    Ci = b2.Synapses(P[NE:], P, on_pre="gi += wi", delay=s.delay(DELAY), namespace=NAMESPACE)
    Ce.connect(p=P_CONN)
    Ci.connect(p=P_CONN)
    se, si = b2.SpikeMonitor(P[:NE]), b2.SpikeMonitor(P[NE:])
    net = b2.Network(P, Ce, Ci, se, si)
    return net, {"E": (se, NE), "I": (si, NI)}, [Ce, Ci]


if __name__ == "__main__":
    common.main(build, "cuba", NAMESPACE, "numpy")
