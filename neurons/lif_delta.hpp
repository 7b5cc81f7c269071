// Leaky integrate-and-fire neuron with delta-current synapses (NEST iaf_psc_delta,
// Brunel 2000): each input adds its weight (mV) to V at once; input arriving while
// the neuron is refractory is discarded. Subthreshold dynamics are integrated exactly.
// The LIF steps are branch-free (see select_bits), so that the CPU loop vectorises.
#pragma once

#include "neurons/model.hpp"

#include <cmath>

namespace glia {

struct LifDelta {
  static constexpr std::string_view name = "lif_delta";
  static constexpr std::string_view doc =
      "LIF with delta synapses: input adds its weight (mV) to V_m at once (NEST iaf_psc_delta)";

  enum P { C_m, tau_m, t_ref, E_L, V_th, V_reset, I_e };
  static constexpr ParamSpec params[] = {
      {"C_m", "pF", 250.0, kPositive, "membrane capacitance"},
      {"tau_m", "ms", 10.0, kPositive, "membrane time constant"},
      {"t_ref", "ms", 2.0, kNonNegative, "refractory period (V_m clamped to V_reset)"},
      {"E_L", "mV", -70.0, kAny, "resting potential"},
      {"V_th", "mV", -55.0, kAny, "spike threshold"},
      {"V_reset", "mV", -70.0, kAny, "reset potential"},
      {"I_e", "pA", 0.0, kAny, "constant external current"},
  };
  enum S { V_m, refractory };
  static constexpr StateSpec state[] = {
      {"V_m", "mV", -70.0, "membrane potential"},
      {"refractory", "steps", 0.0, "remaining refractory steps"},
  };
  static constexpr PortSpec ports[] = {{"in", "mV", "voltage jump per input"}};
  static constexpr std::string_view integrators[] = {"exact"};

  enum D { P22, P20, ref_steps };
  static constexpr int n_derived = 3;
  static void derive(const double* p, double dt, int, double* d) {
    d[P22] = std::exp(-dt / p[tau_m]);
    d[P20] = p[tau_m] / p[C_m] * (1.0 - d[P22]);
    d[ref_steps] = refractory_steps(p[t_ref], dt);
  }

  // Refractory: count down, discard the input, no spike. Otherwise integrate and fire
  // when !(v < V_th), so NaN also resets. Both are computed, one is kept.
  template <class N> GLIA_HD static bool step(N& n) {
    double& v = n.s(V_m);
    double& r = n.s(refractory);
    const double el = n.p(E_L);
    const double v_free = el + (v - el) * n.d(P22) + (n.p(I_e) + n.i_ext()) * n.d(P20) + n.in(0);
    const bool held = r > 0.0;
    const bool spike = !held && !(v_free < n.p(V_th));
    v = select_bits(held, v, select_bits(spike, n.p(V_reset), v_free));
    r = select_bits(held, r - 1.0, select_bits(spike, n.d(ref_steps), r));
    return spike;
  }
};

} // namespace glia
