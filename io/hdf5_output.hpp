// The HDF5 results file of a run: spikes and state reports in the SONATA layouts
// (readable with h5py, without glia), weight reports under /weights, plus metadata and
// metrics as attributes. Data is appended incrementally; flush() writes it through (at
// most once a second unless asked to), so a killed run leaves a readable file holding
// everything up to the last write-through.
#pragma once

#include "sim/recording_sink.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
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
  // Opens an existing output to continue the run it holds (glia run --resume): reports
  // declared afterwards are the file's own, cut back to the entries of `counts` (keys
  // as record_counts() makes them). What was written after those was written after the
  // checkpoint, and the resumed run writes it again.
  struct Continue {
    std::map<std::string, std::uint64_t> counts;
  };
  Hdf5Output(const std::string& path, Continue resume);
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
  // Writes through (H5Fflush) when `durable`, at the first flush, and otherwise at most
  // once per kWriteThrough of wall time.
  void flush(bool durable) override;
  static constexpr std::chrono::milliseconds kWriteThrough{1000};

  // Sets (or replaces) an attribute on the group or dataset at `object_path` ("/" is
  // the root); missing groups on the path are created.
  void set_attribute(const std::string& object_path, const std::string& name,
                     const std::string& value);
  void set_attribute(const std::string& object_path, const std::string& name, double value);
  void set_attribute(const std::string& object_path, const std::string& name, std::int64_t value);

  // A fixed 2-D dataset (rows x cols, row-major) at `dataset_path` ("/readout/weights"),
  // written once; missing groups are created. Stored as float32 when `as_float`.
  void write_matrix(const std::string& dataset_path, const double* data, std::uint64_t rows,
                    std::uint64_t cols, bool as_float = false);

  // Writes everything out and closes the file; later calls do nothing.
  void close();

  const std::string& path() const { return path_; }
  // Entries written so far: "spikes/<population>" -> spikes,
  // "report/<population>/<variable>" -> rows.
  std::map<std::string, std::uint64_t> record_counts() const;

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
  // In a continued file: the entries of `key` to keep, which must exist in the file.
  std::uint64_t kept(const std::string& key, std::uint64_t in_file) const;
  std::uint64_t cut_rows(Hid set, std::uint64_t columns, const std::string& key,
                         const std::string& mismatch, const std::string& what);
  void write_stop(const StateReport& report, const std::string& what);
  // Before HDF5 writes `bytes` or fewer: makes sure they fit (the file-size limit, and
  // disk space reserved with fallocate), so that a full disk is reported before a write
  // fails halfway and leaves HDF5's metadata inconsistent; the file then still opens and
  // holds everything up to the last flush.
  void ensure_room(std::uint64_t bytes, const std::string& what);
  // After a flush: gives back the reserved space it did not use.
  void release_room();
  // The file descriptor and the end of the file as HDF5 will extend it.
  bool file_end(int& fd, std::uint64_t& end) const;
  // Bytes an append of `count` elements of `size` bytes from element `old` may make
  // HDF5 allocate: every chunk it touches, whole.
  static std::uint64_t append_bound(std::uint64_t old, std::uint64_t count, std::uint64_t size,
                                    std::uint64_t chunk);

  std::string path_;
  std::string label_; // "output file '<path>'", for messages
  Hid file_ = invalid;
  std::map<std::string, SpikeReport> spikes_;
  std::map<int, StateReport> states_;
  std::map<int, WeightReport> weights_;
  bool continuing_ = false;
  std::optional<std::chrono::steady_clock::time_point> written_through_; // last H5Fflush
  std::uint64_t pending_ = 0;  // bytes appended since the last flush (ensure_room)
  std::uint64_t reserved_ = 0; // bytes reserved beyond the end since then
  std::map<std::string, std::uint64_t> resume_counts_;
};

} // namespace glia
