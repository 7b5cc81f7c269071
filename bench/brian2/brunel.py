#!/usr/bin/python3
"""Brunel (2000) model A in Brian2, as NEST's brunel_delta, MODELS.md and
experiments/brunel.toml define it: 10 000 E + 2 500 I delta-synapse LIF neurons, fixed
in-degree 1000 / 250 with replacement, J = 0.1 mV, g = 5, D = 1.5 ms, 20 kHz Poisson
drive; input arriving during the refractory period is discarded.
Usage: brunel.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
(see common.py for all options; prints one BENCH_JSON line per seed)."""
import numpy as np
import brian2 as b2
from brian2 import ms, mV, Hz

import common

NE, NI, CE, CI = 10000, 2500, 1000, 250
J, G, D = 0.1 * mV, 5.0, 1.5 * ms
TAU, THETA, V_RESET, T_REF = 20 * ms, 20 * mV, 10 * mV, 2 * ms
NU_EXT = 20 * Hz  # per external source; CE sources per neuron: eta = 2
NAMESPACE = {"tau": TAU, "theta": THETA, "v_reset": V_RESET, "J": J, "g": G}


def lif_delta(n, s, name="neurons"):
    """NEST iaf_psc_delta with E_L = 0 and no current: input jumps v."""
    eqs = "dv/dt = -v / tau : volt (unless refractory)"
    return b2.NeuronGroup(n, eqs, threshold="v >= theta", reset="v = v_reset",
                          refractory=s.refractory(T_REF), method="exact", name=name,
                          namespace=NAMESPACE)


def fixed_indegree(S, n_pre, n_post, indegree, gen):
    """Each target draws `indegree` sources with replacement (NEST fixed_indegree)."""
    j = np.repeat(np.arange(n_post), indegree)
    S.connect(i=gen.integers(0, n_pre, size=len(j)), j=j)


def build(s):
    # --scale shrinks the populations and keeps the in-degrees (multapses are allowed).
    ne, ni = round(NE * s.scale), round(NI * s.scale)
    P = lif_delta(ne + ni, s)
    P.v = "rand() * theta"
    Ce = b2.Synapses(P[:ne], P, on_pre="v += J * int(not_refractory_post)",
                     delay=s.delay(D), name="ce", namespace=NAMESPACE)
    Ci = b2.Synapses(P[ne:], P, on_pre="v += -g * J * int(not_refractory_post)",
                     delay=s.delay(D), name="ci", namespace=NAMESPACE)
    gen = common.rng(s)
    fixed_indegree(Ce, ne, ne + ni, CE, gen)
    fixed_indegree(Ci, ni, ne + ni, CI, gen)
    ext = b2.PoissonInput(P, "v", N=CE, rate=NU_EXT, weight="J * int(not_refractory)")
    se, si = b2.SpikeMonitor(P[:ne]), b2.SpikeMonitor(P[ne:])
    net = b2.Network(P, Ce, Ci, ext, se, si)
    return net, {"E": (se, ne), "I": (si, ni)}, [Ce, Ci]


if __name__ == "__main__":
    common.main(build, "brunel", NAMESPACE, "cython")
