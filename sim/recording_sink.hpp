// Where recorded data goes when the simulator flushes its buffers. The HDF5 writer
// implements it for runs; tests implement it in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace glia {

// One state report: one variable (or one element of a vector variable) of chosen
// neurons of one population, sampled every `interval` ms starting at `start`.
struct StateReportInfo {
  std::string population;
  std::string variable; // recording name, e.g. "V_m" or "m[3]" for element 3 of vector "m"
  std::string unit;
  std::vector<std::uint64_t> node_ids;
  double start = 0.0;    // ms, time of the first sample
  double interval = 0.0; // ms
};

// One weight report: one synapse variable ("weight" or "delay") of one projection,
// either chosen synapses (one column each) or a histogram over all of its synapses.
// Sampled at start + k * interval ms, or at explicit times (explicit_times).
struct WeightReportInfo {
  std::string projection;
  std::string variable; // "weight" or "delay"
  std::string unit;     // of the variable (the post port's unit for weights, ms for delays)
  bool histogram = false;
  std::vector<std::uint64_t> pre, post; // chosen synapses: source and target of each column
  std::vector<double> bin_edges;        // histogram: bins + 1 edges, increasing
  std::uint64_t n_synapses = 0;         // histogram: synapses of the projection
  bool explicit_times = false;
  double start = 0.0, interval = 0.0; // ms, when !explicit_times
};

class RecordingSink {
public:
  virtual ~RecordingSink() = default;
  // Declares a spike report for a population before any spikes are appended.
  virtual void declare_spikes(const std::string& population, std::uint64_t size) = 0;
  // Appends spikes in time order (ties in node order): timestamps in ms.
  virtual void append_spikes(const std::string& population, std::span<const double> times,
                             std::span<const std::uint64_t> node_ids) = 0;
  // Declares state report `id`; its rows are appended with append_state.
  virtual void declare_state(int id, const StateReportInfo& info) = 0;
  // Appends rows (row-major: n_rows x node_ids.size()) to state report `id`.
  virtual void append_state(int id, std::span<const double> rows, std::size_t n_rows) = 0;
  // Declares weight report `id`; its rows are appended with append_weights (chosen synapses)
  // or append_weight_histogram (histograms). Sinks that keep no weight reports ignore them.
  virtual void declare_weights(int /*id*/, const WeightReportInfo& /*info*/) {}
  // Rows of chosen synapses: times.size() rows (sample times, ms) x pre.size() values.
  virtual void append_weights(int /*id*/, std::span<const double> /*times*/,
                              std::span<const double> /*rows*/) {}
  // Histogram rows: times.size() rows x (bins + 2) counts: the bins, then the synapses
  // below the first edge, then those above the last edge (or NaN).
  virtual void append_weight_histogram(int /*id*/, std::span<const double> /*times*/,
                                       std::span<const std::uint64_t> /*rows*/) {}
  // After the appends of a flush period. `durable`: make everything appended so far
  // durable (a killed run keeps it), as at checkpoints, stops and the end; otherwise the
  // sink may keep it cached a while longer (writing through costs time on a fast run).
  virtual void flush(bool durable) = 0;
};

} // namespace glia
