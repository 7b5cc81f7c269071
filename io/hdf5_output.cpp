// HDF5 results file (see hdf5_output.hpp): the SONATA spike and state-report
// layouts written with the HDF5 C API, every call checked.
#include "io/hdf5_output.hpp"

#include <hdf5.h>
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

// Closes a temporary HDF5 object on every path out of a function.
class Handle {
public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

herr_t collect_error(unsigned, const H5E_error2_t* err, void* out) {
  auto& messages = *static_cast<std::vector<std::string>*>(out);
  if (err->desc != nullptr) messages.emplace_back(err->desc);
  return 0;
}

// The most useful line of HDF5's error stack: the operating system's reason when a
// low-level call failed ("No space left on device"), else the innermost description.
std::string hdf5_reason() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &messages);
  H5Eclear2(H5E_DEFAULT);
  constexpr std::string_view marker = "error message = '";
  for (const auto& m : messages) {
    if (auto at = m.find(marker); at != std::string::npos) {
      auto begin = at + marker.size();
      return m.substr(begin, m.find('\'', begin) - begin);
    }
  }
  return messages.empty() ? std::string() : messages.back();
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  std::string reason = hdf5_reason();
  throw OutputError("output file '" + path + "': " + what + (reason.empty() ? "" : ": " + reason));
}

template <class T> T check(T result, const std::string& path, const std::string& what) {
  if (result < 0) fail(path, what);
  return result;
}

void check_name(const std::string& kind, const std::string& name) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw std::invalid_argument(kind + " name '" + name +
                                "' cannot be used in the output file (empty, '.' or has '/')");
}

// A 1-D dataset that grows along its only dimension.
hid_t create_extendible(hid_t location, const char* name, hid_t type, const std::string& path,
                        const std::string& what) {
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  Handle space(check(H5Screate_simple(1, &zero, &unlimited), path, what), H5Sclose);
  Handle props(check(H5Pcreate(H5P_DATASET_CREATE), path, what), H5Pclose);
  check(H5Pset_chunk(props.get(), 1, &chunk_elements), path, what);
  return check(H5Dcreate2(location, name, type, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
               path, what);
}

// A fixed 1-D dataset written once.
void write_fixed(hid_t location, const char* name, hid_t type, const void* data, hsize_t n,
                 const std::string& path, const std::string& what) {
  Handle space(check(H5Screate_simple(1, &n, nullptr), path, what), H5Sclose);
  Handle set(
      check(H5Dcreate2(location, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            path, what),
      H5Dclose);
  if (n > 0) check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path, what);
}

// Writes `count` rows of `columns` values after the first `old_rows` rows of a 1-D
// (columns == 0) or 2-D dataset whose extent has already been grown.
void write_rows(hid_t set, hsize_t old_rows, hsize_t count, hsize_t columns, hid_t type,
                const void* data, const std::string& path, const std::string& what) {
  const int rank = columns == 0 ? 1 : 2;
  const std::array<hsize_t, 2> offset{old_rows, 0}, extent{count, columns};
  Handle file_space(check(H5Dget_space(set), path, what), H5Sclose);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(),
                            nullptr),
        path, what);
  Handle memory_space(check(H5Screate_simple(rank, extent.data(), nullptr), path, what), H5Sclose);
  check(H5Dwrite(set, type, memory_space.get(), file_space.get(), H5P_DEFAULT, data), path, what);
}

// Opens the group or dataset at `object_path`, creating missing groups on the way.
hid_t open_or_create(hid_t file, const std::string& object_path, const std::string& path) {
  std::string prefix;
  std::string_view rest = object_path;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto component = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (component.empty()) continue;
    prefix += '/';
    prefix += component;
    const std::string what = "cannot create group '" + prefix + "'";
    if (check(H5Lexists(file, prefix.c_str(), H5P_DEFAULT), path, what) > 0) continue;
    check(H5Gclose(check(H5Gcreate2(file, prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         path, what)),
          path, what);
  }
  // push_back, not `= "/"`: GCC 12 reports a false -Wrestrict on the assignment at -O3.
  if (prefix.empty()) prefix.push_back('/');
  return check(H5Oopen(file, prefix.c_str(), H5P_DEFAULT), path, "cannot open '" + prefix + "'");
}

