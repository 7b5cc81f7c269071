// Small pieces shared by the HDF5 files glia writes and reads (results, checkpoints):
// handles that close themselves, checked calls whose failures become OutputError with
// the operating system's reason ("No space left on device"), attributes and fixed
// datasets. `file` in these functions is how messages name the file, e.g.
// "output file 'results/brunel.h5'".
#pragma once

#include "io/hdf5_output.hpp"

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>

namespace glia::h5 {

// Closes an HDF5 object on every path out of a scope.
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

// The most useful line of HDF5's error stack (and clears it): the operating system's
// reason when a low-level call failed, else the innermost description.
std::string reason();

// Throws OutputError("<file>: <what>: <reason>").
[[noreturn]] void fail(const std::string& file, const std::string& what);

template <class T> T check(T result, const std::string& file, const std::string& what) {
  if (result < 0) fail(file, what);
  return result;
}

// A fixed 1-D dataset of n values written once.
void write_fixed(hid_t location, const char* name, hid_t type, const void* data, hsize_t n,
                 const std::string& file, const std::string& what);

// Opens the group or dataset at `object_path`, creating missing groups on the way.
hid_t open_or_create(hid_t location, const std::string& object_path, const std::string& file);

// Scalar attribute, replacing one of the same name.
void put_attribute(hid_t object, const std::string& name, hid_t type, const void* value,
                   const std::string& file, const std::string& object_path);
// Variable-length UTF-8, which h5py reads back as str rather than bytes.
void put_string_attribute(hid_t object, const std::string& name, const std::string& value,
                          const std::string& file, const std::string& object_path);

// Attributes read back; false when absent or not convertible.
bool read_attribute(hid_t object, const std::string& name, std::int64_t& value);
bool read_attribute(hid_t object, const std::string& name, double& value);
bool read_attribute(hid_t object, const std::string& name, std::string& value);

} // namespace glia::h5
