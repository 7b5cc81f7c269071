// The HDF5 results file of a run: spikes and state reports in the SONATA layouts
// (readable with h5py, without glia), weight reports under /weights, plus metadata and
// metrics as attributes. Data is appended incrementally; flush() makes it durable, so a killed
// run leaves a readable file holding everything up to the last flush.
#pragma once

#include "sim/recording_sink.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>

namespace glia {

// Failure to create or write the output file; the message names the file and why.
class OutputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Hdf5Output final : public RecordingSink {
public:
  // Creates (truncates) the file. Throws OutputError if it cannot be created.
  explicit Hdf5Output(const std::string& path);
  ~Hdf5Output() override;
  Hdf5Output(const Hdf5Output&) = delete;
  Hdf5Output& operator=(const Hdf5Output&) = delete;

  // `size` is the number of nodes in the population; node ids must be below it.
  void declare_spikes(const std::string& population, std::uint64_t size) override;
  void append_spikes(const std::string& population, std::span<const double> times,
                     std::span<const std::uint64_t> node_ids) override;
  void declare_state(int id, const StateReportInfo& info) override;
  void append_state(int id, std::span<const double> rows, std::size_t n_rows) override;
  // /weights/<projection>/<variable>/synapses: data (time x synapses), mapping/pre, post;
  // /weights/<projection>/<variable>/histogram: counts (time x bins), bin_edges, underflow,
  // overflow; both with mapping/time [start, stop, step] or mapping/times.
  void declare_weights(int id, const WeightReportInfo& info) override;
  void append_weights(int id, std::span<const double> times, std::span<const double> rows) override;
  void append_weight_histogram(int id, std::span<const double> times,
                               std::span<const std::uint64_t> rows) override;
  void flush() override;

  // Sets (or replaces) an attribute on the group or dataset at `object_path` ("/" is
  // the root); missing groups on the path are created.
  void set_attribute(const std::string& object_path, const std::string& name,
                     const std::string& value);
  void set_attribute(const std::string& object_path, const std::string& name, double value);
  void set_attribute(const std::string& object_path, const std::string& name, std::int64_t value);

  // Writes everything out and closes the file; later calls do nothing.
  void close();

private:
  using Hid = std::int64_t; // hid_t, without exposing <hdf5.h> to every includer
  static constexpr Hid invalid = -1;

  struct SpikeReport {
    Hid timestamps = invalid;
    Hid node_ids = invalid;
    std::uint64_t size = 0;
    std::uint64_t n = 0;
  };
  struct StateReport {
    Hid data = invalid;
    Hid time = invalid; // mapping/time, its stop rewritten on every append
    std::uint64_t columns = 0;
    std::uint64_t rows = 0;
    double start = 0.0;
    double interval = 0.0;
    std::string name; // "population/variable", for messages
  };

  struct WeightReport {
    Hid data = invalid;                          // data or counts
    Hid time = invalid;                          // mapping/time, or mapping/times (grows)
    Hid underflow = invalid, overflow = invalid; // histograms
    bool histogram = false, explicit_times = false;
    std::uint64_t columns = 0; // synapses or bins
    std::uint64_t rows = 0;
    double start = 0.0, interval = 0.0;
    std::string name; // "projection/variable/kind", for messages
  };

  void require_open() const;
  // The declared report `id`, after checking that `values` fill n_rows rows of its
  // columns plus `extra`.
  WeightReport& weight_report(int id, std::size_t values, std::size_t n_rows, std::size_t extra);
  void append_weight_times(WeightReport& report, std::span<const double> times);

  std::string path_;
  Hid file_ = invalid;
  std::map<std::string, SpikeReport> spikes_;
  std::map<int, StateReport> states_;
  std::map<int, WeightReport> weights_;
};

} // namespace glia
