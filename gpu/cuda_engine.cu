// The CUDA engine: the whole step loop on the device. Device arrays mirror the CPU
// structure-of-arrays (state[k][i], ring[port][slot][i]); the neuron kernel is
// instantiated from each model's own GLIA_HD step(), the inputs draw through the same
// GLIA_HD functions as the CPU's (sim/input_draws.hpp), so no model or draw exists twice.
// Per step, in the CPU loop's order: current inputs, event inputs, the neuron update
// (which reads and clears this step's ring slot and compacts the spikes into a list),
// then delivery, one warp per spiking source over its synapse rows into the ring slots
// at now + delay. Sums into the ring buffers are 64-bit fixed point by default
// (gpu/fixed_point.hpp), so repeated runs are bitwise identical whatever order the
// atomics land in; with fixed_point off they are double atomics. Spikes and state
// samples stay on the device for a block of steps and are copied out per block.
#include "gpu/cuda_api.hpp"
#include "gpu/device_neuron.hpp"
#include "gpu/fixed_point.hpp"
#include "gpu/stdp_device.hpp"
#include "neurons/izhikevich.hpp"
#include "neurons/lif_cond_exp.hpp"
#include "neurons/lif_delta.hpp"
#include "neurons/lif_exp.hpp"
#include "sim/input_draws.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia::gpu::cuda {

namespace {

void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}
#define GLIA_CUDA_CHECK(x) cuda_check((x), #x)

template <class T> T* device_alloc(std::size_t n) {
  T* p = nullptr;
  if (n == 0) n = 1;
  GLIA_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
  return p;
}

