// The contract of a modulator: a slow signal that plasticity rules read (an astrocyte's
// depression rate, dopamine, a per-neuron error, an attention gate), declared as its own
// [[modulator]] object in the experiment file and referenced by name from rules. A
// modulator type is one header with one class deriving from Modulator, plus a static
// description:
//
//   static constexpr std::string_view name, doc;
//   static constexpr ParamSpec params[];        // numbers, with defaults and ranges
//   static constexpr OptionSpec options[];      // choices (first is the default)
//   static constexpr ArraySpec arrays[];        // lists of numbers (schedules)
//   static constexpr ObjectRefSpec objects[];   // populations / projections it observes
//   static constexpr StateSpec variables[];     // recordable state
//   explicit X(const ModulatorSetup&);
//   static std::string check(const ModulatorCheck&);   // optional: "" or what is wrong
//
// Each step, after every population has integrated and its spikes are known, thread 0
// calls update() on every modulator in file order; rules read value()/value(i) in the
// learn phase of the same step (a barrier separates the two). Modulator state is thus
// part of the deterministic step loop and independent of the thread count.
#pragma once

#include "plasticity/rule.hpp"
#include "sim/spec.hpp"
#include "sim/state_archive.hpp"
#include "sim/step_spikes.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glia {

class Network;

// A list of numbers, e.g. the times of a reward schedule.
struct ArraySpec {
  std::string_view name;
  std::string_view unit;
  bool required;
  std::string_view doc;
};

// A population or projection the modulator observes, by name.
struct ObjectRefSpec {
  enum class Kind { population, populations, projection };
  std::string_view name;
  Kind kind;
  bool required;
  std::string_view doc;
};

// What the step loop hands a modulator each step.
struct ModulatorContext {
  std::uint64_t step = 0;
  double dt = 0.1;
  const std::vector<StepSpikes>* spikes = nullptr; // this step's spikes, per population
  const Network* net = nullptr;
};

struct ModulatorSetup {
  std::string name;
  int index = 0;              // position among the experiment's modulators (keys its random stream)
  std::vector<double> params; // one per ParamSpec, defaults filled in
  std::vector<int> options;   // one per OptionSpec
  std::vector<std::vector<double>> arrays; // one per ArraySpec (empty when not given)
  std::vector<std::vector<int>> objects;   // one per ObjectRefSpec: population / projection
                                           // indices (empty when not given)
  double dt = 0.1;
  std::uint32_t seed = 1;
  const Network* net = nullptr;
};

// What the validator knows, for a type's check().
struct ModulatorCheck {
  const double* params = nullptr;
  const int* options = nullptr;
  const std::vector<std::vector<double>>* arrays = nullptr;
  const std::vector<std::vector<std::string>>* objects = nullptr; // names given (empty: none)
  double dt = 0.1;
};

class Modulator {
public:
  virtual ~Modulator() = default;
  const std::string& name() const { return name_; }

  virtual void update(const ModulatorContext& ctx) = 0;
  // The signal now: global, or for neuron i of the population a per-neuron signal
  // belongs to (the default: the global value for every neuron).
  virtual double value() const = 0;
  virtual double value(std::uint32_t) const { return value(); }
  // Per-neuron signals: the index of the population value(i) is indexed by; -1 for a
  // global signal. Rules check it against the projection's post-synaptic population.
  virtual int population() const { return -1; }

  // Recordable variables (the type's `variables` table) and their current values.
  virtual std::span<const StateSpec> variable_specs() const = 0;
  virtual std::uint32_t width(int /*var*/) const { return 1; }
  virtual double read(int var, std::uint32_t element) const = 0;

  virtual void save(StateArchive& ar, const std::string& prefix) const = 0;
  virtual void load(const StateArchive& ar, const std::string& prefix) = 0;

protected:
  explicit Modulator(std::string name) : name_(std::move(name)) {}

private:
  std::string name_;
};

struct ModulatorInfo {
  std::string_view name;
  std::string_view doc;
  std::span<const ParamSpec> params;
  std::span<const OptionSpec> options;
  std::span<const ArraySpec> arrays;
  std::span<const ObjectRefSpec> objects;
  std::span<const StateSpec> variables;
  std::string (*check)(const ModulatorCheck&) = nullptr;
  std::unique_ptr<Modulator> (*create)(const ModulatorSetup&);
};

class ModulatorRegistry {
public:
  static ModulatorRegistry& global();
  template <class M> void add() {
    ModulatorInfo info;
    info.name = M::name;
    info.doc = M::doc;
    if constexpr (requires { M::params; }) info.params = std::span<const ParamSpec>(M::params);
    if constexpr (requires { M::options; }) info.options = std::span<const OptionSpec>(M::options);
    if constexpr (requires { M::arrays; }) info.arrays = std::span<const ArraySpec>(M::arrays);
    if constexpr (requires { M::objects; })
      info.objects = std::span<const ObjectRefSpec>(M::objects);
    info.variables = std::span<const StateSpec>(M::variables);
    if constexpr (requires(const ModulatorCheck& c) { M::check(c); }) info.check = &M::check;
    info.create = [](const ModulatorSetup& s) -> std::unique_ptr<Modulator> {
      return std::make_unique<M>(s);
    };
    for (auto& m : types_)
      if (m.name == info.name) {
        m = info;
        return;
      }
    types_.push_back(info);
  }
  const ModulatorInfo* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::vector<ModulatorInfo>& types() const { return types_; }

private:
  std::vector<ModulatorInfo> types_;
};

} // namespace glia
