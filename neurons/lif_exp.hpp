// LIF with exponentially decaying current synapses (NEST iaf_psc_exp). The linear
// subthreshold system is integrated with its exact propagator (Rotter & Diesmann
// 1999), so a PSP sampled at the steps equals the analytic curve to rounding.
// Input arriving in a step is added to the synaptic current at the end of that step,
// i.e. at its nominal arrival time, as NEST does.
#pragma once

#include "neurons/model.hpp"

#include <cmath>

namespace glia {

// Propagator from synaptic current to membrane potential over one step h, stable for
// tau_syn close to tau_m (where the closed form is 0/0).
inline double psc_exp_propagator(double tau_syn, double tau_m, double c_m, double h) {
  const double a = (tau_m - tau_syn) / (tau_syn * tau_m); // 1/tau_syn - 1/tau_m
  const double em = std::exp(-h / tau_m);
  if (std::abs(a * h) < 1e-12) return h / c_m * em;
  return -em * std::expm1(-h * a) / (c_m * a);
}

struct LifExp {
  static constexpr std::string_view name = "lif_exp";
  static constexpr std::string_view doc =
      "LIF with exponential current synapses, exact integration (NEST iaf_psc_exp)";

  enum P { C_m, tau_m, tau_syn_ex, tau_syn_in, t_ref, E_L, V_th, V_reset, I_e };
  static constexpr ParamSpec params[] = {
      {"C_m", "pF", 250.0, kPositive, "membrane capacitance"},
      {"tau_m", "ms", 10.0, kPositive, "membrane time constant"},
      {"tau_syn_ex", "ms", 2.0, kPositive, "excitatory synaptic time constant"},
      {"tau_syn_in", "ms", 2.0, kPositive, "inhibitory synaptic time constant"},
      {"t_ref", "ms", 2.0, kNonNegative, "refractory period (V_m clamped to V_reset)"},
      {"E_L", "mV", -70.0, kAny, "resting potential"},
      {"V_th", "mV", -55.0, kAny, "spike threshold"},
      {"V_reset", "mV", -70.0, kAny, "reset potential"},
      {"I_e", "pA", 0.0, kAny, "constant external current"},
  };
  enum S { V_m, I_syn_ex, I_syn_in, refractory };
  static constexpr StateSpec state[] = {
      {"V_m", "mV", -70.0, "membrane potential"},
      {"I_syn_ex", "pA", 0.0, "excitatory synaptic current"},
      {"I_syn_in", "pA", 0.0, "inhibitory synaptic current"},
      {"refractory", "steps", 0.0, "remaining refractory steps"},
  };
  static constexpr PortSpec ports[] = {
      {"ex", "pA", "jump of the excitatory synaptic current"},
      {"in", "pA", "jump of the inhibitory synaptic current (use negative weights)"},
  };
  static constexpr std::string_view integrators[] = {"exact"};

  enum D { P22, P20, P11ex, P11in, P21ex, P21in, ref_steps };
  static constexpr int n_derived = 7;
  static void derive(const double* p, double dt, int, double* d) {
    d[P22] = std::exp(-dt / p[tau_m]);
    d[P20] = p[tau_m] / p[C_m] * -std::expm1(-dt / p[tau_m]);
    d[P11ex] = std::exp(-dt / p[tau_syn_ex]);
    d[P11in] = std::exp(-dt / p[tau_syn_in]);
    d[P21ex] = psc_exp_propagator(p[tau_syn_ex], p[tau_m], p[C_m], dt);
    d[P21in] = psc_exp_propagator(p[tau_syn_in], p[tau_m], p[C_m], dt);
    d[ref_steps] = refractory_steps(p[t_ref], dt);
  }

  // Refractory: count down with V_m held; otherwise advance V_m. Then the currents take
  // their input and the threshold applies (spike when !(V_m < V_th), then reset and start the
  // refractory count). Branch-free: both updates of V_m are computed and one is kept (select_bits).
  template <class N> GLIA_HD static bool step(N& n) {
    double& v = n.s(V_m);
    double& ie = n.s(I_syn_ex);
    double& ii = n.s(I_syn_in);
    double& r = n.s(refractory);
    const double el = n.p(E_L);
    const double v_free = el + (v - el) * n.d(P22) + ie * n.d(P21ex) + ii * n.d(P21in) +
                          (n.p(I_e) + n.i_ext()) * n.d(P20);
    const bool held = r > 0.0;
    const double v1 = select_bits(held, v, v_free);
    const double r1 = select_bits(held, r - 1.0, r);
    ie = ie * n.d(P11ex) + n.in(0);
    ii = ii * n.d(P11in) + n.in(1);
    const bool spike = !(v1 < n.p(V_th));
    v = select_bits(spike, n.p(V_reset), v1);
    r = select_bits(spike, n.d(ref_steps), r1);
    return spike;
  }
};

} // namespace glia
