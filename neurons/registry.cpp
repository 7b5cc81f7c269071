// The built-in models. Adding a model: write its header and add one line here.
#include "neurons/registry.hpp"

#include "neurons/izhikevich.hpp"
#include "neurons/lif_cond_exp.hpp"
#include "neurons/lif_delta.hpp"
#include "neurons/lif_exp.hpp"
#include "sim/population.hpp"

namespace glia {

Registry& Registry::global() {
  static Registry registry = [] {
    Registry r;
    r.add<LifDelta>();
    r.add<LifExp>();
    r.add<LifCondExp>();
    r.add<Izhikevich>();
    return r;
  }();
  return registry;
}

const ModelInfo* Registry::find(std::string_view name) const {
  for (const auto& m : models_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& m : models_) out.emplace_back(m.name);
  return out;
}

} // namespace glia
