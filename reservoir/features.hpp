// Per-sample liquid features (issue 5): every sample is its own simulation, from the same
// weights (the trained ones, frozen) and the network's initial state, driven by a
// SampleInput for one window; the readout sees each neuron's spike count over the window
// and, optionally, its low-pass spike trace at chosen times. Samples run in parallel with
// oneTBB: each worker owns a copy of the network, built once, restored before every
// sample. A sample's row depends only on its index (inputs are keyed by it), so the
// features are bitwise the same for any thread count.
#pragma once

#include "io/experiment.hpp"
#include "sim/network.hpp"
#include "sim/step_observer.hpp"

#include "reservoir/eigen.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace glia {

class SampleInput;
struct SampleData;

// Turns every plastic projection static with its current weights (settled first), so
// that later runs neither learn nor pay for learning.
void freeze_plasticity(Network& net);

// The weights of every plastic projection (settled first), per projection in the
// canonical synapse order (sim/network_state.hpp), which does not depend on the thread
// count; empty for static projections. set_plastic_weights puts them into a network
// built from the same experiment with any thread count.
using PlasticWeights = std::vector<std::vector<double>>;
PlasticWeights plastic_weights(Network& net);
void set_plastic_weights(Network& net, const PlasticWeights& w);

// The experiment's network with a SampleInput on the dataset's target population over
// `data` (the dataset's images and their encoding factors). `threads` as build_network's.
struct SampledNetwork {
  std::unique_ptr<Network> net;
  SampleInput* input = nullptr; // owned by net
};
SampledNetwork build_sampled_network(const Experiment& ex, std::shared_ptr<const SampleData> data,
                                     int threads);

// What the readout sees of one window: per neuron of the chosen populations (numbered
// one after the other), the spike count, then the trace at each chosen step.
class SampleFeatures final : public StepObserver {
public:
  // trace_steps: steps within the window after which traces are sampled (increasing).
  SampleFeatures(const Network& net, const std::vector<int>& populations, bool counts,
                 std::vector<std::uint64_t> trace_steps, double trace_tau_ms);
  void observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) override;
  void reset(); // a new window starts at step 0
  std::size_t size() const { return row_.size(); }
  const std::vector<double>& row() const { return row_; }

private:
  std::vector<int> pops_;
  std::vector<std::uint32_t> offset_;
  std::uint32_t n_ = 0;
  bool counts_;
  std::vector<std::uint64_t> trace_steps_;
  double decay_;
  std::vector<double> x_, row_;
};

struct FeatureJob {
  const Experiment* ex = nullptr;
  const PlasticWeights* trained = nullptr; // null: the initial weights
  std::shared_ptr<const SampleData> data;  // samples x 784
  std::uint64_t samples = 0;
  int threads = 1;
  // Called now and then (from any worker, never concurrently) with the samples done.
  std::function<void(std::uint64_t)> progress;
  // Polled before every sample (cheap, thread-safe); true: the remaining samples are
  // skipped and their rows left 0 (a run stopped by a signal).
  std::function<bool()> stop;
};

// samples x features (the column layout of SampleFeatures).
Eigen::MatrixXd extract_features(const FeatureJob& job);

} // namespace glia
