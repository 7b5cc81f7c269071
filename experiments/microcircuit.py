#!/usr/bin/python3
"""Writes experiments/microcircuit.toml and microcircuit_dc.toml from the tables of the
Potjans & Diesmann (2014) cortical microcircuit, so that every number in those files can
be traced back to the tables below (and the tables to their sources).

  /usr/bin/python3 experiments/microcircuit.py                # both files, full scale
  /usr/bin/python3 experiments/microcircuit.py --scale 0.1 -o /tmp/mc10.toml

--scale scales the number of neurons and, with them, the number of synapses, so that every
in-degree (and so the mean input of every neuron) stays that of the full model; this is the
reference implementation's N_scaling with K_scaling = 1, which needs no weight or drive
compensation. Only the Python standard library is used.
"""
import argparse
import math
import os
import sys

# --- Sources ----------------------------------------------------------------------------
# [PD14] T. C. Potjans, M. Diesmann (2014) "The cell-type specific cortical microcircuit:
#        relating structure and activity in a full-scale spiking network model",
#        Cereb. Cortex 24:785-806. Table 5 (N, C_a), Tables 4/5 (neuron and synapse
#        parameters), Fig. 6 (rates).
# [NEST] NEST Simulator, examples/Potjans_2014 (network_params.py, sim_params.py,
#        helpers.py, network.py), the reference implementation of the NEST 3 series.
# All values are written from memory of these sources, not copied from a download (the
# build machine has no network); see UNSURE for the ones we are least sure of.

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
# [PD14 Table 5] / [NEST] full_num_neurons
N_FULL = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# [PD14 Table 5] / [NEST] conn_probs: row = target population, column = source population.
CONN_PROBS = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
]
# [PD14 Table 5] / [NEST] K_ext: external (thalamo-cortical background) in-degrees.
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
BG_RATE = 8.0  # Hz per external source [PD14] / [NEST] bg_rate

# Neuron: iaf_psc_exp [PD14 Table 4] / [NEST] neuron_params.
NEURON = {
    "C_m": 250.0,  # pF
    "tau_m": 10.0,  # ms
    "tau_syn_ex": 0.5,  # ms (tau_syn)
    "tau_syn_in": 0.5,
    "t_ref": 2.0,  # ms
    "E_L": -65.0,  # mV
    "V_th": -50.0,
    "V_reset": -65.0,
}
# Initial membrane potentials, [NEST] V0_type = "optimized" (the default of the NEST 3
# example): per-population normal distributions chosen to start close to the stationary
# state, so the transient is short. [PD14] (V0_type = "original") uses N(-58, 10) mV for
# every population: --v0 original.
V0_OPTIMIZED_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0_OPTIMIZED_STD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
V0_ORIGINAL = (-58.0, 10.0)

PSP_EXC = 0.15  # mV, mean excitatory PSP amplitude [PD14] / [NEST] PSP_exc_mean
G = -4.0  # relative inhibitory strength [PD14] / [NEST] g
WEIGHT_REL_STD = 0.1  # [PD14] / [NEST] weight_rel_std
L4E_TO_L23E = 2.0  # the L4E -> L23E PSP is doubled [PD14] / [NEST] PSP_matrix_mean[0][2]
DELAY_EXC, DELAY_INH = 1.5, 0.75  # ms, means [PD14] / [NEST] delay_matrix_mean
DELAY_REL_STD = 0.5  # [PD14] / [NEST] delay_rel_std
DT = 0.1  # ms [NEST] sim_resolution
T_PRESIM = 500.0  # ms [NEST] t_presim (the transient left out of the reference's rates)
T_SIM = 1000.0  # ms [NEST] t_sim

UNSURE = """\
#   - V0 "optimized" means and standard deviations: recalled digit by digit from the NEST 3
#     example; if they are off, --v0 original ([PD14]'s N(-58, 10) mV) is the documented
#     alternative, and after the warm-up the rates do not depend on them.
#   - [NEST] rounds the number of synapses with numpy's round (half to even); so does this
#     script (Python's round). No value here is a tie."""


