// What the CUDA engine is given: the network as plain arrays (pointers into the host
// network's own storage, nothing copied), built by gpu/backend.cpp from a Network and
// read by gpu/cuda_engine.cu. Keeping this plain lets the .cu files include the models
// and the random streams but none of the host engine's headers.
#pragma once

#include "plasticity/stdp.hpp"
#include "sim/random.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace glia::gpu {

// The models the device engine is instantiated for (gpu/cuda_engine.cu).
enum class DeviceModel { lif_delta, lif_exp, lif_cond_exp, izhikevich };

struct Values {
  const double* data = nullptr;
  std::uint32_t size = 0; // 1 (homogeneous) or the population size
};

struct PlanPopulation {
  std::string name;
  DeviceModel model = DeviceModel::lif_delta;
  std::uint32_t n = 0;
  int integrator = 0;
  std::vector<Values> params, derived;
  std::vector<double*> state; // one per (scalar) state variable, n values each
  double* i_ext = nullptr;
  int ports = 1;
  std::uint32_t slots = 1;
  double* ring = nullptr; // ports x slots x n, the host layout
  Stream noise;
};

// One thread block's compressed rows of a projection (see sim/projection.hpp).
struct PlanSynapseBlock {
  const std::uint64_t* row = nullptr; // n_pre + 1
  const std::uint32_t* target = nullptr;
  const float* weight = nullptr;        // null: constant weight
  const std::uint16_t* delay = nullptr; // null: constant delay
  std::uint64_t size = 0;
};

// Pair STDP (plasticity/stdp.hpp) on a projection: weights in double per synapse, the
// projection's one delay, pre events on arrival, post events after propagation. The
// device applies each post spike to the synapses into the neuron at once (the CPU defers
// it to the source's next arrival: the same updates in the same order per synapse).
inline constexpr std::size_t kStdpDecayTable = 4096; // as sim/plasticity.hpp's DecayTable

struct PlanStdp {
  Stdp::Config config{};
  std::vector<double> pre_decay, post_decay; // exp(-k dt / tau) for k < table size
  double dt = 0.1;
  std::vector<double*> weights; // per block: the host's plastic weights
};

struct PlanProjection {
  std::string name;
  int pre = 0, post = 0, port = 0;
  double weight = 0.0;     // when the blocks have no weights
  std::uint16_t delay = 1; // when the blocks have no delays
  std::vector<PlanSynapseBlock> blocks;
  std::uint64_t synapses = 0;
  bool stdp = false;
  PlanStdp rule;
};

// Targets: empty = every neuron of the population.
struct PlanPoisson {
  int target = 0;
  const std::vector<std::uint32_t>* neurons = nullptr;
  double lambda = 0, exp_minus_lambda = 0, weight = 0;
  int port = 0;
  std::uint64_t start = 0, stop = 0;
  Stream stream;
  const std::vector<double>* cdf = nullptr;
};

struct PlanSpikeTimes {
  int target = 0, port = 0;
  double weight = 0;
  const std::vector<std::uint64_t>* steps = nullptr;
  const std::vector<std::uint32_t>* neurons = nullptr; // the target of each event
};

// Current inputs of one population, evaluated at the steps where one changes.
struct PlanCurrent {
  int target = 0;
  const std::vector<std::uint32_t>* neurons = nullptr;
  bool noise = false;
  // step current: amplitudes[k] from steps[k] on (StepCurrentInput)
  const std::vector<std::uint64_t>* steps = nullptr;
  const std::vector<double>* amplitudes = nullptr;
  // noise
  double mean = 0, sd = 0;
  std::uint64_t interval = 1, start = 0, stop = 0;
  Stream stream;
  bool uniform = false;
};

struct DeviceOptions {
  bool fixed_point = true; // order-independent (reproducible) sums in the ring buffers
  int device = 0;
};

struct DevicePlan {
  double dt = 0.1;
  std::vector<PlanPopulation> populations;
  std::vector<PlanProjection> projections;
  std::vector<PlanPoisson> poisson;
  std::vector<PlanSpikeTimes> spike_times;
  std::vector<PlanCurrent> currents;
  DeviceOptions options;
};

// Device memory, part by part, as the engine will allocate it.
struct DeviceMemoryPart {
  std::string what;
  double bytes = 0;
};
struct DeviceMemory {
  std::vector<DeviceMemoryPart> parts;
  double total() const {
    double t = 0;
    for (const auto& p : parts) t += p.bytes;
    return t;
  }
};

// The number of steps one block of the engine holds spikes for, given the neuron count:
// the spike buffers hold every neuron firing at every step of a block (so that they can
// never overflow), capped at 256 MiB and at 1000 steps.
inline std::uint32_t block_steps_for(std::uint64_t neurons) {
  constexpr std::uint64_t kBudget = 256ull << 20;
  const std::uint64_t per_step = 4 * (neurons > 0 ? neurons : 1);
  const std::uint64_t k = kBudget / per_step;
  return static_cast<std::uint32_t>(k < 1 ? 1 : (k > 1000 ? 1000 : k));
}

DeviceMemory device_memory(const DevicePlan& plan, std::uint32_t block_steps);

} // namespace glia::gpu
