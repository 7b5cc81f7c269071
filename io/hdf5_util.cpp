// Shared HDF5 helpers (see hdf5_util.hpp).
#include "io/hdf5_util.hpp"

#include <string_view>
#include <vector>

namespace glia::h5 {
namespace {

herr_t collect_error(unsigned, const H5E_error2_t* err, void* out) {
  auto& messages = *static_cast<std::vector<std::string>*>(out);
  if (err->desc != nullptr) messages.emplace_back(err->desc);
  return 0;
}

} // namespace

std::string reason() {
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

void fail(const std::string& file, const std::string& what) {
  std::string why = reason();
  throw OutputError(file + ": " + what + (why.empty() ? "" : ": " + why));
}

void write_fixed(hid_t location, const char* name, hid_t type, const void* data, hsize_t n,
                 const std::string& file, const std::string& what) {
  Handle space(check(H5Screate_simple(1, &n, nullptr), file, what), H5Sclose);
  Handle set(
      check(H5Dcreate2(location, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            file, what),
      H5Dclose);
  if (n > 0) check(H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), file, what);
}

hid_t open_or_create(hid_t location, const std::string& object_path, const std::string& file) {
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
    if (check(H5Lexists(location, prefix.c_str(), H5P_DEFAULT), file, what) > 0) continue;
    check(
        H5Gclose(check(H5Gcreate2(location, prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       file, what)),
        file, what);
  }
  // push_back, not `= "/"`: GCC 12 reports a false -Wrestrict on the assignment at -O3.
  if (prefix.empty()) prefix.push_back('/');
  return check(H5Oopen(location, prefix.c_str(), H5P_DEFAULT), file,
               "cannot open '" + prefix + "'");
}

void put_attribute(hid_t object, const std::string& name, hid_t type, const void* value,
                   const std::string& file, const std::string& object_path) {
  const std::string what = "cannot set attribute '" + name + "' of '" + object_path + "'";
  if (check(H5Aexists(object, name.c_str()), file, what) > 0)
    check(H5Adelete(object, name.c_str()), file, what);
  Handle space(check(H5Screate(H5S_SCALAR), file, what), H5Sclose);
  Handle attribute(
      check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), file,
            what),
      H5Aclose);
  check(H5Awrite(attribute.get(), type, value), file, what);
}

void put_string_attribute(hid_t object, const std::string& name, const std::string& value,
                          const std::string& file, const std::string& object_path) {
  const std::string what = "cannot set attribute '" + name + "' of '" + object_path + "'";
  Handle type(check(H5Tcopy(H5T_C_S1), file, what), H5Tclose);
  check(H5Tset_size(type.get(), H5T_VARIABLE), file, what);
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), file, what);
  const char* text = value.c_str();
  put_attribute(object, name, type.get(), &text, file, object_path);
}

namespace {

// A scalar numeric attribute converted to `memory_type`.
bool read_number(hid_t object, const std::string& name, hid_t memory_type, void* out) {
  if (H5Aexists(object, name.c_str()) <= 0) return false;
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (attribute.get() < 0) return false;
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return false;
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return false;
  return H5Aread(attribute.get(), memory_type, out) >= 0;
}

} // namespace

bool read_attribute(hid_t object, const std::string& name, std::int64_t& value) {
  return read_number(object, name, H5T_NATIVE_INT64, &value);
}

bool read_attribute(hid_t object, const std::string& name, double& value) {
  return read_number(object, name, H5T_NATIVE_DOUBLE, &value);
}

bool read_attribute(hid_t object, const std::string& name, std::string& value) {
  if (H5Aexists(object, name.c_str()) <= 0) return false;
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (attribute.get() < 0) return false;
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0) return false;
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return false;
  Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory.get(), H5T_VARIABLE);
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
  char* text = nullptr;
  if (H5Aread(attribute.get(), memory.get(), &text) < 0) return false;
  value = text ? text : "";
  H5free_memory(text);
  return true;
}

} // namespace glia::h5