template <class T> T* upload(const T* host, std::size_t n) {
  T* d = device_alloc<T>(n);
  if (n > 0) GLIA_CUDA_CHECK(cudaMemcpy(d, host, n * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

constexpr int kThreads = 256;

// Appends i to the list, one atomic per warp (the warp's spiking lanes take
// consecutive places from the lowest lane's).
__device__ void append_spike(bool spike, std::uint32_t i, std::uint32_t* list, std::uint32_t* count,
                             std::uint32_t* history) {
  const unsigned active = __activemask();
  const unsigned fired = __ballot_sync(active, spike);
  if (fired == 0) return;
  const int lane = threadIdx.x & 31;
  const int leader = __ffs(fired) - 1;
  std::uint32_t base = 0;
  if (lane == leader) base = atomicAdd(count, static_cast<std::uint32_t>(__popc(fired)));
  base = __shfl_sync(active, base, leader);
  if (spike) {
    const std::uint32_t at = base + __popc(fired & ((1u << lane) - 1u));
    list[at] = i;
    if (history) history[at] = i; // the same list, kept longer for plastic projections
  }
}

template <class M, int I>
__global__ void step_kernel(DeviceNeuron<M, I> v, std::uint32_t n, int ports, int n_state,
                            std::uint32_t* list, std::uint32_t* count, std::uint32_t* history,
                            bool check_finite, int* non_finite) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  bool spike = false;
  if (i < n) {
    DeviceNeuron<M, I> w = v;
    w.i = i;
    spike = M::step(w);
    w.clear_slot(ports);
    if (check_finite)
      for (int k = 0; k < n_state; ++k)
        if (!isfinite(v.st[k][i])) atomicOr(non_finite, 1);
  }
  append_spike(spike, i, list, count, history);
}

struct DeviceSynapseBlock {
  const std::uint64_t* row;
  const std::uint32_t* target;
  const float* weight;        // null: constant
  const std::uint16_t* delay; // null: constant
  double* plastic;            // STDP projections: the weights
};

__device__ void ring_add(void* ring, std::size_t at, double w, bool fixed) {
  if (fixed)
    atomicAdd(static_cast<unsigned long long*>(ring) + at,
              static_cast<unsigned long long>(to_fixed(w)));
  else
    atomicAdd(static_cast<double*>(ring) + at, w);
}

// Spikes of the pre population arriving now (emitted `delay` steps ago): each adds its
// current weight into this step's ring slot, then the rule's on_pre acts. One warp per
// source; the source's trace is bumped once its row is done.
__global__ void stdp_arrive_kernel(const DeviceSynapseBlock* blocks, int n_blocks,
                                   const std::uint32_t* list, const std::uint32_t* count,
                                   void* slot, bool fixed, StdpTraces r, std::uint64_t step) {
  const std::uint32_t lane = threadIdx.x & 31u;
  const std::uint32_t warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const std::uint32_t n_warps = (gridDim.x * blockDim.x) >> 5;
  const std::uint32_t n_spikes = *count;
  for (std::uint32_t s = warp; s < n_spikes; s += n_warps) {
    const std::uint32_t j = list[s];
    for (int b = 0; b < n_blocks; ++b) {
      const DeviceSynapseBlock blk = blocks[b];
      for (std::uint64_t k = blk.row[j] + lane; k < blk.row[j + 1]; k += 32) {
        const std::uint32_t i = blk.target[k];
        ring_add(slot, i, r.arrive(blk.plastic[k], i, step), fixed);
      }
    }
    __syncwarp();
    if (lane == 0) r.arrived(j, step);
  }
}

// Post spikes of this step: on_post on every synapse into the neuron (through the
// transposed index), with the source's trace now, then the neuron's trace is bumped.
__global__ void stdp_post_kernel(const std::uint32_t* trow, const std::uint64_t* tsyn,
                                 const std::uint32_t* tsrc, double* weights,
                                 const std::uint32_t* list, const std::uint32_t* count,
                                 StdpTraces r, std::uint64_t step) {
  const std::uint32_t lane = threadIdx.x & 31u;
  const std::uint32_t warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const std::uint32_t n_warps = (gridDim.x * blockDim.x) >> 5;
  const std::uint32_t n_spikes = *count;
  for (std::uint32_t s = warp; s < n_spikes; s += n_warps) {
    const std::uint32_t i = list[s];
    for (std::uint32_t e = trow[i] + lane; e < trow[i + 1]; e += 32)
      r.post(weights[tsyn[e]], tsrc[e], step);
    __syncwarp();
    if (lane == 0) r.posted(i, step);
  }
}

// One warp per spiking source: the lanes walk the source's row in each block.
__global__ void deliver_kernel(const DeviceSynapseBlock* blocks, int n_blocks, double weight,
                               std::uint32_t delay, const std::uint32_t* list,
                               const std::uint32_t* count, void* port_base, std::uint32_t slots,
                               std::uint32_t now, std::uint32_t n_post, bool fixed) {
  const std::uint32_t lane = threadIdx.x & 31u;
  const std::uint32_t warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const std::uint32_t n_warps = (gridDim.x * blockDim.x) >> 5;
  const std::uint32_t n_spikes = *count;
  for (std::uint32_t s = warp; s < n_spikes; s += n_warps) {
    const std::uint32_t src = list[s];
    for (int b = 0; b < n_blocks; ++b) {
      const DeviceSynapseBlock blk = blocks[b];
      const std::uint64_t a = blk.row[src], e = blk.row[src + 1];
      for (std::uint64_t k = a + lane; k < e; k += 32) {
        const double w = blk.weight ? static_cast<double>(blk.weight[k]) : weight;
        std::uint32_t slot = now + (blk.delay ? blk.delay[k] : delay);
        if (slot >= slots) slot -= slots;
        ring_add(port_base, static_cast<std::size_t>(slot) * n_post + blk.target[k], w, fixed);
      }
    }
  }
}

// Poisson input: one thread per target neuron, each drawing the CPU's count.
__global__ void poisson_kernel(Stream stream, std::uint64_t step, double lambda, double eml,
                               const double* cdf, std::uint32_t n_cdf, double weight,
                               const std::uint32_t* neurons, std::uint32_t n_targets, void* slot,
                               bool fixed) {
  const std::uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n_targets) return;
  const std::uint32_t i = neurons ? neurons[t] : t;
  const std::uint32_t k = poisson_input_count(stream, step, i, lambda, eml, cdf, n_cdf);
  if (k == 0) return;
  if (fixed) {
    auto* r = static_cast<std::uint64_t*>(slot) + i;
    *r += to_fixed(k * weight);
  } else {
    auto* r = static_cast<double*>(slot) + i;
    *r += k * weight;
  }
}

__global__ void spike_times_kernel(const std::uint32_t* targets, std::uint32_t n, double weight,
                                   void* slot, bool fixed) {
  const std::uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t < n) ring_add(slot, targets[t], weight, fixed);
}

__global__ void fill_kernel(double* x, std::uint32_t n, double v) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = v;
}

__global__ void add_current_kernel(double* iext, const std::uint32_t* neurons, std::uint32_t n,
                                   double a) {
  const std::uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t < n) iext[neurons ? neurons[t] : t] += a;
}

__global__ void noise_kernel(double* iext, const std::uint32_t* neurons, std::uint32_t n,
                             Stream stream, std::uint64_t draw, double mean, double sd,
                             bool uniform) {
  const std::uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n) return;
  const std::uint32_t i = neurons ? neurons[t] : t;
  iext[i] += noise_current(stream, draw, i, mean, sd, uniform);
}

__global__ void gather_kernel(const double* state, const std::uint32_t* neurons, std::uint32_t m,
                              double* out) {
  const std::uint32_t c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < m) out[c] = state[neurons[c]];
}

