// The contract of a synaptic plasticity rule, and the registry that maps the rule
// names of experiment files to rules. A rule is one header with one struct:
//
//   static constexpr std::string_view name, doc;
//   static constexpr ParamSpec params[];    // per-projection parameters
//   static constexpr OptionSpec options[];  // per-projection choices (first is the default)
//   struct Config;                          // what the step functions need, precomputed
//   static Config configure(const double* params, const int* options);
//   GLIA_HD static double pre_trace(double x, const Config&);   // x after a pre spike arrives
//   GLIA_HD static double post_trace(double y, const Config&);  // y after a post spike
//   GLIA_HD static void on_pre(double& w, double y, const Config&);   // y: post trace now
//   GLIA_HD static void on_post(double& w, double x, const Config&);  // x: pre trace now
//   Config::tau_pre, Config::tau_post: trace time constants (ms).
//
// Traces are exponential and advanced lazily (sim/plasticity.hpp). Pre-synaptic events
// are processed when the delayed spike arrives, before post-synaptic spikes of the same
// step, as in Brian2 and NEST: a pre spike arriving together with a post spike counts as
// potentiation with zero lag.
#pragma once

#include "sim/spec.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glia {

struct OptionSpec {
  std::string_view name;
  std::span<const std::string_view> choices; // the first is the default
  std::string_view doc;
};

class Plasticity;

struct PlasticitySetup {
  std::vector<double> params; // one value per ParamSpec, defaults filled in
  std::vector<int> options;   // one choice index per OptionSpec
  double dt = 0.1;
};

struct PlasticityInfo {
  std::string_view name;
  std::string_view doc;
  std::span<const ParamSpec> params;
  std::span<const OptionSpec> options;
  std::unique_ptr<Plasticity> (*create)(const PlasticitySetup&);
};

class PlasticityRegistry {
public:
  static PlasticityRegistry& global();
  template <class R> void add();
  const PlasticityInfo* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::vector<PlasticityInfo>& rules() const { return rules_; }

private:
  std::vector<PlasticityInfo> rules_;
};

} // namespace glia
