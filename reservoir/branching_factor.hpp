// The branching factor of a liquid, as the NALSM paper measures it (Ivanov & Michmizos,
// NeurIPS 2021; compute_branching_factor.py and get_branching_factor.py of the
// published code): for every spike of neuron n at step t,
//   descendants = spikes of n's postsynaptic neurons in steps t+1 .. t+W,
//   ancestors   = spikes of n's presynaptic neurons in steps t-W .. t-1,
//   ratio       = descendants / max(ancestors, 1),
// then sigma_n = the mean ratio over n's spikes, and sigma = the mean of sigma_n over the
// neurons that have a counted spike. Only synapses among the measured populations count
// (the liquid, not its input layer), each connected pair once; W is the window in steps
// (4 ms in the paper). A spike counts when both of its windows lie in the measured
// stretch: t >= from + W, and t + W before the last step observed.
//
// It runs online as a StepObserver (O(spikes x degree) per step, a ring of 2W + 2 steps
// of spikes), and offline on a list of spikes through add_step.
#pragma once

#include "sim/network.hpp"
#include "sim/step_observer.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace glia {

// A directed graph over the neurons of some populations, numbered one after the other
// (population k's neuron i is offset[k] + i), in compressed rows both ways.
struct SpikeGraph {
  std::vector<int> populations;      // network population indices, in numbering order
  std::vector<std::uint32_t> offset; // first combined index of each
  std::uint32_t n = 0;
  std::vector<std::uint64_t> out_row, in_row; // n + 1 offsets
  std::vector<std::uint32_t> out, in;         // targets / sources

  // Duplicate edges are kept once.
  static SpikeGraph from_edges(std::uint32_t n,
                               std::vector<std::pair<std::uint32_t, std::uint32_t>> edges);
};

// The synapses among `populations` (every projection whose pre and post are both listed).
SpikeGraph liquid_graph(const Network& net, const std::vector<int>& populations);

class BranchingFactor final : public StepObserver {
public:
  // Spikes at steps t >= from + window count; `segment_ends` (increasing) splits them by
  // t into segments [from, end_0), [end_0, end_1), ... (one segment: {UINT64_MAX}).
  BranchingFactor(SpikeGraph graph, std::uint32_t window, std::uint64_t from,
                  std::vector<std::uint64_t> segment_ends);

  void observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) override;
  // The spikes (combined indices, each at most once) of step `step`; steps must come in
  // order, one call per step.
  void add_step(std::uint64_t step, const std::vector<std::uint32_t>& ids);

  struct Result {
    double sigma = 0.0;        // NaN when no spike counted
    std::uint64_t spikes = 0;  // spikes counted
    std::uint32_t neurons = 0; // neurons with a counted spike
  };
  Result result() const; // over all segments
  Result segment(std::size_t k) const;
  std::size_t segments() const { return ends_.size(); }

private:
  Result over(std::size_t first, std::size_t last) const;

  SpikeGraph g_;
  std::uint32_t window_;
  std::uint64_t from_;
  std::vector<std::uint64_t> ends_;
  std::vector<std::vector<std::uint32_t>> ring_; // spikes of the last 2W + 2 steps
  std::vector<std::uint32_t> fwd_, bwd_;         // per neuron: spikes in the two windows
  std::vector<double> sum_;                      // [segment * n + neuron]: sum of ratios
  std::vector<std::uint32_t> count_;             // [segment * n + neuron]: spikes counted
  std::vector<std::uint32_t> scratch_;
};

} // namespace glia
