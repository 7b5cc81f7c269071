// Weight and delay monitors: snapshots of chosen synapses, or histograms over all the
// synapses of a projection, taken at the end of scheduled steps (after the learn phase).
// Each block is read by the thread that owns it, right after that thread's learn phase
// for the block, so no locks are needed and what is read does not depend on the thread
// count. Plastic projections with lazy post-synaptic updates are settled first
// (Plasticity::settle), which applies pending updates early without changing any later
// weight (tested). Histograms are counted per block and summed over the blocks in block
// order when flushed.
#pragma once

#include "sim/recording_sink.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace glia {

class Network;
struct Projection;

// When a monitor samples, counted in steps done since t = 0: at start, start + every, ...
// or, when `steps` is not empty, at exactly those counts (strictly increasing). A sample
// at n steps is taken at the end of step n - 1 (time n dt); n = 0 is the network as built.
struct SampleSchedule {
  std::uint64_t start = 0, every = 1;
  std::vector<std::uint64_t> steps;

  bool contains(std::uint64_t n) const;
  // Samples at or before n steps.
  std::uint64_t count(std::uint64_t n) const;
  // Step count of sample k.
  std::uint64_t at(std::uint64_t k) const { return steps.empty() ? start + k * every : steps[k]; }
};

enum class SynapseVariable { weight, delay };

struct WeightMonitorRequest {
  int projection = 0;
  SynapseVariable variable = SynapseVariable::weight;
  bool histogram = false;
  // Chosen synapses, as (pre, post) pairs: every synapse of a pair gets a column (several
  // for multapses, in storage order). Every pair must be connected.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  // Histogram: `bins` equal bins over [low, high], the last one closed.
  std::uint32_t bins = 0;
  double low = 0.0, high = 0.0;
  SampleSchedule schedule;
};

// The synapses from `pre` to `post`: (block, index in the block), in storage order.
std::vector<std::pair<std::size_t, std::uint64_t>>
find_synapses(const Projection& proj, std::uint32_t pre, std::uint32_t post);

class WeightMonitors {
public:
  struct Monitor {
    WeightMonitorRequest request;
    // Chosen synapses: one column per synapse; histogram: bins + 2.
    std::size_t columns = 0;
    // Histogram: bins + 1 edges, and bins / (high - low).
    std::vector<double> edges;
    double scale = 0.0;
    // Chosen synapses: source and target per column; per block, (column, synapse index)
    // and the distinct targets (whose pending updates are settled before reading).
    std::vector<std::uint64_t> pre, post;
    std::vector<std::vector<std::pair<std::uint32_t, std::uint64_t>>> per_block;
    std::vector<std::vector<std::uint32_t>> targets;
    // Rows held (with a sink: those of the current flush period; without: all so far):
    // chosen synapses' values, histogram counts per block and summed over blocks, times.
    std::vector<double> values;
    std::vector<std::vector<std::uint64_t>> block_counts;
    std::vector<std::uint64_t> counts;
    std::vector<double> times; // ms
    std::size_t n_rows = 0;    // without a sink: rows so far

    // Histogram column of value v: its bin, bins (below low) or bins + 1 (above high).
    std::size_t bin(double v) const;
  };

  explicit WeightMonitors(Network& net) : net_(net) {}

  // Adds a monitor and declares it to the sink. Throws std::invalid_argument for a pair
  // that is not connected or out of range, or an empty histogram range.
  int add(const WeightMonitorRequest& request, RecordingSink* sink);
  bool empty() const { return monitors_.empty(); }
  const std::vector<Monitor>& monitors() const { return monitors_; }

  // Sizes the buffers for steps [start, end), flushed every flush_steps steps; without a
  // sink every row is kept.
  void begin_run(std::uint64_t start, std::uint64_t end, std::uint64_t flush_steps, bool keep_all);
  // Samples the monitors due after n steps on block b. Call from the thread that owns b,
  // after its learn phase; `flush_from` is the step count the unflushed rows start after.
  void sample(std::uint64_t n, std::size_t b, std::uint64_t flush_from);
  // Hands the rows sampled in (from, to] (and at 0 when from is 0) to the sink. One thread.
  void flush(std::uint64_t from, std::uint64_t to, RecordingSink* sink);

private:
  // First row held in the buffers for a flush period starting after `from` steps.
  std::uint64_t base(const Monitor& m, std::uint64_t from) const;
  double value(const Projection& pr, std::size_t b, std::uint64_t s, SynapseVariable v) const;
  void count(const Monitor& m, const Projection& pr, std::size_t b, std::uint64_t* hist) const;

  Network& net_;
  std::vector<Monitor> monitors_;
  bool keep_all_ = false;
  std::vector<std::vector<std::int64_t>> settled_; // [projection][block]: last n settled at
};

} // namespace glia
