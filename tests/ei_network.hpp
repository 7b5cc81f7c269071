// Two-population (E, I) networks connected through the engine's own connect(), for
// tests that run a plain reference loop beside the simulator over the synapses glia
// built.
#pragma once

#include "sim/connectivity.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace glia::test {

// Adds E->E, E->I, I->E, I->I (projections 0 to 3, in that order) to a network whose
// populations 0 and 1 are E and I, with one delay; spec[pre] and weight[pre] belong to
// the source population.
inline void connect_ei(Network& net, const ConnectSpec (&spec)[2], const Distribution (&weight)[2],
                       double delay_ms, std::uint32_t seed) {
  std::uint32_t index = 0;
  for (int pre = 0; pre < 2; ++pre)
    for (int post = 0; post < 2; ++post) {
      Projection proj;
      proj.pre = pre;
      proj.post = post;
      ConnectRequest req;
      req.spec = &spec[pre];
      req.weight = weight[pre];
      req.delay = Distribution::constant_of(delay_ms);
      req.n_pre = net.populations()[static_cast<std::size_t>(pre)]->size();
      req.n_post = net.populations()[static_cast<std::size_t>(post)]->size();
      req.same_population = pre == post;
      req.dt = net.dt();
      req.seed = seed;
      req.index = index++;
      connect(proj, req, net.blocks(post));
      net.add_projection(std::move(proj));
    }
}

struct SynapseIn {
  int pre;              // source population
  std::uint32_t source; // neuron in it
  double weight;
};

// inputs[post][target]: every synapse into each neuron, in the order in which glia adds
// the inputs of one step (by projection, then by source).
inline std::vector<std::vector<std::vector<SynapseIn>>> synapses_into(const Network& net) {
  std::vector<std::vector<std::vector<SynapseIn>>> in(net.populations().size());
  for (std::size_t p = 0; p < in.size(); ++p) in[p].resize(net.populations()[p]->size());
  for (const Projection& pr : net.projections())
    for (const SynapseBlock& b : pr.blocks)
      for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
        for (std::uint64_t k = b.row[j]; k < b.row[j + 1]; ++k)
          in[static_cast<std::size_t>(pr.post)][b.target[k]].push_back(
              {pr.pre, j, pr.weight_of(b, k)});
  return in;
}

} // namespace glia::test
