// Pair-based STDP (Bi & Poo 1998; Song, Miller & Abbott 2000; the NEST and Brian2
// stdp synapses). Pre trace x (tau_plus), post trace y (tau_minus).
//   pre spike arrives:  w -= A_minus * y            (multiplicative: A_minus * w * y)
//   post spike:         w += A_plus * x             (multiplicative: A_plus * (w_max - w) * x)
// then w is clipped to [w_min, w_max]. Pairing "all_to_all" adds 1 to a trace per spike
// (every pre/post pair interacts); "nearest" resets it to 1 (each spike pairs with the
// nearest spike of the other side only; NEST's stdp_nn_symm).
#pragma once

#include "plasticity/rule.hpp"
#include "sim/device.hpp"

#include <cmath>
#include <string>

namespace glia {

struct Stdp {
  static constexpr std::string_view name = "stdp";
  static constexpr std::string_view doc = "pair-based STDP, additive or multiplicative";

  enum P { tau_plus, tau_minus, A_plus, A_minus, w_min, w_max };
  static constexpr ParamSpec params[] = {
      {"tau_plus", "ms", 20.0, kPositive, "time constant of the pre trace (potentiation window)"},
      {"tau_minus", "ms", 20.0, kPositive, "time constant of the post trace (depression window)"},
      {"A_plus", "w", 0.01, kNonNegative, "potentiation per pairing"},
      {"A_minus", "w", 0.0105, kNonNegative, "depression per pairing"},
      {"w_min", "w", 0.0, kAny, "lower weight bound"},
      {"w_max", "w", 1.0, kAny, "upper weight bound"},
  };
  static constexpr std::string_view mode_choices[] = {"additive", "multiplicative"};
  static constexpr std::string_view pairing_choices[] = {"all_to_all", "nearest"};
  enum O { mode, pairing };
  static constexpr OptionSpec options[] = {
      {"mode", mode_choices, "additive: fixed steps; multiplicative: soft bounds"},
      {"pairing", pairing_choices, "all_to_all: traces add up; nearest: traces reset to 1"},
  };

  struct Config {
    double tau_pre, tau_post, a_plus, a_minus, w_min, w_max;
    bool multiplicative, nearest;
  };
  static Config configure(const double* p, const int* o) {
    return {p[tau_plus], p[tau_minus], p[A_plus],    p[A_minus],
            p[w_min],    p[w_max],     o[mode] == 1, o[pairing] == 1};
  }

  // With the bounds the wrong way round, clip() would set every weight to one bound.
  static std::string check(const PlasticityUse& u) {
    return u.params[w_min] > u.params[w_max] ? "'w_min' must not exceed 'w_max'" : "";
  }

  GLIA_HD static double clip(double w, const Config& c) {
    return w < c.w_min ? c.w_min : (w > c.w_max ? c.w_max : w);
  }
  GLIA_HD static double pre_trace(double x, const Config& c) { return c.nearest ? 1.0 : x + 1.0; }
  GLIA_HD static double post_trace(double y, const Config& c) { return c.nearest ? 1.0 : y + 1.0; }
  // The multiply-adds are written as fma: left to the compiler, whether one is fused
  // depends on the call site, and a pending update applied early (a weight monitor, the
  // end of a run) would then round unlike the same update applied at the next arrival.
  GLIA_HD static void on_pre(double& w, double y, const Config& c) {
    w = clip(::fma(c.multiplicative ? -(c.a_minus * w) : -c.a_minus, y, w), c);
  }
  GLIA_HD static void on_post(double& w, double x, const Config& c) {
    w = clip(::fma(c.multiplicative ? c.a_plus * (c.w_max - w) : c.a_plus, x, w), c);
  }
};

} // namespace glia
