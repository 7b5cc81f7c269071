// HDF5 results file (see hdf5_output.hpp): the SONATA spike and state-report
// layouts written with the HDF5 C API, every call checked.
#include "io/hdf5_output.hpp"

#include "io/hdf5_util.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace glia {

static_assert(std::is_same_v<hid_t, std::int64_t>, "Hdf5Output stores hid_t as std::int64_t");
static_assert(sizeof(hsize_t) == sizeof(std::uint64_t));

namespace {

// 64k elements per chunk: 512 KiB of float64, inside HDF5's default 1 MiB chunk
// cache, so appends in small batches do not rewrite chunks on disk each time.
constexpr hsize_t chunk_elements = 65536;

using h5::check;
using h5::fail;
using h5::Handle;
using h5::open_or_create;
using h5::put_attribute;
using h5::put_string_attribute;
using h5::write_fixed;

void check_name(const std::string& kind, const std::string& name) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw std::invalid_argument(kind + " name '" + name +
                                "' cannot be used in the output file (empty, '.' or has '/')");
}

// A 1-D dataset that grows along its only dimension.
hid_t create_extendible(hid_t location, const char* name, hid_t type, const std::string& file,
                        const std::string& what) {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  Handle space(check(H5Screate_simple(1, &zero, &unlimited), file, what), H5Sclose);
  Handle props(check(H5Pcreate(H5P_DATASET_CREATE), file, what), H5Pclose);
  check(H5Pset_chunk(props.get(), 1, &chunk_elements), file, what);
  return check(H5Dcreate2(location, name, type, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
               file, what);
}

// Writes `count` rows of `columns` values after the first `old_rows` rows of a 1-D
// (columns == 0) or 2-D dataset whose extent has already been grown.
void write_rows(hid_t set, hsize_t old_rows, hsize_t count, hsize_t columns, hid_t type,
                const void* data, const std::string& file, const std::string& what) {
  const int rank = columns == 0 ? 1 : 2;
  const std::array<hsize_t, 2> offset{old_rows, 0}, extent{count, columns};
  Handle file_space(check(H5Dget_space(set), file, what), H5Sclose);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(),
                            nullptr),
        file, what);
  Handle memory_space(check(H5Screate_simple(rank, extent.data(), nullptr), file, what), H5Sclose);
  check(H5Dwrite(set, type, memory_space.get(), file_space.get(), H5P_DEFAULT, data), file, what);
}

// A 2-D dataset of `columns` columns that grows by rows, in chunks of whole rows of about
// chunk_elements values; a zero-width one still needs a positive chunk width, so its
// width is left unlimited.
hid_t create_rows(hid_t location, const char* name, hid_t type, hsize_t columns,
                  const std::string& path, const std::string& what) {
  const std::array<hsize_t, 2> zero{0, columns},
      maximum{H5S_UNLIMITED, columns == 0 ? H5S_UNLIMITED : columns},
      chunk{std::max<hsize_t>(1, chunk_elements / std::max<hsize_t>(columns, 1)),
            std::max<hsize_t>(columns, 1)};
  Handle space(check(H5Screate_simple(2, zero.data(), maximum.data()), path, what), H5Sclose);
  Handle props(check(H5Pcreate(H5P_DATASET_CREATE), path, what), H5Pclose);
  check(H5Pset_chunk(props.get(), 2, chunk.data()), path, what);
  return check(H5Dcreate2(location, name, type, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
               path, what);
}

// Grows a dataset holding `old_rows` rows by `count` rows of `columns` values (a 1-D
// dataset: columns == 0) and writes them.
void append_rows(hid_t set, hsize_t old_rows, hsize_t count, hsize_t columns, hid_t type,
                 const void* data, const std::string& path, const std::string& what) {
  const std::array<hsize_t, 2> extent{old_rows + count, columns};
  check(H5Dset_extent(set, extent.data()), path, what);
  write_rows(set, old_rows, count, columns, type, data, path, what);
}

// mapping/time = [start, stop, step] (ms) of a regularly sampled report; stop is
// rewritten by set_time_stop as rows are appended.
hid_t create_time_mapping(hid_t mapping, double start, double interval, const std::string& path,
                          const std::string& what, const std::string& object_path) {
  const std::array<double, 3> time{start, start, interval};
  const hsize_t three = 3;
  Handle space(check(H5Screate_simple(1, &three, nullptr), path, what), H5Sclose);
  Handle set(check(H5Dcreate2(mapping, "time", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                              H5P_DEFAULT, H5P_DEFAULT),
                   path, what),
             H5Dclose);
  check(H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, time.data()), path,
        what);
  put_string_attribute(set.get(), "units", "ms", path, object_path);
  return set.release();
}

