// LIF with exponentially decaying conductance synapses (NEST iaf_cond_exp; the COBA
// benchmark of Vogels & Abbott 2005). Conductances decay exactly; the membrane is
// advanced by the chosen scheme: "rk4" (default), "exp_euler" (conductances frozen
// over the step, exact for the then-linear V equation: unconditionally stable) or
// "euler" (forward Euler on V and g together, as Brian2's COBA script does).
#pragma once

#include "neurons/model.hpp"

#include <cmath>

namespace glia {

struct LifCondExp {
  static constexpr std::string_view name = "lif_cond_exp";
  static constexpr std::string_view doc =
      "LIF with exponential conductance synapses (NEST iaf_cond_exp, COBA benchmark)";

  enum P { C_m, g_L, tau_syn_ex, tau_syn_in, t_ref, E_L, E_ex, E_in, V_th, V_reset, I_e };
  static constexpr ParamSpec params[] = {
      {"C_m", "pF", 250.0, kPositive, "membrane capacitance"},
      {"g_L", "nS", 16.6667, kPositive, "leak conductance"},
      {"tau_syn_ex", "ms", 0.2, kPositive, "excitatory conductance time constant"},
      {"tau_syn_in", "ms", 2.0, kPositive, "inhibitory conductance time constant"},
      {"t_ref", "ms", 2.0, kNonNegative, "refractory period (V_m clamped to V_reset)"},
      {"E_L", "mV", -70.0, kAny, "leak reversal potential"},
      {"E_ex", "mV", 0.0, kAny, "excitatory reversal potential"},
      {"E_in", "mV", -85.0, kAny, "inhibitory reversal potential"},
      {"V_th", "mV", -55.0, kAny, "spike threshold"},
      {"V_reset", "mV", -60.0, kAny, "reset potential"},
      {"I_e", "pA", 0.0, kAny, "constant external current"},
  };
  enum S { V_m, g_ex, g_in, refractory };
  static constexpr StateSpec state[] = {
      {"V_m", "mV", -70.0, "membrane potential"},
      {"g_ex", "nS", 0.0, "excitatory conductance"},
      {"g_in", "nS", 0.0, "inhibitory conductance"},
      {"refractory", "steps", 0.0, "remaining refractory steps"},
  };
  static constexpr PortSpec ports[] = {
      {"ex", "nS", "jump of the excitatory conductance"},
      {"in", "nS", "jump of the inhibitory conductance (positive weights)"},
  };
  enum Integrator { rk4, exp_euler, euler };
  static constexpr std::string_view integrators[] = {"rk4", "exp_euler", "euler"};

  enum D { decay_ex, decay_in, step_ex, step_in, ref_steps, half_ex, half_in, inv_C_m };
  static constexpr int n_derived = 8;
  static void derive(const double* p, double dt, int integrator, double* d) {
    d[decay_ex] = std::exp(-dt / p[tau_syn_ex]);
    d[decay_in] = std::exp(-dt / p[tau_syn_in]);
    // Forward Euler decays the conductances by its own factor, so that "euler" is the
    // whole system under one scheme (as in Brian2's COBA), not a hybrid.
    d[step_ex] = integrator == euler ? 1.0 - dt / p[tau_syn_ex] : d[decay_ex];
    d[step_in] = integrator == euler ? 1.0 - dt / p[tau_syn_in] : d[decay_in];
    d[ref_steps] = refractory_steps(p[t_ref], dt);
    // RK4's half-step decay, once per population rather than a sqrt per neuron and step.
    d[half_ex] = std::sqrt(d[decay_ex]);
    d[half_in] = std::sqrt(d[decay_in]);
    // A multiply where the equations divide: a vector divide costs several multiplies
    // and RK4 takes four per step (results differ from dividing by rounding only).
    d[inv_C_m] = 1.0 / p[C_m];
  }

  template <class N> GLIA_HD static double dvdt(N& n, double v, double ge, double gi, double i) {
    return (-n.p(g_L) * (v - n.p(E_L)) + ge * (n.p(E_ex) - v) + gi * (n.p(E_in) - v) + i) *
           n.d(inv_C_m);
  }

  // Refractory: count down with V_m held; otherwise advance V_m by the scheme. Then the
  // conductances take their input and the threshold applies (spike when !(V_m < V_th), then reset
  // and start the refractory count). Branch-free per neuron: both updates of V_m are computed and
  // one is kept (select_bits); the scheme is the same for the whole population.
  template <class N> GLIA_HD static bool step(N& n) {
    double& v = n.s(V_m);
    double& ge = n.s(g_ex);
    double& gi = n.s(g_in);
    double& r = n.s(refractory);
    const double h = n.dt();
    const double i = n.p(I_e) + n.i_ext();
    double v_free;
    if (n.integrator() == euler) {
      v_free = v + h * dvdt(n, v, ge, gi, i);
    } else if (n.integrator() == exp_euler) {
      const double gt = n.p(g_L) + ge + gi;
      const double vinf = (n.p(g_L) * n.p(E_L) + ge * n.p(E_ex) + gi * n.p(E_in) + i) / gt;
      v_free = vinf + (v - vinf) * std::exp(-h * gt * n.d(inv_C_m));
    } else {
      // Classical RK4 on V with the conductances' exact exponential decay inside the step.
      const double he = n.d(half_ex), hi = n.d(half_in);
      const double k1 = dvdt(n, v, ge, gi, i);
      const double k2 = dvdt(n, v + 0.5 * h * k1, ge * he, gi * hi, i);
      const double k3 = dvdt(n, v + 0.5 * h * k2, ge * he, gi * hi, i);
      const double k4 = dvdt(n, v + h * k3, ge * n.d(decay_ex), gi * n.d(decay_in), i);
      v_free = v + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    const bool held = r > 0.0;
    const double v1 = select_bits(held, v, v_free);
    const double r1 = select_bits(held, r - 1.0, r);
    ge = ge * n.d(step_ex) + n.in(0);
    gi = gi * n.d(step_in) + n.in(1);
    const bool spike = !(v1 < n.p(V_th));
    v = select_bits(spike, n.p(V_reset), v1);
    r = select_bits(spike, n.d(ref_steps), r1);
    return spike;
  }
};

} // namespace glia
