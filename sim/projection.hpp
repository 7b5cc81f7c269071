// Synapses of one projection, stored so that propagation is cheap and lock-free:
// split into one block per thread by target neuron (each thread owns its targets'
// ring buffers), each block in compressed rows by source neuron, targets sorted
// inside a row. Weights and delays are stored per synapse only when they differ
// between synapses; a static projection with one weight and one delay costs 4 bytes
// per synapse (the target index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace glia {

class Plasticity;

struct SynapseBlock {
  std::uint32_t target_lo = 0, target_hi = 0; // targets of this block: [lo, hi)
  std::vector<std::uint64_t> row;             // n_pre + 1 offsets into the arrays below
  std::vector<std::uint32_t> target;          // post-synaptic neuron (population index)
  std::vector<float> weight;                  // empty: the projection's constant weight
  std::vector<std::uint16_t> delay;           // steps; empty: the projection's constant delay
  std::vector<double> plastic_weight;         // plastic projections: the weights, in double

  std::size_t size() const { return target.size(); }
  std::size_t bytes() const {
    return row.capacity() * sizeof(std::uint64_t) + target.capacity() * sizeof(std::uint32_t) +
           weight.capacity() * sizeof(float) + delay.capacity() * sizeof(std::uint16_t) +
           plastic_weight.capacity() * sizeof(double);
  }
};

struct Projection {
  std::string name;
  int pre = 0, post = 0; // population indices
  int port = 0;
  bool constant_weight = true;
  double weight = 0.0; // when constant_weight
  bool constant_delay = true;
  std::uint16_t delay = 1;     // steps, when constant_delay
  std::uint16_t max_delay = 1; // steps, over all synapses
  std::vector<SynapseBlock> blocks;
  std::shared_ptr<Plasticity> plasticity; // null for static projections

  std::uint64_t n_synapses() const {
    std::uint64_t n = 0;
    for (const auto& b : blocks) n += b.size();
    return n;
  }
  std::size_t bytes() const {
    std::size_t n = 0;
    for (const auto& b : blocks) n += b.bytes();
    return n;
  }
  // Weight of synapse s of block b (for inspection and tests).
  double weight_of(const SynapseBlock& b, std::size_t s) const {
    if (!b.plastic_weight.empty()) return b.plastic_weight[s];
    return constant_weight ? weight : static_cast<double>(b.weight[s]);
  }
  std::uint16_t delay_of(const SynapseBlock& b, std::size_t s) const {
    return constant_delay ? delay : b.delay[s];
  }
};

} // namespace glia
