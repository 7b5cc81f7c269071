// Helpers for end-to-end tests: run the glia binary in a scratch directory and read
// what it wrote with the HDF5 C API.
#pragma once

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace glia::test {

struct RunResult {
  int code = -1;
  std::string out, err;
};

// A fresh directory under the system temp dir, removed when the object dies.
class ScratchDir {
public:
  explicit ScratchDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("glia-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }

private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `glia ARGS` with stdout and stderr captured.
inline RunResult run_glia(const std::string& args, const ScratchDir& dir) {
  const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = std::string(GLIA_BINARY) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

inline std::string source_path(const std::string& rel) {
  return std::string(GLIA_SOURCE_DIR) + "/" + rel;
}

template <class T> hid_t h5_type();
template <> inline hid_t h5_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <> inline hid_t h5_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}

// Reads a whole dataset (any rank) as a flat vector; empty if it does not exist.
template <class T> std::vector<T> read_dataset(const std::string& file, const std::string& name) {
  std::vector<T> out;
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return out;
  if (H5Lexists(f, name.c_str(), H5P_DEFAULT) > 0) {
    const hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
    const hid_t s = H5Dget_space(d);
    out.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(s)));
    if (!out.empty()) H5Dread(d, h5_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    H5Sclose(s);
    H5Dclose(d);
  }
  H5Fclose(f);
  return out;
}

// Reads a numeric attribute of a group; NaN if absent.
inline double read_attribute(const std::string& file, const std::string& object,
                             const std::string& name) {
  double v = std::numeric_limits<double>::quiet_NaN();
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return v;
  if (H5Aexists_by_name(f, object.c_str(), name.c_str(), H5P_DEFAULT) > 0) {
    const hid_t a = H5Aopen_by_name(f, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
  }
  H5Fclose(f);
  return v;
}

} // namespace glia::test