unsigned grid_for(std::uint64_t n) {
  return static_cast<unsigned>(std::max<std::uint64_t>(1, (n + kThreads - 1) / kThreads));
}

struct DevicePopulation {
  PlanPopulation host;
  std::vector<double*> params, derived, state;
  double* i_ext = nullptr;
  void* ring = nullptr;
  std::uint32_t* spikes = nullptr; // block_steps x n
  std::uint32_t* counts = nullptr; // block_steps
  // Pre populations of STDP projections: the spike lists of the last `history` steps.
  std::uint32_t history = 0;
  std::uint32_t* hist = nullptr;       // history x n
  std::uint32_t* hist_count = nullptr; // history
  std::vector<int> plastic_in;         // STDP projections into this population
  std::vector<int> current_inputs;
  std::vector<int> event_inputs;
};

struct DeviceProjection {
  PlanProjection host;
  DeviceSynapseBlock* blocks = nullptr;
  std::vector<DeviceSynapseBlock> host_blocks; // the device pointers, for download
  std::vector<std::uint64_t> block_sizes;
  // STDP
  double* weights = nullptr; // all blocks' weights, block after block
  std::uint32_t* trow = nullptr;
  std::uint64_t* tsyn = nullptr;
  std::uint32_t* tsrc = nullptr;
  StdpTraces rule{};
};

struct DevicePoisson {
  PlanPoisson host;
  double* cdf = nullptr;
  std::uint32_t* neurons = nullptr;
};

struct DeviceSpikeTimes {
  PlanSpikeTimes host;
  std::uint32_t* targets = nullptr;
};

struct DeviceCurrent {
  PlanCurrent host;
  std::uint32_t* neurons = nullptr;
};

struct DeviceRequest {
  EngineStateRequest r;
  std::uint32_t* neurons = nullptr;
  double* rows = nullptr;
};

