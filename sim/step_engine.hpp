// An engine that advances the whole network somewhere else (the CUDA backend, gpu/),
// in blocks of steps. The Simulator keeps doing what does not depend on where the
// neurons live: spike statistics, spike and state records, flushes, progress, the stop
// poll and observers, from the spikes and samples each block hands back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace glia {

// One state report the engine samples: element `element` of variable `variable` of the
// given neurons of population `population`, after every step s with (s + 1) % every == 0.
struct EngineStateRequest {
  int population = 0, variable = 0, element = 0;
  std::vector<std::uint32_t> neurons;
  std::uint64_t every = 1;
};

// What one block of n steps produced.
struct EngineBlock {
  // spikes[p]: the spikes of population p, step first + k in [offsets[p][k],
  // offsets[p][k + 1]), ascending neuron index within a step.
  std::vector<std::vector<std::uint32_t>> spikes;
  std::vector<std::vector<std::size_t>> offsets;
  // rows[r]: the samples of request r in this block, row-major, in step order.
  std::vector<std::vector<double>> rows;
  // Some state was NaN or infinite at a check (every `finite_every` steps) in the block.
  bool non_finite = false;
};

class StepEngine {
public:
  virtual ~StepEngine() = default;
  virtual std::string describe() const = 0;
  // The longest block advance() takes (its buffers are sized for it).
  virtual std::uint32_t max_block_steps() const = 0;
  virtual void set_state_requests(const std::vector<EngineStateRequest>& requests) = 0;
  // Advances steps [first, first + n).
  virtual void advance(std::uint64_t first, std::uint32_t n, std::uint64_t finite_every,
                       EngineBlock& out) = 0;
  // Copies the evolving state back into the host network (neuron state, external
  // currents, ring buffers), so that it can be inspected.
  virtual void download() = 0;
};

} // namespace glia
