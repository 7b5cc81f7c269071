#!/usr/bin/python3
"""Brunel (2000) model A with STDP on the E->E synapses, as MODELS.md ("Brunel + STDP")
and experiments/brunel_stdp.toml define it: additive all-to-all pair STDP, tau+ = tau- =
20 ms, A+ = 0.01 J, A- = 1.05 A+, w in [0, 2 J], w(0) = J; the pre-synaptic update
happens when the delayed spike arrives (delivery, then depression, then the pre trace),
the post-synaptic one at the post spike. Everything else is brunel.py.
Usage: brunel_stdp.py [SEED] [DURATION_MS] [TARGET] [--threads N] [--build-dir DIR]
(see common.py for all options; prints one BENCH_JSON line per seed)."""
import brian2 as b2
from brian2 import ms, mV

import brunel
import common

A_PLUS = 0.01 * brunel.J
NAMESPACE = dict(brunel.NAMESPACE, taupre=20 * ms, taupost=20 * ms, Aplus=A_PLUS,
                 Aminus=1.05 * A_PLUS, wmax=2 * brunel.J)
STDP_MODEL = """w : volt
dapre/dt = -apre / taupre : 1 (event-driven)
dapost/dt = -apost / taupost : 1 (event-driven)"""
ON_PRE = """v_post += w * int(not_refractory_post)
w = clip(w - Aminus * apost, 0 * mV, wmax)
apre += 1"""
ON_POST = """w = clip(w + Aplus * apre, 0 * mV, wmax)
apost += 1"""


def build(s):
    NE, NI = brunel.NE, brunel.NI
    P = brunel.lif_delta(NE + NI, s)
    P.v = "rand() * theta"
    Cee = b2.Synapses(P[:NE], P[:NE], model=STDP_MODEL, on_pre=ON_PRE, on_post=ON_POST,
                      delay=s.delay(brunel.D), name="cee", namespace=NAMESPACE)
    Cei = b2.Synapses(P[:NE], P[NE:], on_pre="v += J * int(not_refractory_post)",
                      delay=s.delay(brunel.D), name="cei", namespace=NAMESPACE)
    Ci = b2.Synapses(P[NE:], P, on_pre="v += -g * J * int(not_refractory_post)",
                     delay=s.delay(brunel.D), name="ci", namespace=NAMESPACE)
    gen = common.rng(s)
    brunel.fixed_indegree(Cee, NE, NE, brunel.CE, gen)
    Cee.w = "J"
    brunel.fixed_indegree(Cei, NE, NI, brunel.CE, gen)
    brunel.fixed_indegree(Ci, NI, NE + NI, brunel.CI, gen)
    ext = b2.PoissonInput(P, "v", N=brunel.CE, rate=brunel.NU_EXT,
                          weight="J * int(not_refractory)")
    se, si = b2.SpikeMonitor(P[:NE]), b2.SpikeMonitor(P[NE:])
    net = b2.Network(P, Cee, Cei, Ci, ext, se, si)
    return net, {"E": (se, NE), "I": (si, NI)}, [Cee, Cei, Ci]


if __name__ == "__main__":
    common.main(build, "brunel_stdp", NAMESPACE, "cython")