class CudaEngine final : public StepEngine {
public:
  CudaEngine(const DevicePlan& plan, std::uint32_t block_steps)
      : plan_(plan), block_steps_(block_steps), fixed_(plan.options.fixed_point) {
    GLIA_CUDA_CHECK(cudaSetDevice(plan.options.device));
    cudaDeviceProp prop{};
    GLIA_CUDA_CHECK(cudaGetDeviceProperties(&prop, plan.options.device));
    device_name_ = prop.name;
    sms_ = prop.multiProcessorCount;
    GLIA_CUDA_CHECK(cudaStreamCreate(&stream_));
    non_finite_ = device_alloc<int>(1);
    for (const auto& p : plan.populations) {
      DevicePopulation d;
      d.host = p;
      if (p.params.size() > kMaxParams || p.derived.size() > kMaxDerived ||
          p.state.size() > kMaxState)
        throw std::runtime_error("model of population '" + p.name +
                                 "' is too large for the "
                                 "device view");
      for (const auto& v : p.params) d.params.push_back(upload(v.data, v.size));
      for (const auto& v : p.derived) d.derived.push_back(upload(v.data, v.size));
      for (double* s : p.state) d.state.push_back(upload(s, p.n));
      d.i_ext = upload(p.i_ext, p.n);
      const std::size_t ring_n = static_cast<std::size_t>(p.ports) * p.slots * p.n;
      if (fixed_) {
        std::vector<std::uint64_t> r(ring_n);
        for (std::size_t k = 0; k < ring_n; ++k) r[k] = to_fixed(p.ring[k]);
        d.ring = upload(r.data(), ring_n);
      } else {
        d.ring = upload(p.ring, ring_n);
      }
      d.spikes = device_alloc<std::uint32_t>(static_cast<std::size_t>(block_steps_) * p.n);
      d.counts = device_alloc<std::uint32_t>(block_steps_);
      pops_.push_back(std::move(d));
    }
    for (const auto& pr : plan.projections) {
      DeviceProjection d;
      d.host = pr;
      const std::uint32_t n_pre = plan.populations[static_cast<std::size_t>(pr.pre)].n;
      std::vector<DeviceSynapseBlock> blocks;
      if (pr.stdp) d.weights = device_alloc<double>(pr.synapses);
      std::uint64_t offset = 0;
      std::vector<PlanSynapseBlock> kept;
      std::vector<double*> kept_weights;
      for (std::size_t bi = 0; bi < pr.blocks.size(); ++bi) {
        const auto& b = pr.blocks[bi];
        if (b.size == 0 || !b.row) continue;
        DeviceSynapseBlock sb{};
        sb.row = upload(b.row, n_pre + 1u);
        sb.target = upload(b.target, b.size);
        sb.weight = b.weight ? upload(b.weight, b.size) : nullptr;
        sb.delay = b.delay ? upload(b.delay, b.size) : nullptr;
        if (pr.stdp) {
          sb.plastic = d.weights + offset;
          GLIA_CUDA_CHECK(cudaMemcpy(sb.plastic, pr.rule.weights[bi], sizeof(double) * b.size,
                                     cudaMemcpyHostToDevice));
          kept_weights.push_back(pr.rule.weights[bi]);
        }
        offset += b.size;
        blocks.push_back(sb);
        kept.push_back(b);
        d.block_sizes.push_back(b.size);
      }
      d.blocks = upload(blocks.data(), blocks.size());
      d.host_blocks = blocks;
      d.host.blocks = kept;
      d.host.rule.weights = kept_weights;
      if (pr.stdp) setup_stdp(d, n_pre, plan.populations[static_cast<std::size_t>(pr.post)].n);
      projs_.push_back(std::move(d));
    }
    for (std::size_t q = 0; q < projs_.size(); ++q) {
      const DeviceProjection& d = projs_[q];
      if (!d.host.stdp) continue;
      pops_[static_cast<std::size_t>(d.host.post)].plastic_in.push_back(static_cast<int>(q));
      DevicePopulation& pre = pops_[static_cast<std::size_t>(d.host.pre)];
      pre.history = std::max<std::uint32_t>(pre.history, d.host.delay + 1u);
    }
    for (auto& p : pops_)
      if (p.history > 0) {
        p.hist = device_alloc<std::uint32_t>(static_cast<std::size_t>(p.history) * p.host.n);
        p.hist_count = device_alloc<std::uint32_t>(p.history);
        GLIA_CUDA_CHECK(cudaMemset(p.hist_count, 0, sizeof(std::uint32_t) * p.history));
      }
    for (const auto& pi : plan.poisson) {
      DevicePoisson d{pi, upload(pi.cdf->data(), pi.cdf->size()), nullptr};
      if (!pi.neurons->empty()) d.neurons = upload(pi.neurons->data(), pi.neurons->size());
      pops_[static_cast<std::size_t>(pi.target)].event_inputs.push_back(
          static_cast<int>(poisson_.size()));
      poisson_.push_back(d);
    }
    for (const auto& st : plan.spike_times) {
      DeviceSpikeTimes d{st, upload(st.neurons->data(), st.neurons->size())};
      pops_[static_cast<std::size_t>(st.target)].event_inputs.push_back(
          -1 - static_cast<int>(spike_times_.size()));
      spike_times_.push_back(d);
    }
    for (const auto& c : plan.currents) {
      DeviceCurrent d{c, nullptr};
      if (!c.neurons->empty()) d.neurons = upload(c.neurons->data(), c.neurons->size());
      pops_[static_cast<std::size_t>(c.target)].current_inputs.push_back(
          static_cast<int>(currents_.size()));
      currents_.push_back(d);
    }
    GLIA_CUDA_CHECK(cudaDeviceSynchronize());
  }

  ~CudaEngine() override {
    // Device memory goes with the context; only the stream is released explicitly
    // (a destructor must not throw).
    cudaStreamDestroy(stream_);
    for (auto& p : pops_) {
      for (double* x : p.params) cudaFree(x);
      for (double* x : p.derived) cudaFree(x);
      for (double* x : p.state) cudaFree(x);
      cudaFree(p.i_ext);
      cudaFree(p.ring);
      cudaFree(p.spikes);
      cudaFree(p.counts);
      cudaFree(p.hist);
      cudaFree(p.hist_count);
    }
    for (auto& r : requests_) {
      cudaFree(r.neurons);
      cudaFree(r.rows);
    }
    cudaFree(non_finite_);
  }

  std::string describe() const override {
    return "cuda device " + std::to_string(plan_.options.device) + " (" + device_name_ + "), " +
           (fixed_ ? "64-bit fixed-point sums" : "double atomic sums");
  }
  std::uint32_t max_block_steps() const override { return block_steps_; }

  void set_state_requests(const std::vector<EngineStateRequest>& requests) override {
    for (auto& r : requests_) {
      cudaFree(r.neurons);
      cudaFree(r.rows);
    }
    requests_.clear();
    for (const auto& r : requests) {
      DeviceRequest d;
      d.r = r;
      d.neurons = upload(r.neurons.data(), r.neurons.size());
      d.rows = device_alloc<double>((block_steps_ / r.every + 1) * r.neurons.size());
      requests_.push_back(d);
    }
  }

