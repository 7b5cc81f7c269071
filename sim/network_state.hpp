// The evolving state of a built network, for checkpoints: every population's state and
// ring buffers, the weights and delays of plastic projections, the rules' and the
// modulators' own state. Saved in a form that does not depend on how the network is
// split into thread blocks, so a checkpoint taken with N threads resumes with any other
// count. Static projections are rebuilt from the experiment (their synapses never
// change), so only their synapse counts are kept, as a check.
#pragma once

#include "sim/network.hpp"
#include "sim/state_archive.hpp"

#include <string>

namespace glia {

// The key prefix of the i-th part of a kind: "population/3/".
inline std::string indexed_key(const std::string& kind, std::size_t i) {
  return kind + "/" + std::to_string(i) + "/";
}

void save_network_state(const Network& net, StateArchive& ar);
// `net` must be built from the same experiment; throws std::runtime_error naming the
// entry that does not fit otherwise.
void load_network_state(Network& net, const StateArchive& ar);

// Calls f(block, index) for every synapse of the projection in an order that does not
// depend on the block split: by source neuron, then target, then the row's own order.
template <class F> void for_each_synapse_canonical(const Projection& pr, F&& f) {
  if (pr.blocks.empty()) return;
  const std::size_t n_pre = pr.blocks.front().row.size() - 1;
  for (std::size_t j = 0; j < n_pre; ++j)
    for (std::size_t b = 0; b < pr.blocks.size(); ++b) {
      const SynapseBlock& blk = pr.blocks[b];
      for (std::uint64_t s = blk.row[j]; s < blk.row[j + 1]; ++s) f(b, s);
    }
}

} // namespace glia
