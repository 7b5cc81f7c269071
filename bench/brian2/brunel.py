#!/usr/bin/python3
"""Brunel (2000) model A in Brian2, as NEST's brunel_delta and MODELS.md define it.
Prints rates and mean CV of ISIs per population.
Usage: brunel.py SEED DURATION_MS [TARGET]"""
import common
import numpy as np
import brian2 as b2
from brian2 import ms, mV, Hz

seed, duration = common.setup("cython")

NE, NI, CE, CI = 10000, 2500, 1000, 250
J, g, D = 0.1 * mV, 5.0, 1.5 * ms
tau, theta, Vr, tref = 20 * ms, 20 * mV, 10 * mV, 2 * ms
nu_ext = 20 * Hz  # per external source; 1000 sources per neuron: eta = 2
eqs = "dv/dt = -v/tau : volt (unless refractory)"
P = b2.NeuronGroup(NE + NI, eqs, threshold="v>=theta", reset="v=Vr", refractory=tref, method="exact")
P.v = "rand() * theta"
# Delivery in Brian2 happens one step later than glia's (glia adds arriving input at
# the end of the step, at its nominal arrival time); D - dt keeps the same latency.
Ce = b2.Synapses(P[:NE], P, on_pre="v += J * int(not_refractory_post)", delay=D - b2.defaultclock.dt)
Ci = b2.Synapses(P[NE:], P, on_pre="v += -g * J * int(not_refractory_post)", delay=D - b2.defaultclock.dt)
# fixed in-degree with replacement: each target draws CE (CI) sources
tgt = np.repeat(np.arange(NE + NI), CE)
Ce.connect(i=np.random.randint(0, NE, size=len(tgt)), j=tgt)
tgt = np.repeat(np.arange(NE + NI), CI)
Ci.connect(i=np.random.randint(0, NI, size=len(tgt)), j=tgt)
# input arriving during the refractory period is discarded (NEST iaf_psc_delta)
ext = b2.PoissonInput(P, "v", N=CE, rate=nu_ext, weight="J * int(not_refractory)")
se, si = b2.SpikeMonitor(P[:NE]), b2.SpikeMonitor(P[NE:])
b2.run(duration * ms)
t = duration / 1000.0

def cv(mon):
    trains = mon.spike_trains()
    cvs = []
    for ts in trains.values():
        isi = np.diff(np.asarray(ts / ms))
        if len(isi) >= 2:
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else 0.0

print(f"E {se.num_spikes / (NE * t):.4f} I {si.num_spikes / (NI * t):.4f} cvE {cv(se):.4f} cvI {cv(si):.4f}")