void set_time_stop(hid_t time, double stop, const std::string& path, const std::string& what) {
  const hsize_t one = 1, at = 1;
  Handle file_space(check(H5Dget_space(time), path, what), H5Sclose);
  check(H5Sselect_elements(file_space.get(), H5S_SELECT_SET, 1, &at), path, what);
  Handle memory_space(check(H5Screate_simple(1, &one, nullptr), path, what), H5Sclose);
  check(H5Dwrite(time, H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(), H5P_DEFAULT, &stop),
        path, what);
}

} // namespace

Hdf5Output::Hdf5Output(const std::string& path)
    : path_(path), label_("output file '" + path + "'") {
  namespace fs = std::filesystem;
  // Errors are reported through exceptions; HDF5's own stack dumps would only add noise.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  auto cannot = [&](const std::string& why) {
    throw OutputError("cannot create output file '" + path + "': " + why);
  };
  if (path.empty()) cannot("the path is empty");
  // Checked here because HDF5 reports all of these as "unable to open file".
  const fs::path file(path);
  const fs::path directory = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code error;
  const auto directory_status = fs::status(directory, error);
  if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory)
    cannot("directory '" + directory.string() + "': " + error.message());
  if (!fs::exists(directory_status))
    cannot("directory '" + directory.string() + "' does not exist");
  if (!fs::is_directory(directory_status))
    cannot("'" + directory.string() + "' is not a directory");
  // An existing file is truncated in place, which needs no write access to its directory.
  const auto file_status = fs::status(file, error);
  if (fs::is_directory(file_status)) cannot("it is a directory");
  if (fs::exists(file_status)) {
    if (::access(file.c_str(), W_OK) != 0) cannot(std::strerror(errno));
  } else if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    cannot("directory '" + directory.string() + "': " + std::strerror(errno));
  }

  Handle file_access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Strong close degree: closing the file releases it even if an object close failed.
  if (file_access.get() < 0 || H5Pset_fclose_degree(file_access.get(), H5F_CLOSE_STRONG) < 0)
    cannot(h5::reason());
  file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, file_access.get());
  if (file_ < 0) {
    std::string reason = h5::reason();
    cannot(reason.empty() ? "HDF5 could not create it" : reason);
  }
}

Hdf5Output::Hdf5Output(const std::string& path, Continue resume)
    : path_(path), label_("output file '" + path + "'"), continuing_(true),
      resume_counts_(std::move(resume.counts)) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (::access(path.c_str(), R_OK | W_OK) != 0)
    throw OutputError("cannot continue " + label_ + ": " + std::strerror(errno));
  Handle file_access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (file_access.get() < 0 || H5Pset_fclose_degree(file_access.get(), H5F_CLOSE_STRONG) < 0)
    fail(label_, "cannot open it");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, file_access.get());
  if (file_ < 0) fail("cannot continue " + label_, "HDF5 cannot open it");
}

// In a continued file: checks that the 2-D dataset `set` has `columns` columns (else
// `mismatch`), cuts it back to the rows the checkpoint keeps for `key`, returns them.
std::uint64_t Hdf5Output::cut_rows(Hid set, std::uint64_t columns, const std::string& key,
                                   const std::string& mismatch, const std::string& what) {
  Handle space(check(H5Dget_space(set), label_, what), H5Sclose);
  std::array<hsize_t, 2> extent{0, 0};
  if (H5Sget_simple_extent_ndims(space.get()) != 2 ||
      H5Sget_simple_extent_dims(space.get(), extent.data(), nullptr) < 0 || extent[1] != columns)
    throw OutputError(label_ + ": " + mismatch);
  extent[0] = kept(key, extent[0]);
  check(H5Dset_extent(set, extent.data()), label_, what);
  return extent[0];
}