// Scalar attribute, replacing one of the same name.
void put_attribute(hid_t object, const std::string& name, hid_t type, const void* value,
                   const std::string& path, const std::string& object_path) {
  const std::string what = "cannot set attribute '" + name + "' of '" + object_path + "'";
  if (check(H5Aexists(object, name.c_str()), path, what) > 0)
    check(H5Adelete(object, name.c_str()), path, what);
  Handle space(check(H5Screate(H5S_SCALAR), path, what), H5Sclose);
  Handle attribute(
      check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), path,
            what),
      H5Aclose);
  check(H5Awrite(attribute.get(), type, value), path, what);
}

// Variable-length UTF-8, which h5py reads back as str rather than bytes.
void put_string_attribute(hid_t object, const std::string& name, const std::string& value,
                          const std::string& path, const std::string& object_path) {
  const std::string what = "cannot set attribute '" + name + "' of '" + object_path + "'";
  Handle type(check(H5Tcopy(H5T_C_S1), path, what), H5Tclose);
  check(H5Tset_size(type.get(), H5T_VARIABLE), path, what);
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), path, what);
  const char* text = value.c_str();
  put_attribute(object, name, type.get(), &text, path, object_path);
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

Hdf5Output::Hdf5Output(const std::string& path) : path_(path) {
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
    cannot(hdf5_reason());
  file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, file_access.get());
  if (file_ < 0) {
    std::string reason = hdf5_reason();
    cannot(reason.empty() ? "HDF5 could not create it" : reason);
  }
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
  const std::string what = "cannot create '" + group_path + "'";
  const bool first = spikes_.empty();
  Handle group(open_or_create(file_, group_path, path_), H5Oclose);
  if (first) {
    Handle spikes(check(H5Oopen(file_, "/spikes", H5P_DEFAULT), path_, what), H5Oclose);
    put_string_attribute(spikes.get(), "sorting", "by_time", path_, "/spikes");
  }
  put_string_attribute(group.get(), "sorting", "by_time", path_, group_path);
  // Not part of SONATA: lets readers turn spike counts into per-neuron rates.
  put_attribute(group.get(), "size", H5T_NATIVE_UINT64, &size, path_, group_path);

  SpikeReport report;
  report.size = size;
  Handle timestamps(create_extendible(group.get(), "timestamps", H5T_IEEE_F64LE, path_, what),
                    H5Dclose);
  put_string_attribute(timestamps.get(), "units", "ms", path_, group_path + "/timestamps");
  Handle node_ids(create_extendible(group.get(), "node_ids", H5T_STD_U64LE, path_, what), H5Dclose);
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
  check(H5Dset_extent(report.timestamps, &new_n), path_, what);
  check(H5Dset_extent(report.node_ids, &new_n), path_, what);
  write_rows(report.timestamps, report.n, count, 0, H5T_NATIVE_DOUBLE, times.data(), path_, what);
  write_rows(report.node_ids, report.n, count, 0, H5T_NATIVE_UINT64, node_ids.data(), path_, what);
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
  Handle group(open_or_create(file_, group_path, path_), H5Oclose);
  Handle mapping(
      check(H5Gcreate2(group.get(), "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path_, what),
      H5Gclose);

  const hsize_t n = info.node_ids.size();
  write_fixed(mapping.get(), "node_ids", H5T_STD_U64LE, info.node_ids.data(), n, path_, what);
  // One element per node, so SONATA readers see one value per recorded neuron.
  std::vector<std::uint64_t> pointers(n + 1);
  for (hsize_t i = 0; i <= n; ++i) pointers[i] = i;
  write_fixed(mapping.get(), "index_pointers", H5T_STD_U64LE, pointers.data(), n + 1, path_, what);
  const std::vector<std::uint32_t> elements(n, 0);
  write_fixed(mapping.get(), "element_ids", H5T_STD_U32LE, elements.data(), n, path_, what);

  StateReport report;
  report.columns = n;
  report.start = info.start;
  report.interval = info.interval;
  report.name = name;

  Handle time_set(create_time_mapping(mapping.get(), info.start, info.interval, path_, what,
                                      group_path + "/mapping/time"),
                  H5Dclose);
  Handle data(create_rows(group.get(), "data", H5T_IEEE_F64LE, n, path_, what), H5Dclose);
  put_string_attribute(data.get(), "units", info.unit, path_, group_path + "/data");

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
  check(H5Dset_extent(report.data, extent.data()), path_, what);
  if (report.columns > 0)
    write_rows(report.data, report.rows, n_rows, report.columns, H5T_NATIVE_DOUBLE, rows.data(),
               path_, what);
  report.rows += n_rows;
  // Readers derive the number of frames from (stop - start) / step.
  set_time_stop(report.time, report.start + static_cast<double>(report.rows) * report.interval,
                path_, what);
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
  Handle group(open_or_create(file_, group_path, path_), H5Oclose);
  Handle mapping(
      check(H5Gcreate2(group.get(), "mapping", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path_, what),
      H5Gclose);

  WeightReport report;
  report.name = name;
  report.histogram = info.histogram;
  report.start = info.start;
  report.interval = info.interval;
  report.explicit_times = info.explicit_times;
  Handle time(info.explicit_times
                  ? create_extendible(mapping.get(), "times", H5T_IEEE_F64LE, path_, what)
                  : create_time_mapping(mapping.get(), info.start, info.interval, path_, what,
                                        group_path + "/mapping/time"),
              H5Dclose);
  if (info.explicit_times)
    put_string_attribute(time.get(), "units", "ms", path_, group_path + "/mapping/times");
  const bool h = info.histogram;
  report.columns = h ? info.bin_edges.size() - 1 : info.pre.size();
  Handle data(create_rows(group.get(), h ? "counts" : "data", h ? H5T_STD_U64LE : H5T_IEEE_F64LE,
                          report.columns, path_, what),
              H5Dclose);
  Handle under(h ? create_extendible(group.get(), "underflow", H5T_STD_U64LE, path_, what)
                 : H5I_INVALID_HID,
               H5Dclose);
  Handle over(h ? create_extendible(group.get(), "overflow", H5T_STD_U64LE, path_, what)
                : H5I_INVALID_HID,
              H5Dclose);
  if (h) {
    write_fixed(group.get(), "bin_edges", H5T_IEEE_F64LE, info.bin_edges.data(),
                info.bin_edges.size(), path_, what);
    Handle set(check(H5Dopen2(group.get(), "bin_edges", H5P_DEFAULT), path_, what), H5Dclose);
    put_string_attribute(set.get(), "units", info.unit, path_, group_path + "/bin_edges");
    // Every row's counts, underflow and overflow add up to this.
    put_attribute(group.get(), "n_synapses", H5T_NATIVE_UINT64, &info.n_synapses, path_,
                  group_path);
  } else {
    write_fixed(mapping.get(), "pre", H5T_STD_U64LE, info.pre.data(), report.columns, path_, what);
    write_fixed(mapping.get(), "post", H5T_STD_U64LE, info.post.data(), report.columns, path_,
                what);
    put_string_attribute(data.get(), "units", info.unit, path_, group_path + "/data");
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
    append_rows(report.time, report.rows, times.size(), 0, H5T_NATIVE_DOUBLE, times.data(), path_,
                what);
  report.rows += times.size();
  if (!report.explicit_times)
    set_time_stop(report.time, report.start + static_cast<double>(report.rows) * report.interval,
                  path_, what);
}

void Hdf5Output::append_weights(int id, std::span<const double> times,
                                std::span<const double> rows) {
  WeightReport& report = weight_report(id, rows.size(), times.size(), 0);
  if (times.empty()) return;
  const std::string what = "cannot append to weight report '" + report.name + "'";
  append_rows(report.data, report.rows, times.size(), report.columns, H5T_NATIVE_DOUBLE,
              rows.data(), path_, what);
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
  append_rows(report.data, report.rows, n, bins, H5T_NATIVE_UINT64, counts.data(), path_, what);
  append_rows(report.underflow, report.rows, n, 0, H5T_NATIVE_UINT64, under.data(), path_, what);
  append_rows(report.overflow, report.rows, n, 0, H5T_NATIVE_UINT64, over.data(), path_, what);
  append_weight_times(report, times);
}

void Hdf5Output::flush() {
  require_open();
  check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_, "cannot flush");
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               const std::string& value) {
  require_open();
  Handle object(open_or_create(file_, object_path, path_), H5Oclose);
  put_string_attribute(object.get(), name, value, path_, object_path);
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               double value) {
  require_open();
  Handle object(open_or_create(file_, object_path, path_), H5Oclose);
  put_attribute(object.get(), name, H5T_NATIVE_DOUBLE, &value, path_, object_path);
}

void Hdf5Output::set_attribute(const std::string& object_path, const std::string& name,
                               std::int64_t value) {
  require_open();
  Handle object(open_or_create(file_, object_path, path_), H5Oclose);
  put_attribute(object.get(), name, H5T_NATIVE_INT64, &value, path_, object_path);
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
  if (!ok) fail(path_, "cannot finish writing");
}

} // namespace glia