def psc_over_psp(c_m, tau_m, tau_syn):
    """PSC amplitude (pA) that gives a PSP of 1 mV peak: [NEST] helpers.py
    postsynaptic_potential_to_current, the peak of the iaf_psc_exp PSP kernel."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def num_synapses(c, n_post, n_pre):
    """[NEST] helpers.py num_synapses_from_conn_probs: the K that makes the chance that a
    given pair is connected at least once (K draws with replacement) equal C:
    K = log(1 - C) / log(1 - 1 / (N_pre N_post))."""
    prod = float(n_post) * float(n_pre)
    return math.log(1.0 - c) / math.log((prod - 1.0) / prod)


def fmt(x):
    return repr(round(x, 6)) if isinstance(x, float) else str(x)


def generate(scale, drive, v0):
    sizes = [max(1, round(n * scale)) for n in N_FULL]
    w = PSP_EXC * psc_over_psp(NEURON["C_m"], NEURON["tau_m"], NEURON["tau_syn_ex"])
    dc = [BG_RATE * k * NEURON["tau_syn_ex"] * 1e-3 * w for k in K_EXT]
    total = 0
    syn = [[0] * 8 for _ in range(8)]
    for i in range(8):
        for j in range(8):
            # [NEST] network.py: synapses of the full network times N_scaling, rounded.
            syn[i][j] = round(num_synapses(CONN_PROBS[i][j], N_FULL[i], N_FULL[j]) * scale)
            total += syn[i][j]

    out = []
    o = out.append
    o("# Potjans & Diesmann (2014) cortical microcircuit: 1 mm^2 of early sensory cortex,")
    o("# 8 populations (excitatory E and inhibitory I in layers 2/3, 4, 5, 6) of iaf_psc_exp")
    o(f"# neurons, {sum(sizes)} neurons and {total} synapses"
      + ("" if scale == 1.0 else f" (scale {scale} of the full model)") + ",")
    o("# " + ("Poisson background drive" if drive == "poisson" else
              "DC drive in place of the Poisson background") + ".")
    o("#")
    o("# GENERATED by experiments/microcircuit.py (edit the tables there, then rerun it):")
    o("#   /usr/bin/python3 experiments/microcircuit.py"
      + ("" if scale == 1.0 else f" --scale {scale}")
      + ("" if v0 == "optimized" else f" --v0 {v0}"))
    o("#")
    o("#   glia run experiments/microcircuit.toml -o results/microcircuit.h5")
    o("#   glia run experiments/microcircuit_dc.toml -o results/microcircuit_dc.h5")
    o("#   glia check experiments/microcircuit.toml        # sizes, synapses, memory estimate")
    o("#")
    o("# Sources (values from memory of these; each number below is from a table of the")
    o("# script, which names its source):")
    o("#   [PD14] Potjans & Diesmann (2014) Cereb. Cortex 24:785-806, Tables 4 and 5.")
    o("#   [NEST] NEST Simulator examples/Potjans_2014 (network_params.py, helpers.py,")
    o("#          network.py), the reference implementation.")
    o("#   Populations and sizes: [PD14 Table 5] N. Neuron parameters: [PD14 Table 4]")
    o("#   (iaf_psc_exp, C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms, t_ref 2 ms, E_L = V_reset")
    o("#   = -65 mV, V_th = -50 mV). Initial V_m: [NEST] V0_type 'optimized' (per population;")
    o("#   [PD14] draws N(-58, 10) mV for all: microcircuit.py --v0 original).")
    o("#   Synapse counts: [NEST] num_synapses_from_conn_probs, K = round(log(1 - C_a) /")
    o("#   log(1 - 1 / (N_pre N_post))) for the 8x8 connection probabilities C_a of [PD14")
    o("#   Table 5], drawn as NEST's fixed_total_number with multapses and autapses.")
    o(f"#   Weights: PSP 0.15 mV [PD14] -> PSC {w:.4f} pA ([NEST] postsynaptic_potential_to_")
    o("#   current, the peak of the PSP kernel); inhibitory g = -4; L4E -> L23E doubled;")
    o("#   normal with sd 10 % of the mean, redrawn outside [0, inf) for excitatory and")
    o("#   (-inf, 0] for inhibitory synapses ([NEST] network.py, nest.math.redraw).")
    o("#   Delays: normal, mean 1.5 ms (E) and 0.75 ms (I), sd 50 % of the mean, redrawn")
    o("#   below dt / 2 = 0.05 ms ([NEST]; rounding then makes the shortest delay one step),")
    o("#   rounded to whole steps of dt = 0.1 ms.")
    if drive == "poisson":
        o("#   Drive: K_ext independent 8 Hz Poisson sources per neuron [PD14 Table 5],")
        o("#   i.e. one K_ext * 8 Hz Poisson train per neuron with the excitatory weight")
        o("#   (constant, as in [NEST]).")
    else:
        o("#   Drive: I_e = K_ext * 8 Hz * w * tau_syn * 1e-3 pA, the mean current of the")
        o("#   Poisson background ([NEST] dc_input_compensating_poisson, poisson_input = False).")
    o("#   Reference rates (full scale, Poisson drive, after a 500 ms transient; [PD14] Fig. 6,")
    o("#   the NEST example's output), Hz: L23E 0.3-0.9, L23I 2.5-3, L4E 4-4.5, L4I 5.5-6,")
    o("#   L5E ~7, L5I 8-8.5, L6E 1-1.2, L6I ~7.5. [NEST] simulates 500 ms of transient and")
    o("#   1000 ms after it; glia's summary rates cover the whole run, so compare rates taken")
    o("#   after the transient (README, 'Cortical microcircuit').")
    o("# Least sure of:")
    o(UNSURE)
    o("")
    o("[run]")
    o(f"duration = {fmt(T_PRESIM + T_SIM)}   # ms: [NEST] t_presim 500 + t_sim 1000")
    o(f"dt = {fmt(DT)}")
    o("seed = 55")
    o("threads = 0          # all cores; results are identical for any count")
    o("flush_interval = 100.0")
    for i, p in enumerate(POPS):
        o("")
        o("[[population]]")
        o(f'name = "{p}"')
        o('model = "lif_exp"')
        o(f"size = {sizes[i]}")
        o("[population.params]")
        for k, v in NEURON.items():
            o(f"{k} = {fmt(v)}")
        if drive == "dc":
            o(f"I_e = {dc[i]:.6f}   # pA: {K_EXT[i]} * 8 Hz * {w:.4f} pA * 0.5 ms")
        o("[population.init]")
        if v0 == "optimized":
            mean, std = V0_OPTIMIZED_MEAN[i], V0_OPTIMIZED_STD[i]
        else:
            mean, std = V0_ORIGINAL
        o(f'V_m = {{ dist = "normal", mean = {fmt(mean)}, std = {fmt(std)} }}')

    for i, post in enumerate(POPS):
        for j, pre in enumerate(POPS):
            if syn[i][j] == 0:
                continue
            exc = pre.endswith("E")
            mean = w * (1.0 if exc else G)
            if (post, pre) == ("L23E", "L4E"):
                mean *= L4E_TO_L23E
            sd = abs(mean) * WEIGHT_REL_STD
            d = DELAY_EXC if exc else DELAY_INH
            bound = "min = 0.0" if exc else "max = 0.0"
            o("")
            o("[[projection]]")
            o(f'pre = "{pre}"')
            o(f'post = "{post}"')
            if not exc:
                o('port = "in"')
            o(f'weight = {{ dist = "normal", mean = {mean:.6f}, std = {sd:.6f}, {bound} }}')
            o(f'delay = {{ dist = "normal", mean = {fmt(d)}, std = {fmt(d * DELAY_REL_STD)},'
              f" min = {fmt(DT / 2)} }}")
            o(f"[projection.connect]   # C_a = {CONN_PROBS[i][j]}")
            o('rule = "fixed_total_number"')
            o(f"N = {syn[i][j]}")

    if drive == "poisson":
        for i, p in enumerate(POPS):
            o("")
            o("[[input]]")
            o('type = "poisson"')
            o(f'name = "bg_{p}"')
            o(f'target = "{p}"')
            o(f"rate = {fmt(K_EXT[i] * BG_RATE)}   # Hz: K_ext {K_EXT[i]} * 8 Hz")
            o(f"weight = {w:.6f}   # pA")

    for p in POPS:
        o("")
        o("[[record]]")
        o('type = "spikes"')
        o(f'population = "{p}"')
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the neurons (0, 1]")
    ap.add_argument("--v0", choices=["optimized", "original"], default="optimized")
    ap.add_argument("--drive", choices=["poisson", "dc"], help="one file only")
    ap.add_argument("-o", "--output", help="file to write (with --drive or one file)")
    a = ap.parse_args()
    if not 0.0 < a.scale <= 1.0:
        sys.exit("--scale must be in (0, 1]")
    here = os.path.dirname(os.path.abspath(__file__))
    drives = [a.drive] if a.drive else ["poisson", "dc"]
    if a.output and len(drives) > 1:
        sys.exit("-o needs --drive poisson or --drive dc")
    for drive in drives:
        path = a.output or os.path.join(
            here, "microcircuit.toml" if drive == "poisson" else "microcircuit_dc.toml")
        text = generate(a.scale, drive, a.v0)
        with open(path + ".partial", "w") as f:
            f.write(text)
        os.replace(path + ".partial", path)
        print(path)


if __name__ == "__main__":
    main()