std::uint64_t Hdf5Output::kept(const std::string& key, std::uint64_t in_file) const {
  const auto it = resume_counts_.find(key);
  if (it == resume_counts_.end())
    throw OutputError(label_ + ": the checkpoint knows no '" + key +
                      "' (the run records something the checkpointed run did not)");
  if (in_file < it->second)
    throw OutputError(label_ + ": '" + key + "' holds " + std::to_string(in_file) +
                      " entries, the checkpoint counted " + std::to_string(it->second) +
                      " (is this the output the checkpoint was taken with?)");
  return it->second;
}

std::uint64_t Hdf5Output::append_bound(std::uint64_t old, std::uint64_t count, std::uint64_t size,
                                       std::uint64_t chunk) {
  // The chunk holding element `old - 1` is already allocated (written whole by the flush
  // that wrote that element); HDF5 writes uncompressed chunks in place.
  const std::uint64_t first = (old + chunk - 1) / chunk, last = (old + count + chunk - 1) / chunk;
  return (last - first) * chunk * size;
}

bool Hdf5Output::file_end(int& fd, std::uint64_t& end) const {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file_, H5P_DEFAULT, &handle) < 0 || handle == nullptr) return false;
  fd = *static_cast<int*>(handle);
  struct stat st {};
  haddr_t eoa = 0;
  if (::fstat(fd, &st) != 0 || H5Fget_eoa(file_, &eoa) < 0) return false;
  end = std::max<std::uint64_t>(static_cast<std::uint64_t>(st.st_size), eoa);
  return true;
}

void Hdf5Output::ensure_room(std::uint64_t bytes, const std::string& what) {
  // Everything appended since the last flush may still be in HDF5's caches, to be
  // written together; plus room for the metadata the next flush adds.
  pending_ += bytes;
  bytes = pending_ + (256u << 10);
  int fd = -1;
  std::uint64_t end = 0;
  if (!file_end(fd, end)) return;
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      end + bytes > limit.rlim_cur)
    throw OutputError(label_ + ": " + what + ": " + std::strerror(EFBIG) +
                      " (the file-size limit, ulimit -f, is " + std::to_string(limit.rlim_cur) +
                      " bytes)");
  // Reserved beyond the end without changing the file's size: HDF5 writes into it later.
  const int failed =
      ::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(end), static_cast<off_t>(bytes));
  if (failed == 0) reserved_ = std::max(reserved_, bytes);
  if (failed != 0 && (errno == ENOSPC || errno == EDQUOT))
    throw OutputError(label_ + ": " + what + ": " + std::strerror(errno) + " (" +
                      std::to_string(bytes) + " more bytes needed)");
  if (failed != 0) {
    // A file system without fallocate: its free space, at least.
    struct statvfs fs {};
    if (::fstatvfs(fd, &fs) == 0 && static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < bytes)
      throw OutputError(label_ + ": " + what + ": " + std::strerror(ENOSPC) + " (" +
                        std::to_string(bytes) + " more bytes needed)");
  }
}

void Hdf5Output::release_room() {
  int fd = -1;
  std::uint64_t end = 0;
  // What the flush did not use goes back to the file system (a checkpoint written next
  // may need it); best effort.
  if (reserved_ > 0 && file_end(fd, end))
    ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(end),
                static_cast<off_t>(reserved_));
  reserved_ = 0;
  pending_ = 0;
}

std::map<std::string, std::uint64_t> Hdf5Output::record_counts() const {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& [population, report] : spikes_) counts["spikes/" + population] = report.n;
  for (const auto& [id, report] : states_) counts["report/" + report.name] = report.rows;
  for (const auto& [id, report] : weights_) counts["weights/" + report.name] = report.rows;
  return counts;
}

