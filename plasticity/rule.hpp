// The contract of a synaptic plasticity rule, and the registry that maps the rule
// names of experiment files to rules. A rule is one header with one struct:
//
//   static constexpr std::string_view name, doc;
//   static constexpr ParamSpec params[];    // per-projection parameters (default kRequired:
//                                           // the experiment file must give it)
//   static constexpr OptionSpec options[];  // per-projection choices (first is the default;
//                                           // optional for rules with an Engine)
//   struct Config;                          // what the step functions need, precomputed
//   static Config configure(const double* params, const int* options);
//   GLIA_HD static double pre_trace(double x, const Config&);   // x after a pre spike arrives
//   GLIA_HD static double post_trace(double y, const Config&);  // y after a post spike
//   GLIA_HD static void on_pre(double& w, double y, const Config&);   // y: post trace now
//   GLIA_HD static void on_post(double& w, double x, const Config&);  // x: pre trace now
//   Config::tau_pre, Config::tau_post: trace time constants (ms).
//
// Rules with an engine of their own (eligibility traces, delays, gains: state that the
// pre/post trace scheme of sim/plasticity.hpp does not hold) name it instead:
//   using Engine = ...;                     // a Plasticity, constructed from PlasticitySetup
//   static constexpr bool on_arrival;       // false: per-synapse delays are allowed and the
//                                           // simulator propagates the projection itself
// Optional for any rule:
//   static constexpr RefSpec refs[];        // names of other objects (modulators) it reads
//   static std::string check(const PlasticityUse&);   // "" or why this projection cannot
//                                           // use the rule (reported at the plasticity key)
//   static constexpr bool fading_rates;     // true: the engine implements set_rate_decay
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

// A reference by name to another object of the experiment file (a [[modulator]]).
struct RefSpec {
  std::string_view name;
  std::string_view kind; // what it names: "modulator"
  bool required;
  std::string_view doc;
  std::span<const std::string_view> types = {}; // modulator types it accepts (empty: any)
};

class Plasticity;
class Modulator;

struct PlasticitySetup {
  std::vector<double> params; // one value per ParamSpec, defaults filled in
  std::vector<int> options;   // one choice index per OptionSpec
  double dt = 0.1;
  std::vector<Modulator*> refs; // one per RefSpec (null where an optional one is not given)
  std::uint32_t seed = 1;       // the run's seed, and the projection's index: the key of
  std::uint32_t index = 0;      // the rule's random stream (StreamKind::plasticity, index)
};

// What the validator knows of the projection a rule is put on, for the rule's check().
struct PlasticityUse {
  const double* params = nullptr;
  const int* options = nullptr;
  double dt = 0.1;
  double delay_min = 0.0, delay_max = 0.0; // ms, over the projection's synapses
  bool constant_delay = true;
  double max_delay = 0.0; // ms: the projection's max_delay key (0 when not given)
  std::string pre_model, post_model;
};

struct PlasticityInfo {
  std::string_view name;
  std::string_view doc;
  std::span<const ParamSpec> params;
  std::span<const OptionSpec> options;
  std::span<const RefSpec> refs;
  bool on_arrival = true;    // pre events handled on arrival: one delay per projection
  bool fading_rates = false; // Plasticity::set_rate_decay takes factors below 1
  std::string (*check)(const PlasticityUse&) = nullptr;
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
