// How much memory a run of an experiment will need, estimated from the validated
// experiment before anything is built (so that a network too large for the machine is
// refused in a second instead of swapping or being killed an hour later), and how much
// the machine, or the container's memory limit, has available.
//
// The estimate adds the parts the engine allocates: neuron state, per-neuron parameters,
// ring buffers (ports x slots x neurons x 8 B), synapses (the expected count of each
// connection rule times the bytes each one costs: target, weight and delay where they
// vary, double weights and index of plastic projections), row offsets per thread block,
// spike statistics and history, record buffers of one flush period, the HDF5 writer's
// chunk caches, a checkpoint being written, a dataset pipeline's feature matrices, and
// the process's fixed share (libraries, runtime). It is compared with measured peak memory in
// tests/test_memory_estimate.cpp.
#pragma once

#include "io/experiment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace glia {

struct MemoryEstimate {
  struct Part {
    std::string what;
    double bytes = 0.0;
  };
  std::vector<Part> parts;
  double neurons = 0.0, synapses = 0.0; // expected counts
  double total() const;
};

// `threads`: the thread count of the run; `checkpoints`: whether checkpoints are written.
MemoryEstimate estimate_memory(const Experiment& ex, int threads, bool checkpoints);

// Memory available to this process: MemAvailable of /proc/meminfo, lowered to what the
// cgroup memory limit (v2 memory.max, or v1 memory.limit_in_bytes) leaves. Empty when
// neither can be read.
std::optional<double> available_memory_bytes();

} // namespace glia