Hdf5Output::~Hdf5Output() {
  try {
    close();
  } catch (const std::exception& e) {
    // A destructor cannot report failure; close() explicitly to handle it.
    std::fprintf(stderr, "glia: %s\n", e.what());
  }
}

void Hdf5Output::require_open() const {
  if (file_ < 0) throw OutputError("output file '" + path_ + "' is already closed");
}

void Hdf5Output::declare_spikes(const std::string& population, std::uint64_t size) {
  require_open();
  check_name("population", population);
  if (spikes_.contains(population))
    throw std::invalid_argument("spikes of population '" + population + "' declared twice");
  const std::string group_path = "/spikes/" + population;
  if (continuing_) {
    const std::string what = "cannot continue '" + group_path + "'";
    SpikeReport report;
    report.size = size;
    Handle timestamps(
        check(H5Dopen2(file_, (group_path + "/timestamps").c_str(), H5P_DEFAULT), label_, what),
        H5Dclose);
    Handle node_ids(
        check(H5Dopen2(file_, (group_path + "/node_ids").c_str(), H5P_DEFAULT), label_, what),
        H5Dclose);
    auto length = [&](hid_t set) {
      Handle space(check(H5Dget_space(set), label_, what), H5Sclose);
      return static_cast<std::uint64_t>(H5Sget_simple_extent_npoints(space.get()));
    };
    report.n =
        kept("spikes/" + population, std::min(length(timestamps.get()), length(node_ids.get())));
    const hsize_t n = report.n;
    check(H5Dset_extent(timestamps.get(), &n), label_, what);
    check(H5Dset_extent(node_ids.get(), &n), label_, what);
    report.timestamps = timestamps.release();
    report.node_ids = node_ids.release();
    spikes_.emplace(population, report);
    return;
  }
  const std::string what = "cannot create '" + group_path + "'";
  const bool first = spikes_.empty();
  Handle group(open_or_create(file_, group_path, label_), H5Oclose);
  if (first) {
    Handle spikes(check(H5Oopen(file_, "/spikes", H5P_DEFAULT), label_, what), H5Oclose);
    put_string_attribute(spikes.get(), "sorting", "by_time", label_, "/spikes");
  }
  put_string_attribute(group.get(), "sorting", "by_time", label_, group_path);
  // Not part of SONATA: lets readers turn spike counts into per-neuron rates.
  put_attribute(group.get(), "size", H5T_NATIVE_UINT64, &size, label_, group_path);

  SpikeReport report;
  report.size = size;
  Handle timestamps(create_extendible(group.get(), "timestamps", H5T_IEEE_F64LE, label_, what),
                    H5Dclose);
  put_string_attribute(timestamps.get(), "units", "ms", label_, group_path + "/timestamps");
  Handle node_ids(create_extendible(group.get(), "node_ids", H5T_STD_U64LE, label_, what),
                  H5Dclose);
  report.timestamps = timestamps.release();
  report.node_ids = node_ids.release();
  spikes_.emplace(population, report);
}

void Hdf5Output::append_spikes(const std::string& population, std::span<const double> times,
                               std::span<const std::uint64_t> node_ids) {
  require_open();
  auto found = spikes_.find(population);
  if (found == spikes_.end())
    throw std::invalid_argument("spikes of population '" + population + "' were not declared");
  if (times.size() != node_ids.size())
    throw std::invalid_argument("append_spikes: " + std::to_string(times.size()) +
                                " timestamps but " + std::to_string(node_ids.size()) + " node ids");
  if (times.empty()) return;
  SpikeReport& report = found->second;
  if (auto id = std::ranges::find_if(node_ids, [&](auto n) { return n >= report.size; });
      id != node_ids.end())
    throw std::invalid_argument("spike of node " + std::to_string(*id) + " in population '" +
                                population + "' of " + std::to_string(report.size) + " nodes");

  const std::string what = "cannot append spikes of population '" + population + "'";
  const hsize_t count = times.size(), new_n = report.n + count;
  ensure_room(2 * append_bound(report.n, count, sizeof(double), chunk_elements), what);
  check(H5Dset_extent(report.timestamps, &new_n), label_, what);
  check(H5Dset_extent(report.node_ids, &new_n), label_, what);
  write_rows(report.timestamps, report.n, count, 0, H5T_NATIVE_DOUBLE, times.data(), label_, what);
  write_rows(report.node_ids, report.n, count, 0, H5T_NATIVE_UINT64, node_ids.data(), label_, what);
  report.n = new_n;
}

