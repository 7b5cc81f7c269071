// Power-law STDP of NEST's hpc_benchmark (Morrison, Aertsen & Diesmann 2007):
//   post spike:         w += lambda * w0^(1 - mu) * w^mu * x
//   pre spike arrives:  w -= lambda * alpha * w * y
// Depression is multiplicative, potentiation grows sub-linearly with w, so the weights
// settle into a unimodal distribution without hard bounds (w stays >= 0).
#pragma once

#include "plasticity/rule.hpp"
#include "sim/device.hpp"

#include <cmath>

namespace glia {

struct StdpPowerLaw {
  static constexpr std::string_view name = "stdp_power_law";
  static constexpr std::string_view doc =
      "power-law STDP (Morrison 2007, NEST stdp_pl_synapse_hom)";

  enum P { tau_plus, tau_minus, lambda, alpha, mu, w0 };
  static constexpr ParamSpec params[] = {
      {"tau_plus", "ms", 20.0, kPositive, "time constant of the pre trace"},
      {"tau_minus", "ms", 20.0, kPositive, "time constant of the post trace"},
      {"lambda", "1", 0.1, kNonNegative, "learning rate"},
      {"alpha", "1", 0.0513, kNonNegative, "depression relative to potentiation"},
      {"mu", "1", 0.4, kUnit, "exponent of the weight dependence of potentiation"},
      {"w0", "w", 1.0, kPositive, "reference weight of the power law"},
  };
  static constexpr std::string_view pairing_choices[] = {"all_to_all"};
  static constexpr OptionSpec options[] = {
      {"pairing", pairing_choices, "all_to_all: every pre/post pair interacts"},
  };

  struct Config {
    double tau_pre, tau_post, lambda, alpha, mu, w0_scale;
  };
  static Config configure(const double* p, const int*) {
    return {p[tau_plus], p[tau_minus], p[lambda], p[alpha], p[mu], std::pow(p[w0], 1.0 - p[mu])};
  }
  GLIA_HD static double pre_trace(double x, const Config&) { return x + 1.0; }
  GLIA_HD static double post_trace(double y, const Config&) { return y + 1.0; }
  GLIA_HD static void on_pre(double& w, double y, const Config& c) {
    w = fmax(0.0, w - c.lambda * c.alpha * w * y);
  }
  GLIA_HD static void on_post(double& w, double x, const Config& c) {
    w += c.lambda * c.w0_scale * pow(w, c.mu) * x;
  }
};

} // namespace glia
