#!/usr/bin/python3
"""COBA benchmark in Brian2 exactly as MODELS.md defines it (the common Brian2 /
ANNarchy / BrainPy benchmark form). Prints the mean rate per population.
Usage: coba.py SEED DURATION_MS [TARGET]   (TARGET: numpy | cython | cpp_standalone)"""
import common
import brian2 as b2
from brian2 import ms, mV, Hz

seed, duration = common.setup("numpy")

taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -60 * mV
Ee, Ei, I = 0 * mV, -80 * mV, 20 * mV
eqs = """dv/dt = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I)/taum : volt (unless refractory)
dge/dt = -ge/taue : 1
dgi/dt = -gi/taui : 1"""
P = b2.NeuronGroup(4000, eqs, threshold="v>Vt", reset="v=Vr", refractory=5 * ms, method="euler")
P.v = "Vr + rand() * (Vt - Vr)"
Pe, Pi = P[:3200], P[3200:]
Ce = b2.Synapses(Pe, P, on_pre="ge += 0.6")
Ci = b2.Synapses(Pi, P, on_pre="gi += 6.7")
Ce.connect(p=0.02)
Ci.connect(p=0.02)
se, si = b2.SpikeMonitor(Pe), b2.SpikeMonitor(Pi)
b2.run(duration * ms)
t = duration / 1000.0
print(f"E {se.num_spikes / (3200 * t):.4f} I {si.num_spikes / (800 * t):.4f}")