void Hdf5Output::declare_state(int id, const StateReportInfo& info) {
  require_open();
  check_name("population", info.population);
  check_name("variable", info.variable);
  const std::string name = info.population + "/" + info.variable;
  if (states_.contains(id))
    throw std::invalid_argument("state report " + std::to_string(id) + " declared twice");
  if (!(info.interval > 0.0))
    throw std::invalid_argument("state report '" + name + "' has a non-positive interval");
  const std::string group_path = "/report/" + name;
  const std::string what = "cannot create '" + group_path + "'";
  if (std::ranges::any_of(states_, [&](const auto& s) { return s.second.name == name; }))
    throw std::invalid_argument("state report '" + name + "' declared twice");
  if (continuing_) {
    const std::string again = "cannot continue '" + group_path + "'";
    StateReport report;
    report.columns = info.node_ids.size();
    report.start = info.start;
    report.interval = info.interval;
    report.name = name;
    Handle data(check(H5Dopen2(file_, (group_path + "/data").c_str(), H5P_DEFAULT), label_, again),
                H5Dclose);
    Handle time_set(
        check(H5Dopen2(file_, (group_path + "/mapping/time").c_str(), H5P_DEFAULT), label_, again),
        H5Dclose);
    report.rows = cut_rows(data.get(), report.columns, "report/" + name,
                           "'" + group_path + "/data' is not a report of " +
                               std::to_string(report.columns) + " neurons",
                           again);
    report.data = data.release();
    report.time = time_set.release();
    write_stop(report, again);
    states_.emplace(id, std::move(report));
    return;
  }
  Handle group(open_or_create(file_, group_path, label_), H5Oclose);
  Handle mapping(check(H5Gcreate2(group.get(), "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       label_, what),
                 H5Gclose);

  const hsize_t n = info.node_ids.size();
  write_fixed(mapping.get(), "node_ids", H5T_STD_U64LE, info.node_ids.data(), n, label_, what);
  // One element per node, so SONATA readers see one value per recorded neuron.
  std::vector<std::uint64_t> pointers(n + 1);
  for (hsize_t i = 0; i <= n; ++i) pointers[i] = i;
  write_fixed(mapping.get(), "index_pointers", H5T_STD_U64LE, pointers.data(), n + 1, label_, what);
  const std::vector<std::uint32_t> elements(n, 0);
  write_fixed(mapping.get(), "element_ids", H5T_STD_U32LE, elements.data(), n, label_, what);

  StateReport report;
  report.columns = n;
  report.start = info.start;
  report.interval = info.interval;
  report.name = name;

  Handle time_set(create_time_mapping(mapping.get(), info.start, info.interval, label_, what,
                                      group_path + "/mapping/time"),
                  H5Dclose);
  Handle data(create_rows(group.get(), "data", H5T_IEEE_F64LE, n, label_, what), H5Dclose);
  put_string_attribute(data.get(), "units", info.unit, label_, group_path + "/data");

  report.data = data.release();
  report.time = time_set.release();
  states_.emplace(id, std::move(report));
}

void Hdf5Output::append_state(int id, std::span<const double> rows, std::size_t n_rows) {
  require_open();
  auto found = states_.find(id);
  if (found == states_.end())
    throw std::invalid_argument("state report " + std::to_string(id) + " was not declared");
  StateReport& report = found->second;
  if (rows.size() != n_rows * report.columns)
    throw std::invalid_argument(
        "append_state: report '" + report.name + "' got " + std::to_string(rows.size()) +
        " values for " + std::to_string(n_rows) + " rows of " + std::to_string(report.columns));
  if (n_rows == 0) return;

  const std::string what = "cannot append to state report '" + report.name + "'";
  const std::array<hsize_t, 2> extent{report.rows + n_rows, report.columns};
  const std::uint64_t rows_per_chunk =
      std::max<hsize_t>(1, chunk_elements / std::max<hsize_t>(report.columns, 1));
  ensure_room(append_bound(report.rows, n_rows, report.columns * sizeof(double), rows_per_chunk),
              what);
  check(H5Dset_extent(report.data, extent.data()), label_, what);
  if (report.columns > 0)
    write_rows(report.data, report.rows, n_rows, report.columns, H5T_NATIVE_DOUBLE, rows.data(),
               label_, what);
  report.rows += n_rows;
  write_stop(report, what);
}

// Readers derive the number of frames from (stop - start) / step.
void Hdf5Output::write_stop(const StateReport& report, const std::string& what) {
  set_time_stop(report.time, report.start + static_cast<double>(report.rows) * report.interval,
                label_, what);
}

void Hdf5Output::declare_weights(int id, const WeightReportInfo& info) {
  require_open();
  check_name("projection", info.projection);
  check_name("variable", info.variable);
  const std::string kind = info.histogram ? "histogram" : "synapses";
  const std::string name = info.projection + "/" + info.variable + "/" + kind;
  if (weights_.contains(id))
    throw std::invalid_argument("weight report " + std::to_string(id) + " declared twice");
  if (!info.explicit_times && !(info.interval > 0.0))
    throw std::invalid_argument("weight report '" + name + "' has a non-positive interval");
  if (std::ranges::any_of(weights_, [&](const auto& w) { return w.second.name == name; }))
    throw std::invalid_argument("weight report '" + name + "' declared twice");
  if (info.histogram ? info.bin_edges.size() < 2
                     : info.pre.empty() || info.pre.size() != info.post.size())
    throw std::invalid_argument("weight report '" + name + "' has no bins or no synapses");
  const std::string group_path = "/weights/" + name;
  const std::string what = "cannot create '" + group_path + "'";
  if (continuing_) {
    // The file's own datasets, cut back to the rows the checkpoint knows of.
    const std::string again = "cannot continue '" + group_path + "'";
    auto open = [&](const char* rel) {
      return check(H5Dopen2(file_, (group_path + "/" + rel).c_str(), H5P_DEFAULT), label_, again);
    };
    WeightReport report;
    report.name = name;
    report.histogram = info.histogram;
    report.start = info.start;
    report.interval = info.interval;
    report.explicit_times = info.explicit_times;
    report.columns = info.histogram ? info.bin_edges.size() - 1 : info.pre.size();
    Handle data(open(info.histogram ? "counts" : "data"), H5Dclose);
    Handle time(open(info.explicit_times ? "mapping/times" : "mapping/time"), H5Dclose);
    Handle under(info.histogram ? open("underflow") : H5I_INVALID_HID, H5Dclose);
    Handle over(info.histogram ? open("overflow") : H5I_INVALID_HID, H5Dclose);
    report.rows = cut_rows(data.get(), report.columns, "weights/" + name,
                           "'" + group_path + "' is not a weight report of " +
                               std::to_string(report.columns) + " columns",
                           again);
    const hsize_t rows = report.rows;
    if (info.explicit_times) check(H5Dset_extent(time.get(), &rows), label_, again);
    if (info.histogram) {
      check(H5Dset_extent(under.get(), &rows), label_, again);
      check(H5Dset_extent(over.get(), &rows), label_, again);
    }
    if (!info.explicit_times)
      set_time_stop(time.get(), report.start + static_cast<double>(rows) * report.interval, label_,
                    again);
    report.data = data.release();
    report.time = time.release();
    report.underflow = under.release();
    report.overflow = over.release();
    weights_.emplace(id, std::move(report));
    return;
  }
  Handle group(open_or_create(file_, group_path, label_), H5Oclose);
  Handle mapping(check(H5Gcreate2(group.get(), "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       label_, what),
                 H5Gclose);

  WeightReport report;
  report.name = name;
  report.histogram = info.histogram;
  report.start = info.start;
  report.interval = info.interval;
  report.explicit_times = info.explicit_times;
  Handle time(info.explicit_times
                  ? create_extendible(mapping.get(), "times", H5T_IEEE_F64LE, label_, what)
                  : create_time_mapping(mapping.get(), info.start, info.interval, label_, what,
                                        group_path + "/mapping/time"),
              H5Dclose);
  if (info.explicit_times)
    put_string_attribute(time.get(), "units", "ms", label_, group_path + "/mapping/times");
  const bool h = info.histogram;
  report.columns = h ? info.bin_edges.size() - 1 : info.pre.size();
  Handle data(create_rows(group.get(), h ? "counts" : "data", h ? H5T_STD_U64LE : H5T_IEEE_F64LE,
                          report.columns, label_, what),
              H5Dclose);
  Handle under(h ? create_extendible(group.get(), "underflow", H5T_STD_U64LE, label_, what)
                 : H5I_INVALID_HID,
               H5Dclose);
  Handle over(h ? create_extendible(group.get(), "overflow", H5T_STD_U64LE, label_, what)
                : H5I_INVALID_HID,
              H5Dclose);
  if (h) {
    write_fixed(group.get(), "bin_edges", H5T_IEEE_F64LE, info.bin_edges.data(),
                info.bin_edges.size(), label_, what);
    Handle set(check(H5Dopen2(group.get(), "bin_edges", H5P_DEFAULT), label_, what), H5Dclose);
    put_string_attribute(set.get(), "units", info.unit, label_, group_path + "/bin_edges");
    // Every row's counts, underflow and overflow add up to this.
    put_attribute(group.get(), "n_synapses", H5T_NATIVE_UINT64, &info.n_synapses, label_,
                  group_path);
  } else {
    write_fixed(mapping.get(), "pre", H5T_STD_U64LE, info.pre.data(), report.columns, label_, what);
    write_fixed(mapping.get(), "post", H5T_STD_U64LE, info.post.data(), report.columns, label_,
                what);
    put_string_attribute(data.get(), "units", info.unit, label_, group_path + "/data");
  }
  report.data = data.release();
  report.time = time.release();
  report.underflow = under.release();
  report.overflow = over.release();
  weights_.emplace(id, std::move(report));
}

Hdf5Output::WeightReport& Hdf5Output::weight_report(int id, std::size_t values, std::size_t n_rows,
                                                    std::size_t extra) {
  require_open();
  auto found = weights_.find(id);
  if (found == weights_.end())
    throw std::invalid_argument("weight report " + std::to_string(id) + " was not declared");
  WeightReport& report = found->second;
  if (values != n_rows * (report.columns + extra))
    throw std::invalid_argument("weight report '" + report.name + "' got " +
                                std::to_string(values) + " values for " + std::to_string(n_rows) +
                                " rows of " + std::to_string(report.columns + extra));
  return report;
}

void Hdf5Output::append_weight_times(WeightReport& report, std::span<const double> times) {
  const std::string what = "cannot append to weight report '" + report.name + "'";
  if (report.explicit_times)
    append_rows(report.time, report.rows, times.size(), 0, H5T_NATIVE_DOUBLE, times.data(), label_,
                what);
  report.rows += times.size();
  if (!report.explicit_times)
    set_time_stop(report.time, report.start + static_cast<double>(report.rows) * report.interval,
                  label_, what);
}

void Hdf5Output::append_weights(int id, std::span<const double> times,
                                std::span<const double> rows) {
  WeightReport& report = weight_report(id, rows.size(), times.size(), 0);
  if (times.empty()) return;
  const std::string what = "cannot append to weight report '" + report.name + "'";
  append_rows(report.data, report.rows, times.size(), report.columns, H5T_NATIVE_DOUBLE,
              rows.data(), label_, what);
  append_weight_times(report, times);
}

void Hdf5Output::append_weight_histogram(int id, std::span<const double> times,
                                         std::span<const std::uint64_t> rows) {
  WeightReport& report = weight_report(id, rows.size(), times.size(), 2);
  if (times.empty()) return;
  const std::string what = "cannot append to weight report '" + report.name + "'";
  // Rows are the bins, then underflow and overflow: split into the three datasets.
  const std::size_t n = times.size(), bins = report.columns;
  std::vector<std::uint64_t> counts, under(n), over(n);
  counts.reserve(n * bins);
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint64_t* row = rows.data() + r * (bins + 2);
    counts.insert(counts.end(), row, row + bins);
    under[r] = row[bins];
    over[r] = row[bins + 1];
  }
  append_rows(report.data, report.rows, n, bins, H5T_NATIVE_UINT64, counts.data(), label_, what);
  append_rows(report.underflow, report.rows, n, 0, H5T_NATIVE_UINT64, under.data(), label_, what);
  append_rows(report.overflow, report.rows, n, 0, H5T_NATIVE_UINT64, over.data(), label_, what);
  append_weight_times(report, times);
}

void Hdf5Output::flush(bool durable) {
  require_open();
  const auto now = std::chrono::steady_clock::now();
  if (!durable && written_through_ && now - *written_through_ < kWriteThrough) return;
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), label_, "cannot flush");
  release_room();
  written_through_ = now;
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               const std::string& value) {
  require_open();
  ensure_room(0, "cannot set attribute '" + name + "' of '" + object_path + "'");
  Handle object(open_or_create(file_, object_path, label_), H5Oclose);
  put_string_attribute(object.get(), name, value, label_, object_path);
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               double value) {
  require_open();
  ensure_room(0, "cannot set attribute '" + name + "' of '" + object_path + "'");
  Handle object(open_or_create(file_, object_path, label_), H5Oclose);
  put_attribute(object.get(), name, H5T_NATIVE_DOUBLE, &value, label_, object_path);
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               std::int64_t value) {
  require_open();
  ensure_room(0, "cannot set attribute '" + name + "' of '" + object_path + "'");
  Handle object(open_or_create(file_, object_path, label_), H5Oclose);
  put_attribute(object.get(), name, H5T_NATIVE_INT64, &value, label_, object_path);
}

void Hdf5Output::write_matrix(const std::string& dataset_path, const double* data,
                              std::uint64_t rows, std::uint64_t cols, bool as_float) {
  require_open();
  const std::string what = "cannot write dataset '" + dataset_path + "'";
  const std::size_t n = static_cast<std::size_t>(rows * cols);
  ensure_room(n * (as_float ? 4 : 8) + 4096, what);
  const auto slash = dataset_path.rfind('/');
  const std::string group = slash == std::string::npos ? "/" : dataset_path.substr(0, slash);
  const std::string leaf =
      slash == std::string::npos ? dataset_path : dataset_path.substr(slash + 1);
  Handle parent(open_or_create(file_, group.empty() ? "/" : group, label_), H5Oclose);
  const hsize_t dims[2] = {rows, cols};
  Handle space(check(H5Screate_simple(2, dims, nullptr), label_, what), H5Sclose);
  const hid_t type = as_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  Handle set(
      check(H5Dcreate2(parent.get(), leaf.c_str(), as_float ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                       space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            label_, what),
      H5Dclose);
  if (n == 0) return;
  if (as_float) {
    std::vector<float> f(data, data + n);
    check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, f.data()), label_, what);
  } else {
    check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), label_, what);
  }
}

void Hdf5Output::close() {
  if (file_ < 0) return;
  // Closing datasets writes their cached chunks, so their failures matter too.
  bool ok = true;
  for (auto& [name, report] : spikes_) {
    ok &= H5Dclose(report.timestamps) >= 0;
    ok &= H5Dclose(report.node_ids) >= 0;
  }
  for (auto& [id, report] : states_) {
    ok &= H5Dclose(report.data) >= 0;
    ok &= H5Dclose(report.time) >= 0;
  }
  for (auto& [id, report] : weights_)
    for (Hid set : {report.data, report.time, report.underflow, report.overflow})
      if (set != invalid) ok &= H5Dclose(set) >= 0;
  spikes_.clear();
  states_.clear();
  weights_.clear();
  ok &= H5Fclose(std::exchange(file_, invalid)) >= 0;
  if (!ok) fail(label_, "cannot finish writing");
}

} // namespace glia
