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
  // Fetches the head of source j's row of targets (2 KB). The rows of successive spikes
  // lie far apart in arrays much larger than the caches, so delivery fetches the next
  // spike's row while it works on this one: a row otherwise starts with a wait on memory
  // until the hardware prefetcher has caught on (Brunel: static propagation 1.5x faster
  // on 1 thread; pair STDP's sorting pass too). Past a short row's end this fetches other
  // rows, which costs bandwidth but no correctness (a prefetch never faults; addresses
  // as integers, since the lines may lie past the array's end). Fetching the weights and
  // delays too was 10 % slower on the 8000-neuron liquid's short rows.
  void prefetch_row(std::uint32_t j) const {
    constexpr int kLines = 32; // 64-byte lines, 16 targets each
    const auto head = reinterpret_cast<std::uintptr_t>(target.data() + row[j]);
    for (int line = 0; line < kLines; ++line)
      __builtin_prefetch(reinterpret_cast<const void*>(head + 64 * line));
  }
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