  void advance(std::uint64_t first, std::uint32_t n, std::uint64_t finite_every,
               EngineBlock& out) override {
    if (n > block_steps_) throw std::logic_error("block longer than the engine's buffers");
    for (auto& p : pops_)
      GLIA_CUDA_CHECK(cudaMemsetAsync(p.counts, 0, sizeof(std::uint32_t) * n, stream_));
    GLIA_CUDA_CHECK(cudaMemsetAsync(non_finite_, 0, sizeof(int), stream_));
    for (std::uint32_t k = 0; k < n; ++k) one_step(first + k, k, first, finite_every);
    GLIA_CUDA_CHECK(cudaGetLastError());
    // Copy out: counts, then each step's list, sorted into neuron order on the host.
    out.spikes.assign(pops_.size(), {});
    out.offsets.assign(pops_.size(), {});
    std::vector<std::uint32_t> counts(n);
    for (std::size_t p = 0; p < pops_.size(); ++p) {
      const DevicePopulation& d = pops_[p];
      GLIA_CUDA_CHECK(cudaMemcpyAsync(counts.data(), d.counts, sizeof(std::uint32_t) * n,
                                      cudaMemcpyDeviceToHost, stream_));
      GLIA_CUDA_CHECK(cudaStreamSynchronize(stream_));
      auto& off = out.offsets[p];
      off.assign(n + 1, 0);
      for (std::uint32_t k = 0; k < n; ++k) off[k + 1] = off[k] + counts[k];
      auto& ids = out.spikes[p];
      ids.resize(off[n]);
      for (std::uint32_t k = 0; k < n; ++k)
        if (counts[k] > 0)
          GLIA_CUDA_CHECK(cudaMemcpyAsync(
              ids.data() + off[k], d.spikes + static_cast<std::size_t>(k) * d.host.n,
              sizeof(std::uint32_t) * counts[k], cudaMemcpyDeviceToHost, stream_));
    }
    out.rows.assign(requests_.size(), {});
    for (std::size_t r = 0; r < requests_.size(); ++r) {
      const auto& q = requests_[r];
      const std::uint64_t rows = samples_in(q.r.every, first, n);
      out.rows[r].resize(rows * q.r.neurons.size());
      if (rows > 0)
        GLIA_CUDA_CHECK(cudaMemcpyAsync(out.rows[r].data(), q.rows,
                                        sizeof(double) * out.rows[r].size(), cudaMemcpyDeviceToHost,
                                        stream_));
    }
    int bad = 0;
    GLIA_CUDA_CHECK(
        cudaMemcpyAsync(&bad, non_finite_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
    GLIA_CUDA_CHECK(cudaStreamSynchronize(stream_));
    out.non_finite = bad != 0;
    for (std::size_t p = 0; p < pops_.size(); ++p)
      for (std::uint32_t k = 0; k < n; ++k)
        std::sort(out.spikes[p].begin() + static_cast<std::ptrdiff_t>(out.offsets[p][k]),
                  out.spikes[p].begin() + static_cast<std::ptrdiff_t>(out.offsets[p][k + 1]));
  }

  void download() override {
    for (const auto& d : pops_) {
      const PlanPopulation& p = d.host;
      for (std::size_t k = 0; k < d.state.size(); ++k)
        GLIA_CUDA_CHECK(
            cudaMemcpy(p.state[k], d.state[k], sizeof(double) * p.n, cudaMemcpyDeviceToHost));
      GLIA_CUDA_CHECK(cudaMemcpy(p.i_ext, d.i_ext, sizeof(double) * p.n, cudaMemcpyDeviceToHost));
      const std::size_t ring_n = static_cast<std::size_t>(p.ports) * p.slots * p.n;
      if (fixed_) {
        std::vector<std::uint64_t> r(ring_n);
        GLIA_CUDA_CHECK(
            cudaMemcpy(r.data(), d.ring, sizeof(std::uint64_t) * ring_n, cudaMemcpyDeviceToHost));
        for (std::size_t k = 0; k < ring_n; ++k) p.ring[k] = from_fixed(r[k]);
      } else {
        GLIA_CUDA_CHECK(
            cudaMemcpy(p.ring, d.ring, sizeof(double) * ring_n, cudaMemcpyDeviceToHost));
      }
    }
    for (const auto& d : projs_)
      if (d.host.stdp)
        for (std::size_t b = 0; b < d.host_blocks.size(); ++b)
          GLIA_CUDA_CHECK(cudaMemcpy(d.host.rule.weights[b], d.host_blocks[b].plastic,
                                     sizeof(double) * d.block_sizes[b], cudaMemcpyDeviceToHost));
  }

private:
  // The transposed index (target -> its synapses, in block then row order, with their
  // sources), the traces and the decay tables of an STDP projection.
  void setup_stdp(DeviceProjection& d, std::uint32_t n_pre, std::uint32_t n_post) {
    std::vector<std::uint32_t> trow(n_post + 1, 0), tsrc(d.host.synapses);
    std::vector<std::uint64_t> tsyn(d.host.synapses);
    for (const auto& b : d.host.blocks)
      for (std::uint64_t k = 0; k < b.size; ++k) ++trow[b.target[k] + 1];
    for (std::uint32_t i = 0; i < n_post; ++i) trow[i + 1] += trow[i];
    std::vector<std::uint32_t> fill(trow.begin(), trow.end() - 1);
    std::uint64_t offset = 0;
    for (const auto& b : d.host.blocks) {
      for (std::uint32_t j = 0; j < n_pre; ++j)
        for (std::uint64_t k = b.row[j]; k < b.row[j + 1]; ++k) {
          const std::uint32_t at = fill[b.target[k]]++;
          tsyn[at] = offset + k;
          tsrc[at] = j;
        }
      offset += b.size;
    }
    d.trow = upload(trow.data(), trow.size());
    d.tsyn = upload(tsyn.data(), tsyn.size());
    d.tsrc = upload(tsrc.data(), tsrc.size());
    StdpTraces& r = d.rule;
    r.cfg = d.host.rule.config;
    r.pre_decay = upload(d.host.rule.pre_decay.data(), d.host.rule.pre_decay.size());
    r.post_decay = upload(d.host.rule.post_decay.data(), d.host.rule.post_decay.size());
    r.table = static_cast<std::uint32_t>(d.host.rule.pre_decay.size());
    r.dt = d.host.rule.dt;
    r.pre_value = device_alloc<double>(n_pre);
    r.post_value = device_alloc<double>(n_post);
    r.pre_at = device_alloc<long long>(n_pre);
    r.post_at = device_alloc<long long>(n_post);
    const std::vector<long long> none_pre(n_pre, -1), none_post(n_post, -1);
    GLIA_CUDA_CHECK(cudaMemset(r.pre_value, 0, sizeof(double) * n_pre));
    GLIA_CUDA_CHECK(cudaMemset(r.post_value, 0, sizeof(double) * n_post));
    GLIA_CUDA_CHECK(
        cudaMemcpy(r.pre_at, none_pre.data(), sizeof(long long) * n_pre, cudaMemcpyHostToDevice));
    GLIA_CUDA_CHECK(cudaMemcpy(r.post_at, none_post.data(), sizeof(long long) * n_post,
                               cudaMemcpyHostToDevice));
  }

  // Samples of a request with period `every` at steps [first, first + n).
  static std::uint64_t samples_in(std::uint64_t every, std::uint64_t first, std::uint32_t n) {
    return (first + n) / every - first / every;
  }

  std::size_t elem() const { return fixed_ ? sizeof(std::uint64_t) : sizeof(double); }
  void* slot_ptr(const DevicePopulation& d, int port, std::uint32_t slot) const {
    const std::size_t at = (static_cast<std::size_t>(port) * d.host.slots + slot) * d.host.n;
    return static_cast<char*>(d.ring) + at * elem();
  }

  void one_step(std::uint64_t s, std::uint32_t k, std::uint64_t first, std::uint64_t finite_every) {
    const bool check = finite_every > 0 && (s + 1) % finite_every == 0;
    for (auto& d : pops_) {
      const std::uint32_t n = d.host.n;
      const auto slot = static_cast<std::uint32_t>(s % d.host.slots);
      // 1. current inputs, where one of them changes (as the CPU loop does)
      bool change = (s == first && !d.current_inputs.empty() && !started_);
      for (int c : d.current_inputs) change = change || changes_at(currents_[c].host, s);
      if (change) {
        fill_kernel<<<grid_for(n), kThreads, 0, stream_>>>(d.i_ext, n, 0.0);
        for (int c : d.current_inputs) add_current(d, currents_[c], s);
      }
      // event inputs, in the order the network lists them
      for (int e : d.event_inputs) {
        if (e >= 0) {
          const DevicePoisson& pi = poisson_[e];
          const PlanPoisson& h = pi.host;
          if (s < h.start || s >= h.stop || h.lambda <= 0.0) continue;
          const std::uint32_t m =
              h.neurons->empty() ? n : static_cast<std::uint32_t>(h.neurons->size());
          poisson_kernel<<<grid_for(m), kThreads, 0, stream_>>>(
              h.stream, s, h.lambda, h.exp_minus_lambda, pi.cdf,
              static_cast<std::uint32_t>(h.cdf->size()), h.weight, pi.neurons, m,
              slot_ptr(d, h.port, slot), fixed_);
        } else {
          const DeviceSpikeTimes& st = spike_times_[static_cast<std::size_t>(-1 - e)];
          const auto& steps = *st.host.steps;
          const auto [a, b] = std::equal_range(steps.begin(), steps.end(), s);
          if (a == b) continue;
          const auto m = static_cast<std::uint32_t>(b - a);
          spike_times_kernel<<<grid_for(m), kThreads, 0, stream_>>>(
              st.targets + (a - steps.begin()), m, st.host.weight, slot_ptr(d, st.host.port, slot),
              fixed_);
        }
      }
      // plastic projections deliver on arrival: the spikes emitted `delay` steps ago
      for (int q : d.plastic_in) {
        const DeviceProjection& pr = projs_[static_cast<std::size_t>(q)];
        if (s < pr.host.delay) continue;
        const DevicePopulation& pre = pops_[static_cast<std::size_t>(pr.host.pre)];
        const auto h = static_cast<std::uint32_t>((s - pr.host.delay) % pre.history);
        stdp_arrive_kernel<<<warp_grid(), kThreads, 0, stream_>>>(
            pr.blocks, static_cast<int>(pr.host.blocks.size()),
            pre.hist + static_cast<std::size_t>(h) * pre.host.n, pre.hist_count + h,
            slot_ptr(d, pr.host.port, slot), fixed_, pr.rule, s);
      }
      // 2. neurons
      launch_step(d, s, k, slot, check);
      if (d.history > 0) {
        const auto h = static_cast<std::uint32_t>(s % d.history);
        GLIA_CUDA_CHECK(cudaMemcpyAsync(d.hist_count + h, d.counts + k, sizeof(std::uint32_t),
                                        cudaMemcpyDeviceToDevice, stream_));
      }
    }
    started_ = true;
    // 3. state samples after the update
    for (auto& q : requests_) {
      if ((s + 1) % q.r.every != 0) continue;
      const std::uint64_t row = (s + 1) / q.r.every - (first + q.r.every) / q.r.every;
      const DevicePopulation& d = pops_[static_cast<std::size_t>(q.r.population)];
      const auto m = static_cast<std::uint32_t>(q.r.neurons.size());
      gather_kernel<<<grid_for(m), kThreads, 0, stream_>>>(
          d.state[static_cast<std::size_t>(q.r.variable)], q.neurons, m, q.rows + row * m);
    }
    // 4. delivery of this step's spikes
    for (const auto& pr : projs_) {
      if (pr.host.blocks.empty() || pr.host.stdp) continue;
      const DevicePopulation& pre = pops_[static_cast<std::size_t>(pr.host.pre)];
      const DevicePopulation& post = pops_[static_cast<std::size_t>(pr.host.post)];
      const auto now = static_cast<std::uint32_t>(s % post.host.slots);
      // Enough warps to fill the device; each takes every n_warps-th spike.
      deliver_kernel<<<warp_grid(), kThreads, 0, stream_>>>(
          pr.blocks, static_cast<int>(pr.host.blocks.size()), pr.host.weight, pr.host.delay,
          pre.spikes + static_cast<std::size_t>(k) * pre.host.n, pre.counts + k,
          slot_ptr(post, pr.host.port, 0), post.host.slots, now, post.host.n, fixed_);
    }
    // 5. STDP on this step's post spikes
    for (const auto& pr : projs_) {
      if (!pr.host.stdp || pr.host.blocks.empty()) continue;
      const DevicePopulation& post = pops_[static_cast<std::size_t>(pr.host.post)];
      stdp_post_kernel<<<warp_grid(), kThreads, 0, stream_>>>(
          pr.trow, pr.tsyn, pr.tsrc, pr.weights,
          post.spikes + static_cast<std::size_t>(k) * post.host.n, post.counts + k, pr.rule, s);
    }
  }

  // Enough warps to fill the device; each takes every n_warps-th spike of a list.
  unsigned warp_grid() const { return static_cast<unsigned>(std::max(1, sms_ * 8)); }

  static bool changes_at(const PlanCurrent& c, std::uint64_t s) {
    if (c.noise)
      return (s >= c.start && s < c.stop && (s - c.start) % c.interval == 0) || s == c.stop;
    return std::binary_search(c.steps->begin(), c.steps->end(), s);
  }

  void add_current(DevicePopulation& d, const DeviceCurrent& c, std::uint64_t s) {
    const PlanCurrent& h = c.host;
    const std::uint32_t m =
        h.neurons->empty() ? d.host.n : static_cast<std::uint32_t>(h.neurons->size());
    if (h.noise) {
      if (s < h.start || s >= h.stop) return;
      noise_kernel<<<grid_for(m), kThreads, 0, stream_>>>(
          d.i_ext, c.neurons, m, h.stream, (s - h.start) / h.interval, h.mean, h.sd, h.uniform);
      return;
    }
    const auto it = std::upper_bound(h.steps->begin(), h.steps->end(), s);
    const double a = it == h.steps->begin() ? 0.0 : (*h.amplitudes)[(it - h.steps->begin()) - 1];
    if (a != 0.0)
      add_current_kernel<<<grid_for(m), kThreads, 0, stream_>>>(d.i_ext, c.neurons, m, a);
  }

  template <class M, int I>
  void launch_model(DevicePopulation& d, std::uint64_t s, std::uint32_t k, std::uint32_t slot,
                    bool check) {
    DeviceNeuron<M, I> v{};
    for (std::size_t j = 0; j < d.params.size(); ++j) {
      v.par[j] = d.params[j];
      v.par_varies[j] = d.host.params[j].size == 1 ? 0 : 1;
    }
    for (std::size_t j = 0; j < d.derived.size(); ++j) {
      v.der[j] = d.derived[j];
      v.der_varies[j] = d.host.derived[j].size == 1 ? 0 : 1;
    }
    for (std::size_t j = 0; j < d.state.size(); ++j) v.st[j] = d.state[j];
    v.slot0 = slot_ptr(d, 0, slot);
    v.port_stride = static_cast<std::size_t>(d.host.slots) * d.host.n;
    v.fixed = fixed_;
    v.iext = d.i_ext;
    v.stream = d.host.noise;
    v.step_ = s;
    v.dt_ = plan_.dt;
    step_kernel<M, I><<<grid_for(d.host.n), kThreads, 0, stream_>>>(
        v, d.host.n, d.host.ports, static_cast<int>(d.state.size()),
        d.spikes + static_cast<std::size_t>(k) * d.host.n, d.counts + k,
        d.history > 0 ? d.hist + static_cast<std::size_t>(s % d.history) * d.host.n : nullptr,
        check, non_finite_);
  }

  void launch_step(DevicePopulation& d, std::uint64_t s, std::uint32_t k, std::uint32_t slot,
                   bool check) {
    const int g = d.host.integrator;
    switch (d.host.model) {
    case DeviceModel::lif_delta:
      launch_model<LifDelta, 0>(d, s, k, slot, check);
      break;
    case DeviceModel::lif_exp:
      launch_model<LifExp, 0>(d, s, k, slot, check);
      break;
    case DeviceModel::lif_cond_exp:
      if (g == LifCondExp::euler)
        launch_model<LifCondExp, LifCondExp::euler>(d, s, k, slot, check);
      else if (g == LifCondExp::exp_euler)
        launch_model<LifCondExp, LifCondExp::exp_euler>(d, s, k, slot, check);
      else
        launch_model<LifCondExp, LifCondExp::rk4>(d, s, k, slot, check);
      break;
    case DeviceModel::izhikevich:
      if (g == Izhikevich::rk4)
        launch_model<Izhikevich, Izhikevich::rk4>(d, s, k, slot, check);
      else
        launch_model<Izhikevich, Izhikevich::euler>(d, s, k, slot, check);
      break;
    }
  }

  DevicePlan plan_;
  std::uint32_t block_steps_;
  bool fixed_;
  bool started_ = false;
  std::string device_name_;
  int sms_ = 1;
  cudaStream_t stream_{};
  int* non_finite_ = nullptr;
  std::vector<DevicePopulation> pops_;
  std::vector<DeviceProjection> projs_;
  std::vector<DevicePoisson> poisson_;
  std::vector<DeviceSpikeTimes> spike_times_;
  std::vector<DeviceCurrent> currents_;
  std::vector<DeviceRequest> requests_;
};

} // namespace

DeviceInfo probe(int device) {
  DeviceInfo info;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    info.error = e != cudaSuccess ? cudaGetErrorString(e) : "the CUDA runtime lists none";
    cudaGetLastError(); // clear the sticky error of a failed probe
    return info;
  }
  info.count = n;
  if (device < 0 || device >= n) {
    info.error = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) +
                 " present)";
    info.count = 0;
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
    info.name = prop.name;
    info.major = prop.major;
    info.minor = prop.minor;
  }
  std::size_t free_b = 0, total_b = 0;
  if (cudaSetDevice(device) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
    info.free_bytes = static_cast<double>(free_b);
    info.total_bytes = static_cast<double>(total_b);
  }
  return info;
}

std::unique_ptr<StepEngine> create_engine(const DevicePlan& plan, std::uint32_t block_steps) {
  return std::make_unique<CudaEngine>(plan, block_steps);
}

std::string build_description() {
  int rt = 0;
  cudaRuntimeGetVersion(&rt);
  return "CUDA runtime " + std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10) +
         ", architectures " GLIA_CUDA_ARCHITECTURES;
}

} // namespace glia::gpu::cuda
