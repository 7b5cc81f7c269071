#!/usr/bin/python3
"""CUBA benchmark in Brian2 (examples/CUBA.py, MODELS.md). Prints the mean rate per population.
Usage: cuba.py SEED DURATION_MS [TARGET]"""
import common
import brian2 as b2
from brian2 import ms, mV

seed, duration = common.setup("numpy")

taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = """dv/dt = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt"""
P = b2.NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * mV
P.gi = 0 * mV
we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
Ce = b2.Synapses(P[:3200], P, on_pre="ge += we")
Ci = b2.Synapses(P[3200:], P, on_pre="gi += wi")
Ce.connect(p=0.02)
Ci.connect(p=0.02)
se, si = b2.SpikeMonitor(P[:3200]), b2.SpikeMonitor(P[3200:])
b2.run(duration * ms)
t = duration / 1000.0
print(f"E {se.num_spikes / (3200 * t):.4f} I {si.num_spikes / (800 * t):.4f}")
