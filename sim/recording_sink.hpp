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
  // Makes everything appended so far durable (a killed run keeps it).
  virtual void flush() = 0;
};

} // namespace glia
