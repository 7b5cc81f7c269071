// Tests of the HDF5 results file: exact contents read back with the HDF5 C API, the
// SONATA layout as h5py sees it, precise errors, and a killed run leaving a readable file.
#include "io/hdf5_output.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

namespace fs = std::filesystem;
using glia::Hdf5Output;
using glia::OutputError;

// A fresh directory under the system temp directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device random;
    path = fs::temp_directory_path() /
           ("glia_test_hdf5_" + std::to_string(::getpid()) + "_" + std::to_string(random()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// The sample run: two populations whose spikes arrive in several batches (one
// empty) and two state reports, one of a vector element.
const std::vector<double> exc_times{0.1, 0.1, 0.5, 1.0, 2.5};
const std::vector<std::uint64_t> exc_ids{1, 3, 2, 9, 0};
const std::vector<double> inh_times{0.3, 2.0, 3.0};
const std::vector<std::uint64_t> inh_ids{0, 3, 1};
const std::vector<std::uint64_t> v_nodes{0, 2, 5};
const std::vector<double> v_rows{-65.0, -64.5, -70.25, -60.0, -59.0, -58.0, 10.0, 11.0, 12.0};
const std::vector<double> m_rows{0.25, 0.5, 0.75};

template <class T>
std::span<const T> part(const std::vector<T>& v, std::size_t from, std::size_t n) {
  return std::span<const T>(v).subspan(from, n);
}

void write_sample(Hdf5Output& out) {
  out.declare_spikes("exc", 10);
  out.declare_spikes("inh", 4);
  out.declare_state(0, {"exc", "V_m", "mV", v_nodes, 0.1, 0.5});
  out.declare_state(7, {"exc", "m[3]", "", {4}, 0.0, 1.0});
  out.append_spikes("exc", part(exc_times, 0, 3), part(exc_ids, 0, 3));
  out.append_spikes("inh", part(inh_times, 0, 1), part(inh_ids, 0, 1));
  out.append_state(0, part(v_rows, 0, 6), 2);
  out.append_state(7, part(m_rows, 0, 2), 2);
  out.flush(true);
  out.append_spikes("exc", part(exc_times, 3, 2), part(exc_ids, 3, 2));
  out.append_spikes("inh", {}, {});
  out.append_spikes("inh", part(inh_times, 1, 2), part(inh_ids, 1, 2));
  out.append_state(0, part(v_rows, 6, 3), 1);
  out.append_state(7, part(m_rows, 2, 1), 1);
  out.set_attribute("/", "experiment_path", std::string("experiments/sample.toml"));
  out.set_attribute("/metrics", "rate_exc", 3.0);
  out.set_attribute("/metrics", "rate_exc", 12.5); // replaces the first value
  out.set_attribute("/metrics", "steps", std::int64_t{1000});
}

// Reads a whole dataset, checking its stored type and shape.
template <class T>
std::vector<T> read_dataset(hid_t file, const std::string& name, hid_t stored_type,
                            std::vector<hsize_t> shape) {
  hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  REQUIRE(set >= 0);
  hid_t type = H5Dget_type(set);
  CHECK(H5Tequal(type, stored_type) > 0);
  H5Tclose(type);
  hid_t space = H5Dget_space(set);
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  CHECK(dims == shape);
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> values(n);
  const hid_t memory_type = std::is_same_v<T, double>          ? H5T_NATIVE_DOUBLE
                            : std::is_same_v<T, std::uint32_t> ? H5T_NATIVE_UINT32
                                                               : H5T_NATIVE_UINT64;
  if (n > 0) CHECK(H5Dread(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  H5Dclose(set);
  return values;
}

std::string read_string_attribute(hid_t file, const std::string& object, const std::string& name) {
  hid_t attribute = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  hid_t type = H5Aget_type(attribute);
  REQUIRE(H5Tis_variable_str(type) > 0);
  char* text = nullptr;
  REQUIRE(H5Aread(attribute, type, &text) >= 0);
  std::string value(text);
  H5free_memory(text);
  H5Tclose(type);
  H5Aclose(attribute);
  return value;
}

template <class T>
T read_attribute(hid_t file, const std::string& object, const std::string& name, hid_t type) {
  hid_t attribute = H5Aopen_by_name(file, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(attribute >= 0);
  T value{};
  CHECK(H5Aread(attribute, type, &value) >= 0);
  H5Aclose(attribute);
  return value;
}

// Python list literal with every double exact.
template <class T> std::string py_list(const std::vector<T>& values) {
  std::ostringstream out;
  out.precision(17);
  out << '[';
  for (const auto& v : values) out << v << ',';
  out << ']';
  return out.str();
}

std::string error_message(const std::string& path) {
  try {
    Hdf5Output out(path);
  } catch (const OutputError& e) {
    return e.what();
  }
  FAIL("no OutputError for " << path);
  return {};
}

} // namespace

TEST_CASE("Hdf5Output contents read back exactly with the HDF5 C API", "[io]") {
  TempDir dir;
  const std::string path = dir.file("sample.h5");
  {
    Hdf5Output out(path);
    write_sample(out);
    out.close();
    out.close(); // idempotent
    CHECK_THROWS_AS(out.flush(true), OutputError);
  }

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  CHECK(read_string_attribute(file, "/spikes", "sorting") == "by_time");
  CHECK(read_string_attribute(file, "/spikes/exc", "sorting") == "by_time");
  CHECK(read_string_attribute(file, "/spikes/exc/timestamps", "units") == "ms");
  CHECK(read_attribute<std::uint64_t>(file, "/spikes/inh", "size", H5T_NATIVE_UINT64) == 4);
  CHECK(read_dataset<double>(file, "/spikes/exc/timestamps", H5T_IEEE_F64LE, {5}) == exc_times);
  CHECK(read_dataset<std::uint64_t>(file, "/spikes/exc/node_ids", H5T_STD_U64LE, {5}) == exc_ids);
  CHECK(read_dataset<double>(file, "/spikes/inh/timestamps", H5T_IEEE_F64LE, {3}) == inh_times);
  CHECK(read_dataset<std::uint64_t>(file, "/spikes/inh/node_ids", H5T_STD_U64LE, {3}) == inh_ids);

  const std::string v = "/report/exc/V_m";
  CHECK(read_dataset<double>(file, v + "/data", H5T_IEEE_F64LE, {3, 3}) == v_rows);
  CHECK(read_string_attribute(file, v + "/data", "units") == "mV");
  CHECK(read_dataset<std::uint64_t>(file, v + "/mapping/node_ids", H5T_STD_U64LE, {3}) == v_nodes);
  CHECK(read_dataset<double>(file, v + "/mapping/time", H5T_IEEE_F64LE, {3}) ==
        std::vector<double>{0.1, 0.1 + 3 * 0.5, 0.5});
  CHECK(read_dataset<std::uint64_t>(file, v + "/mapping/index_pointers", H5T_STD_U64LE, {4}) ==
        std::vector<std::uint64_t>{0, 1, 2, 3});
  CHECK(read_dataset<std::uint32_t>(file, v + "/mapping/element_ids", H5T_STD_U32LE, {3}) ==
        std::vector<std::uint32_t>{0, 0, 0});
  const std::string m = "/report/exc/m[3]";
  CHECK(read_dataset<double>(file, m + "/data", H5T_IEEE_F64LE, {3, 1}) == m_rows);
  CHECK(read_dataset<double>(file, m + "/mapping/time", H5T_IEEE_F64LE, {3}) ==
        std::vector<double>{0.0, 3.0, 1.0});

  CHECK(read_string_attribute(file, "/", "experiment_path") == "experiments/sample.toml");
  CHECK(read_attribute<double>(file, "/metrics", "rate_exc", H5T_NATIVE_DOUBLE) == 12.5);
  CHECK(read_attribute<std::int64_t>(file, "/metrics", "steps", H5T_NATIVE_INT64) == 1000);
  H5Fclose(file);
}

TEST_CASE("Hdf5Output files have the SONATA layout as h5py reads it", "[io]") {
  TempDir dir;
  const std::string path = dir.file("sample.h5");
  {
    Hdf5Output out(path);
    write_sample(out);
  }
  // Written to a file rather than passed with -c, so no shell quoting is involved.
  const std::string script = dir.file("check.py");
  std::ofstream(script) << R"(import sys
import h5py
import numpy as np

def check(ok, what):
    if not ok:
        sys.exit('layout check failed: ' + what)

f = h5py.File(sys.argv[1], 'r')
check(f['spikes'].attrs['sorting'] == 'by_time', '/spikes sorting')
for pop, times, ids in [('exc', )"
                        << py_list(exc_times) << ", " << py_list(exc_ids) << "), ('inh', "
                        << py_list(inh_times) << ", " << py_list(inh_ids) << R"()]:
    g = f['spikes'][pop]
    check(g.attrs['sorting'] == 'by_time', pop + ' sorting')
    check(g['timestamps'].dtype == np.float64, pop + ' timestamps dtype')
    check(g['node_ids'].dtype == np.uint64, pop + ' node_ids dtype')
    check(g['timestamps'].attrs['units'] == 'ms', pop + ' units')
    check(g['timestamps'].maxshape == (None,), pop + ' not extendible')
    check(np.array_equal(g['timestamps'][()], times), pop + ' timestamps')
    check(np.array_equal(g['node_ids'][()], ids), pop + ' node_ids')
r = f['report/exc/V_m']
check(r['data'].dtype == np.float64 and r['data'].shape == (3, 3), 'V_m data shape')
check(r['data'].attrs['units'] == 'mV', 'V_m units')
check(np.array_equal(r['data'][()].ravel(), )"
                        << py_list(v_rows) << R"(), 'V_m data')
check(r['mapping/node_ids'].dtype == np.uint64, 'node_ids dtype')
check(np.array_equal(r['mapping/node_ids'][()], )"
                        << py_list(v_nodes) << R"(), 'V_m node_ids')
start, stop, step = r['mapping/time'][()]
check(np.isclose(start, 0.1) and np.isclose(stop, 1.6) and np.isclose(step, 0.5), 'time')
check(np.array_equal(r['mapping/index_pointers'][()], [0, 1, 2, 3]), 'index_pointers')
check(r['mapping/element_ids'].dtype == np.uint32, 'element_ids dtype')
check(f['report/exc/m[3]/data'].shape == (3, 1), 'm[3] shape')
check(f.attrs['experiment_path'] == 'experiments/sample.toml', 'experiment_path')
check(f['metrics'].attrs['rate_exc'] == 12.5, 'rate_exc')
check(f['metrics'].attrs['steps'].dtype == np.int64, 'steps dtype')
)";
  const std::string command = "/usr/bin/python3 '" + script + "' '" + path + "'";
  REQUIRE(std::system(command.c_str()) == 0);
}

TEST_CASE("Hdf5Output reports files it cannot create", "[io]") {
  TempDir dir;
  const std::string missing = dir.file("no_such_dir/out.h5");
  std::string message = error_message(missing);
  CHECK(message.find(missing) != std::string::npos);
  CHECK(message.find("does not exist") != std::string::npos);

  message = error_message(dir.path.string());
  CHECK(message.find(dir.path.string()) != std::string::npos);
  CHECK(message.find("is a directory") != std::string::npos);

  // Root ignores permissions, so this part only means something for other users.
  if (::geteuid() != 0) {
    const fs::path locked = dir.path / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    message = error_message((locked / "out.h5").string());
    fs::permissions(locked, fs::perms::owner_all);
    CHECK(message.find((locked / "out.h5").string()) != std::string::npos);
    CHECK(message.find("Permission denied") != std::string::npos);
  }
}

TEST_CASE("Hdf5Output reports write failures with the reason", "[io]") {
  // /dev/full fails every write with ENOSPC, like a full disk, already at creation.
  if (fs::exists("/dev/full"))
    CHECK(error_message("/dev/full").find("No space left on device") != std::string::npos);

  // A file-size limit makes writes fail part-way through a run; set in a child
  // process so the limit does not outlive the test.
  TempDir dir;
  const std::string path = dir.file("limited.h5");
  std::array<int, 2> pipe_ends{};
  REQUIRE(::pipe(pipe_ends.data()) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN); // report EFBIG instead of being killed
    // The destructor's note about the failed close is expected here.
    if (std::freopen("/dev/null", "w", stderr) == nullptr) ::_exit(1);
    const rlimit limit{64 * 1024, 64 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::string message = "no OutputError";
    try {
      Hdf5Output out(path);
      out.declare_spikes("exc", 10);
      const std::vector<double> times(100000, 1.0);
      const std::vector<std::uint64_t> ids(times.size(), 0);
      out.append_spikes("exc", times, ids);
      out.flush(true);
    } catch (const OutputError& e) {
      message = e.what();
    }
    const auto written = ::write(pipe_ends[1], message.data(), message.size());
    ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  ::close(pipe_ends[1]);
  std::string message;
  std::array<char, 512> buffer{};
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer.data(), buffer.size())) > 0;)
    message.append(buffer.data(), static_cast<std::size_t>(n));
  ::close(pipe_ends[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  INFO(message);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("File too large") != std::string::npos);
}

// Runs `write` on an Hdf5Output of `path` in a child process that then ends without
// closing it, as a killed process would (_exit skips every destructor); requires that
// the child got that far.
namespace {
template <class F> void write_and_abandon(const std::string& path, F&& write) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      Hdf5Output out(path);
      write(out);
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}
} // namespace

TEST_CASE("Hdf5Output: a run killed after a flush leaves a readable file", "[io]") {
  TempDir dir;
  const std::string path = dir.file("killed.h5");
  write_and_abandon(path, [](Hdf5Output& out) {
    out.declare_spikes("exc", 10);
    out.declare_state(0, {"exc", "V_m", "mV", v_nodes, 0.1, 0.5});
    out.append_spikes("exc", part(exc_times, 0, 3), part(exc_ids, 0, 3));
    out.append_state(0, part(v_rows, 0, 6), 2);
    out.flush(false); // the first flush writes through even when not asked to
    out.append_spikes("exc", part(exc_times, 3, 2), part(exc_ids, 3, 2));
  });

  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  // The unflushed batch may or may not have reached the disk; the flushed one has.
  hid_t set = H5Dopen2(file, "/spikes/exc/timestamps", H5P_DEFAULT);
  REQUIRE(set >= 0);
  hid_t space = H5Dget_space(set);
  const auto n = static_cast<hsize_t>(H5Sget_simple_extent_npoints(space));
  H5Sclose(space);
  H5Dclose(set);
  REQUIRE(n >= 3);
  const auto times = read_dataset<double>(file, "/spikes/exc/timestamps", H5T_IEEE_F64LE, {n});
  const auto ids = read_dataset<std::uint64_t>(file, "/spikes/exc/node_ids", H5T_STD_U64LE, {n});
  CHECK(std::equal(exc_times.begin(), exc_times.begin() + 3, times.begin()));
  CHECK(std::equal(exc_ids.begin(), exc_ids.begin() + 3, ids.begin()));
  CHECK(read_dataset<double>(file, "/report/exc/V_m/data", H5T_IEEE_F64LE, {2, 3}) ==
        std::vector<double>(v_rows.begin(), v_rows.begin() + 6));
  CHECK(read_dataset<double>(file, "/report/exc/V_m/mapping/time", H5T_IEEE_F64LE, {3}) ==
        std::vector<double>{0.1, 1.1, 0.5});
  H5Fclose(file);
}

TEST_CASE("Hdf5Output: a durable flush writes through what lighter flushes left cached", "[io]") {
  TempDir dir;
  const std::string path = dir.file("through.h5");
  write_and_abandon(path, [](Hdf5Output& out) {
    out.declare_spikes("exc", 10);
    out.append_spikes("exc", part(exc_times, 0, 3), part(exc_ids, 0, 3));
    out.flush(false);
    out.append_spikes("exc", part(exc_times, 3, 1), part(exc_ids, 3, 1));
    out.flush(false); // within kWriteThrough of the first: may stay cached
    out.append_spikes("exc", part(exc_times, 4, 1), part(exc_ids, 4, 1));
    out.flush(true);
  });
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const auto times = read_dataset<double>(file, "/spikes/exc/timestamps", H5T_IEEE_F64LE, {5});
  CHECK(std::equal(exc_times.begin(), exc_times.begin() + 5, times.begin()));
  H5Fclose(file);
}
