// Network state snapshots for per-sample and per-image resets (see snapshots.hpp).
#include "reservoir/snapshots.hpp"

#include "plasticity/modulator.hpp"
#include "sim/network_state.hpp"

#include <algorithm>

namespace glia {

PopulationSnapshot::PopulationSnapshot(const Network& net) {
  for (const auto& p : net.populations()) {
    std::vector<std::vector<double>> st;
    for (int k = 0; k < p->n_state(); ++k) {
      const std::size_t n = static_cast<std::size_t>(p->state_width(k)) * p->size();
      st.emplace_back(p->state(k), p->state(k) + n);
    }
    state_.push_back(std::move(st));
    ring_.push_back(p->ring().raw());
  }
}

void PopulationSnapshot::restore(Network& net) const {
  for (std::size_t q = 0; q < net.populations().size(); ++q) {
    Population& p = *net.populations()[q];
    for (int k = 0; k < p.n_state(); ++k)
      std::copy(state_[q][static_cast<std::size_t>(k)].begin(),
                state_[q][static_cast<std::size_t>(k)].end(), p.state(k));
    std::fill(p.i_ext().begin(), p.i_ext().end(), 0.0);
    p.ring().raw() = ring_[q];
  }
}

ModulatorSnapshot::ModulatorSnapshot(const Network& net) {
  for (std::size_t m = 0; m < net.modulators().size(); ++m)
    net.modulators()[m]->save(state_, indexed_key("modulator", m));
}

void ModulatorSnapshot::restore(Network& net) const {
  for (std::size_t m = 0; m < net.modulators().size(); ++m)
    net.modulators()[m]->load(state_, indexed_key("modulator", m));
}

} // namespace glia
