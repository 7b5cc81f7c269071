// Parallel per-sample feature extraction (see features.hpp).
#include "reservoir/features.hpp"

#include "io/network_builder.hpp"
#include "reservoir/snapshots.hpp"
#include "sim/network_state.hpp"
#include "sim/plasticity.hpp"
#include "sim/sample_input.hpp"
#include "sim/simulator.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace glia {

void freeze_plasticity(Network& net) {
  for (Projection& pr : net.projections()) {
    if (!pr.plasticity) continue;
    for (std::size_t b = 0; b < pr.blocks.size(); ++b) pr.plasticity->settle(pr, b);
    for (SynapseBlock& sb : pr.blocks) {
      if (sb.plastic_weight.empty()) continue;
      sb.weight.assign(sb.plastic_weight.begin(), sb.plastic_weight.end());
      std::vector<double>().swap(sb.plastic_weight);
    }
    pr.constant_weight = false;
    pr.plasticity.reset();
  }
}

PlasticWeights plastic_weights(Network& net) {
  PlasticWeights out(net.projections().size());
  for (std::size_t j = 0; j < net.projections().size(); ++j) {
    Projection& pr = net.projections()[j];
    if (!pr.plasticity) continue;
    for (std::size_t b = 0; b < pr.blocks.size(); ++b) pr.plasticity->settle(pr, b);
    out[j].reserve(pr.n_synapses());
    for_each_synapse_canonical(pr, [&](std::size_t b, std::uint64_t s) {
      out[j].push_back(pr.weight_of(pr.blocks[b], s));
    });
  }
  return out;
}

void set_plastic_weights(Network& net, const PlasticWeights& w) {
  if (w.size() != net.projections().size())
    throw std::invalid_argument("set_plastic_weights: weights of another network");
  for (std::size_t j = 0; j < w.size(); ++j) {
    Projection& pr = net.projections()[j];
    if (!pr.plasticity) continue;
    if (w[j].size() != pr.n_synapses())
      throw std::invalid_argument("set_plastic_weights: projection '" + pr.name + "' has " +
                                  std::to_string(pr.n_synapses()) + " synapses, the weights " +
                                  std::to_string(w[j].size()));
    // Rules keep weights in double (plastic_weight) or in the block's float array.
    if (pr.constant_weight)
      for (SynapseBlock& sb : pr.blocks) sb.weight.assign(sb.size(), static_cast<float>(pr.weight));
    pr.constant_weight = false;
    std::size_t k = 0;
    for_each_synapse_canonical(pr, [&](std::size_t b, std::uint64_t s) {
      SynapseBlock& sb = pr.blocks[b];
      if (!sb.plastic_weight.empty())
        sb.plastic_weight[s] = w[j][k++];
      else
        sb.weight[s] = static_cast<float>(w[j][k++]);
    });
  }
}

SampledNetwork build_sampled_network(const Experiment& ex, std::shared_ptr<const SampleData> data,
                                     int threads) {
  SampledNetwork s;
  s.net = build_network(ex, threads);
  Network& net = *s.net;
  const int target = net.population_index(ex.dataset.target);
  if (target < 0) throw std::invalid_argument("no population '" + ex.dataset.target + "'");
  int port = 0;
  if (!ex.dataset.port.empty()) {
    const auto& ports = net.populations()[static_cast<std::size_t>(target)]->model().ports;
    for (std::size_t k = 0; k < ports.size(); ++k)
      if (ports[k].name == ex.dataset.port) port = static_cast<int>(k);
  }
  const auto index = static_cast<std::uint32_t>(net.inputs().size());
  const Stream stream{net.seed(), stream_id(StreamKind::input, index)};
  if (data->width != net.populations()[static_cast<std::size_t>(target)]->size())
    throw std::invalid_argument("samples of " + std::to_string(data->width) +
                                " values for population '" + ex.dataset.target + "'");
  auto in =
      std::make_unique<SampleInput>(std::move(data),
                                    ex.dataset.encoding == "poisson" ? SampleInput::Coding::poisson
                                                                     : SampleInput::Coding::current,
                                    ex.dataset.weight, port, net.dt(), stream);
  in->name = "dataset";
  in->target = target;
  s.input = in.get();
  net.add_input(std::move(in));
  return s;
}

SampleFeatures::SampleFeatures(const Network& net, const std::vector<int>& populations, bool counts,
                               std::vector<std::uint64_t> trace_steps, double trace_tau_ms)
    : pops_(populations), counts_(counts), trace_steps_(std::move(trace_steps)),
      decay_(std::exp(-net.dt() / trace_tau_ms)) {
  for (int p : pops_) {
    offset_.push_back(n_);
    n_ += net.populations()[static_cast<std::size_t>(p)]->size();
  }
  x_.assign(n_, 0.0);
  row_.assign(static_cast<std::size_t>(n_) * ((counts_ ? 1 : 0) + trace_steps_.size()), 0.0);
}

void SampleFeatures::reset() {
  std::fill(x_.begin(), x_.end(), 0.0);
  std::fill(row_.begin(), row_.end(), 0.0);
}

void SampleFeatures::observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) {
  const bool traces = !trace_steps_.empty();
  if (traces)
    for (double& v : x_) v *= decay_;
  for (std::size_t k = 0; k < pops_.size(); ++k) {
    const std::uint32_t off = offset_[k];
    spikes[static_cast<std::size_t>(pops_[k])].for_each([&](std::uint32_t i) {
      if (counts_) row_[off + i] += 1.0;
      if (traces) x_[off + i] += 1.0;
    });
  }
  const std::size_t base = counts_ ? n_ : 0;
  for (std::size_t j = 0; j < trace_steps_.size(); ++j)
    if (trace_steps_[j] == step)
      std::copy(x_.begin(), x_.end(), row_.begin() + static_cast<std::ptrdiff_t>(base + j * n_));
}

