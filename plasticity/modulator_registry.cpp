// The built-in modulator types. Adding one: write its header and add one line here.
#include "plasticity/modulator.hpp"

#include "plasticity/astrocyte.hpp"
#include "plasticity/attention_gate.hpp"
#include "plasticity/error_signal.hpp"
#include "plasticity/reward.hpp"

namespace glia {

ModulatorRegistry& ModulatorRegistry::global() {
  static ModulatorRegistry registry = [] {
    ModulatorRegistry r;
    r.add<AttentionGate>();
    r.add<Astrocyte>();
    r.add<Reward>();
    r.add<ErrorSignal>();
    return r;
  }();
  return registry;
}

const ModulatorInfo* ModulatorRegistry::find(std::string_view name) const {
  for (const auto& m : types_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> ModulatorRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& m : types_) out.emplace_back(m.name);
  return out;
}

} // namespace glia
