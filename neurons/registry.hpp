// Maps the model names used in experiment files to models, and lists each model's
// parameters, state variables, ports and integrators for validation and `glia info`.
// This is the only place where models are handled by name; everything behind the
// factory is compiled for the concrete model type.
#pragma once

#include "neurons/model.hpp"
#include "sim/spec.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glia {

class Population;

struct PopulationSetup {
  std::string name;
  std::uint32_t size = 0;
  int index = 0;       // position in the network, keys the population's random streams
  int integrator = 0;  // index into ModelInfo::integrators
  double dt = 0.1;     // ms; set by Network::add_population
  SharedConfig shared; // the [population.shared] table
};

struct ModelInfo {
  std::string_view name;
  std::string_view doc;
  std::span<const ParamSpec> params;
  std::span<const StateSpec> state;
  std::span<const PortSpec> ports; // static ports; a model may add more from shared data
  std::span<const std::string_view> integrators;
  std::unique_ptr<Population> (*create)(const ModelInfo&, const PopulationSetup&);
};

class Registry {
public:
  // The registry with every built-in model.
  static Registry& global();

  template <class M> void add();
  const ModelInfo* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::vector<ModelInfo>& models() const { return models_; }

private:
  std::vector<ModelInfo> models_;
};

} // namespace glia
