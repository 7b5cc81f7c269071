// The built-in plasticity rules. Adding a rule: write its header and add one line here.
#include "plasticity/rule.hpp"

#include "plasticity/astro_stdp.hpp"
#include "plasticity/delay_plasticity.hpp"
#include "plasticity/homeostasis.hpp"
#include "plasticity/stdp.hpp"
#include "plasticity/stdp_power_law.hpp"
#include "plasticity/three_factor.hpp"
#include "sim/plasticity.hpp"

namespace glia {

PlasticityRegistry& PlasticityRegistry::global() {
  static PlasticityRegistry registry = [] {
    PlasticityRegistry r;
    r.add<Stdp>();
    r.add<StdpPowerLaw>();
    r.add<Homeostasis>();
    r.add<DelayPlasticity>();
    r.add<AstroStdp>();
    r.add<ThreeFactor>();
    return r;
  }();
  return registry;
}

const PlasticityInfo* PlasticityRegistry::find(std::string_view name) const {
  for (const auto& r : rules_)
    if (r.name == name) return &r;
  return nullptr;
}

std::vector<std::string> PlasticityRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.emplace_back(r.name);
  return out;
}

} // namespace glia