namespace {

// What plastic features change besides the neurons: the plastic projections' synapse
// arrays (weights, delays), their rules' own state (traces) and the modulators' state (the
// astrocyte's A). Copied once, from the trained weights and the initial state, and back
// before every sample. The network is this worker's own, so the blocks are copied as
// they are (no canonical order, no checks).
class PlasticSnapshot {
public:
  explicit PlasticSnapshot(const Network& net) : modulators_(net) {
    for (std::size_t j = 0; j < net.projections().size(); ++j) {
      const Projection& pr = net.projections()[j];
      if (!pr.plasticity) continue;
      for (const SynapseBlock& b : pr.blocks)
        blocks_.push_back({b.weight, b.plastic_weight, b.delay});
      pr.plasticity->save(state_, indexed_key("projection", j));
    }
  }
  void restore(Network& net) const {
    std::size_t k = 0;
    for (std::size_t j = 0; j < net.projections().size(); ++j) {
      Projection& pr = net.projections()[j];
      if (!pr.plasticity) continue;
      for (SynapseBlock& b : pr.blocks) {
        const Arrays& a = blocks_[k++];
        std::copy(a.weight.begin(), a.weight.end(), b.weight.begin());
        std::copy(a.plastic_weight.begin(), a.plastic_weight.end(), b.plastic_weight.begin());
        std::copy(a.delay.begin(), a.delay.end(), b.delay.begin());
      }
      pr.plasticity->load(state_, indexed_key("projection", j));
    }
    modulators_.restore(net);
  }

private:
  struct Arrays {
    std::vector<float> weight;
    std::vector<double> plastic_weight;
    std::vector<std::uint16_t> delay;
  };
  std::vector<Arrays> blocks_;
  StateArchive state_;
  ModulatorSnapshot modulators_;
};

struct Worker {
  SampledNetwork s;
  std::unique_ptr<PopulationSnapshot> initial;
  std::unique_ptr<PlasticSnapshot> plastic; // plastic features only
  std::unique_ptr<SampleFeatures> features;
};

std::unique_ptr<Worker> make_worker(const FeatureJob& job) {
  const Experiment& ex = *job.ex;
  auto w = std::make_unique<Worker>();
  w->s = build_sampled_network(ex, job.data, 1);
  Network& net = *w->s.net;
  w->initial = std::make_unique<PopulationSnapshot>(net);
  if (job.trained) set_plastic_weights(net, *job.trained);
  if (ex.features.plastic) {
    for (const Projection& pr : net.projections())
      if (pr.plasticity && !pr.plasticity->set_rate_decay(ex.features.rate_decay))
        throw std::invalid_argument("features.rate_decay: the rule of projection '" + pr.name +
                                    "' has no rates that fade (only 1 is possible)");
    w->plastic = std::make_unique<PlasticSnapshot>(net);
  } else {
    freeze_plasticity(net);
  }
  std::vector<int> pops;
  for (const auto& name : ex.features.populations) pops.push_back(net.population_index(name));
  std::vector<std::uint64_t> trace_steps;
  for (double t : ex.features.trace_times)
    trace_steps.push_back(static_cast<std::uint64_t>(std::llround(t / ex.run.dt)) - 1);
  w->features = std::make_unique<SampleFeatures>(net, pops, ex.features.counts,
                                                 std::move(trace_steps), ex.features.trace_tau);
  return w;
}

} // namespace

Eigen::MatrixXd extract_features(const FeatureJob& job) {
  const Experiment& ex = *job.ex;
  const auto window = static_cast<std::uint64_t>(std::llround(ex.dataset.window / ex.run.dt));
  // One worker first, on this thread: it tells the row width, and a network that cannot
  // be built fails here rather than inside the pool.
  auto first = make_worker(job);
  const std::size_t width = first->features->size();
  std::vector<double> rows(job.samples * width); // row-major, written by sample index
  tbb::enumerable_thread_specific<std::unique_ptr<Worker>> workers;
  std::atomic<bool> first_taken{false};
  std::atomic<std::uint64_t> done{0};
  std::mutex progress_mutex;
  auto body = [&](const tbb::blocked_range<std::uint64_t>& r) {
    auto& mine = workers.local();
    if (!mine) {
      bool expected = false;
      mine =
          first_taken.compare_exchange_strong(expected, true) ? std::move(first) : make_worker(job);
    }
    Worker& w = *mine;
    for (std::uint64_t i = r.begin(); i != r.end(); ++i) {
      if (job.stop && job.stop()) return;
      w.initial->restore(*w.s.net);
      if (w.plastic) w.plastic->restore(*w.s.net);
      w.features->reset();
      w.s.input->present(i, 1, 0, window);
      Simulator sim(*w.s.net);
      sim.set_finite_check(window);
      sim.add_observer(w.features.get());
      sim.run(window);
      std::copy(w.features->row().begin(), w.features->row().end(), rows.begin() + i * width);
      const std::uint64_t d = done.fetch_add(1) + 1;
      if (job.progress && (d % 64 == 0 || d == job.samples)) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        job.progress(d);
      }
    }
  };
  tbb::task_arena arena(std::max(1, job.threads));
  arena.execute(
      [&] { tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, job.samples, 16), body); });
  Eigen::MatrixXd out(static_cast<Eigen::Index>(job.samples), static_cast<Eigen::Index>(width));
  for (std::uint64_t i = 0; i < job.samples; ++i)
    for (std::size_t j = 0; j < width; ++j)
      out(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i * width + j];
  return out;
}

} // namespace glia
