// Checkpoint files (see checkpoint.hpp).
#include "io/checkpoint.hpp"

#include "io/hdf5_util.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace glia {
namespace {

using h5::check;
using h5::Handle;

constexpr const char* kFormat = "glia checkpoint";
constexpr std::int64_t kFormatVersion = 1;

// File (little-endian) and memory types of an archive entry type.
struct Types {
  hid_t file, memory;
};
Types types_of(ArchiveType t) {
  switch (t) {
  case ArchiveType::f64:
    return {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
  case ArchiveType::f32:
    return {H5T_IEEE_F32LE, H5T_NATIVE_FLOAT};
  case ArchiveType::i64:
    return {H5T_STD_I64LE, H5T_NATIVE_INT64};
  case ArchiveType::u64:
    return {H5T_STD_U64LE, H5T_NATIVE_UINT64};
  case ArchiveType::u32:
    return {H5T_STD_U32LE, H5T_NATIVE_UINT32};
  case ArchiveType::u16:
    return {H5T_STD_U16LE, H5T_NATIVE_UINT16};
  case ArchiveType::u8:
    break;
  }
  return {H5T_STD_U8LE, H5T_NATIVE_UINT8};
}
hid_t file_type(ArchiveType t) {
  return types_of(t).file;
}
hid_t memory_type(ArchiveType t) {
  return types_of(t).memory;
}

std::size_t element_size(ArchiveType t) {
  return H5Tget_size(memory_type(t));
}

// The archive type that stores a dataset of this file type; false if none does.
bool archive_type_of_file(hid_t type, ArchiveType& out) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) {
    if (size == 8) out = ArchiveType::f64;
    if (size == 4) out = ArchiveType::f32;
    return size == 8 || size == 4;
  }
  if (cls != H5T_INTEGER) return false;
  const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
  if (is_signed) {
    out = ArchiveType::i64;
    return size == 8;
  }
  switch (size) {
  case 8:
    out = ArchiveType::u64;
    return true;
  case 4:
    out = ArchiveType::u32;
    return true;
  case 2:
    out = ArchiveType::u16;
    return true;
  case 1:
    out = ArchiveType::u8;
    return true;
  default:
    return false;
  }
}

// fsync of a path; false with errno set on failure.
bool sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

void write_contents(hid_t file, const CheckpointInfo& info, const StateArchive& state,
                    const std::string& label) {
  auto text = [&](const char* name, const std::string& value) {
    h5::put_string_attribute(file, name, value, label, "/");
  };
  auto integer = [&](const char* name, std::int64_t value) {
    h5::put_attribute(file, name, H5T_NATIVE_INT64, &value, label, "/");
  };
  auto real = [&](const char* name, double value) {
    h5::put_attribute(file, name, H5T_NATIVE_DOUBLE, &value, label, "/");
  };
  text("format", kFormat);
  integer("format_version", kFormatVersion);
  text("glia_version", info.glia_version);
  text("experiment", info.experiment);
  text("experiment_path", info.experiment_path);
  text("experiment_source", info.experiment_source);
  text("overrides", info.overrides);
  integer("step", static_cast<std::int64_t>(info.step));
  real("dt", info.dt);
  real("time_ms", info.time_ms());
  integer("threads", info.threads);
  text("output_path", info.output_path);
  real("wall_time_s", info.wall_time_s);
  text("created", info.created);

  Handle output(h5::open_or_create(file, "/output", label), H5Oclose);
  for (const auto& [name, count] : info.output_counts) {
    const auto value = static_cast<std::int64_t>(count);
    h5::put_attribute(output.get(), name, H5T_NATIVE_INT64, &value, label, "/output");
  }

  Handle links(check(H5Pcreate(H5P_LINK_CREATE), label, "cannot write"), H5Pclose);
  check(H5Pset_create_intermediate_group(links.get(), 1), label, "cannot write");
  for (const auto& [key, e] : state.entries()) {
    const std::string name = "/state/" + key;
    const std::string what = "cannot write '" + name + "'";
    const hsize_t n = e.count;
    Handle space(check(H5Screate_simple(1, &n, nullptr), label, what), H5Sclose);
    Handle set(check(H5Dcreate2(file, name.c_str(), file_type(e.type), space.get(), links.get(),
                                H5P_DEFAULT, H5P_DEFAULT),
                     label, what),
               H5Dclose);
    if (n > 0)
      check(H5Dwrite(set.get(), memory_type(e.type), H5S_ALL, H5S_ALL, H5P_DEFAULT, e.bytes.data()),
            label, what);
  }
}

struct Reader {
  StateArchive* archive;
  std::string error;
};

herr_t read_entry(hid_t group, const char* name, const H5L_info_t*, void* data) {
  auto& r = *static_cast<Reader*>(data);
  Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (object.get() < 0) {
    r.error = "cannot open '/state/" + std::string(name) + "'";
    return -1;
  }
  if (H5Iget_type(object.get()) != H5I_DATASET) return 0;
  Handle type(H5Dget_type(object.get()), H5Tclose);
  StateArchive::Entry e;
  if (!archive_type_of_file(type.get(), e.type)) {
    r.error = "'/state/" + std::string(name) + "' has a type checkpoints do not use";
    return -1;
  }
  Handle space(H5Dget_space(object.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || H5Sget_simple_extent_ndims(space.get()) > 1) {
    r.error = "'/state/" + std::string(name) + "' is not a list of values";
    return -1;
  }
  e.count = static_cast<std::size_t>(n);
  e.bytes.resize(e.count * element_size(e.type));
  if (n > 0 && H5Dread(object.get(), memory_type(e.type), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       e.bytes.data()) < 0) {
    r.error = "cannot read '/state/" + std::string(name) + "': " + h5::reason();
    return -1;
  }
  r.archive->entries()[name] = std::move(e);
  return 0;
}

herr_t read_count(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto& counts = *static_cast<std::map<std::string, std::uint64_t>*>(data);
  std::int64_t v = 0;
  if (!h5::read_attribute(object, name, v) || v < 0) return -1;
  counts[name] = static_cast<std::uint64_t>(v);
  return 0;
}

} // namespace

void write_checkpoint(const std::string& path, const CheckpointInfo& info,
                      const StateArchive& state) {
  const std::string label = "checkpoint '" + path + "'";
  const std::string tmp = path + ".tmp";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (access.get() < 0 || H5Pset_fclose_degree(access.get(), H5F_CLOSE_STRONG) < 0)
    h5::fail(label, "cannot create '" + tmp + "'");
  hid_t file = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
  if (file < 0) h5::fail(label, "cannot create '" + tmp + "'");
  try {
    write_contents(file, info, state, label);
    // Closing writes what HDF5 still caches: its failure (a full disk) matters too.
    const herr_t closed = H5Fclose(std::exchange(file, H5I_INVALID_HID));
    check(closed, label, "cannot finish writing '" + tmp + "'");
    if (!sync_path(tmp, O_RDONLY))
      throw OutputError(label + ": cannot sync '" + tmp + "': " + std::strerror(errno));
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw OutputError(label + ": cannot rename '" + tmp + "' to it: " + std::strerror(errno));
  } catch (...) {
    if (file >= 0) H5Fclose(file);
    std::remove(tmp.c_str());
    throw;
  }
  // The rename itself is durable once the directory is synced (best effort: some
  // file systems refuse to sync a directory).
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  sync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);
}

Checkpoint read_checkpoint(const std::string& path) {
  const std::string label = "checkpoint '" + path + "'";
  auto bad = [&](const std::string& why) -> CheckpointError {
    return CheckpointError("cannot resume from " + label + ": " + why);
  };
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (::access(path.c_str(), R_OK) != 0) throw bad(std::strerror(errno));
  if (H5Fis_hdf5(path.c_str()) <= 0) throw bad("not an HDF5 file");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.get() < 0) throw bad("HDF5 cannot open it: " + h5::reason());
  const hid_t f = file.get();

  Checkpoint c;
  CheckpointInfo& info = c.info;
  std::string format;
  std::int64_t version = 0, step = -1;
  if (!h5::read_attribute(f, "format", format) || format != kFormat)
    throw bad("not a glia checkpoint (no attribute format = \"" + std::string(kFormat) + "\")");
  if (!h5::read_attribute(f, "format_version", version) || version != kFormatVersion)
    throw bad("checkpoint format version " + std::to_string(version) + ", this glia reads " +
              std::to_string(kFormatVersion));
  auto need = [&](const char* name, auto& value) {
    if (!h5::read_attribute(f, name, value))
      throw bad("attribute '" + std::string(name) + "' is missing");
  };
  need("glia_version", info.glia_version);
  need("experiment", info.experiment);
  need("experiment_path", info.experiment_path);
  need("experiment_source", info.experiment_source);
  need("overrides", info.overrides);
  need("step", step);
  need("dt", info.dt);
  need("threads", info.threads);
  need("output_path", info.output_path);
  need("wall_time_s", info.wall_time_s);
  need("created", info.created);
  if (step < 0) throw bad("negative step");
  info.step = static_cast<std::uint64_t>(step);

  if (H5Lexists(f, "/output", H5P_DEFAULT) > 0) {
    Handle output(H5Oopen(f, "/output", H5P_DEFAULT), H5Oclose);
    hsize_t at = 0;
    if (output.get() < 0 || H5Aiterate2(output.get(), H5_INDEX_NAME, H5_ITER_INC, &at, read_count,
                                        &info.output_counts) < 0)
      throw bad("cannot read the output counts (/output)");
  }
  if (H5Lexists(f, "/state", H5P_DEFAULT) <= 0) throw bad("no /state group");
  Handle state(H5Oopen(f, "/state", H5P_DEFAULT), H5Oclose);
  Reader reader{&c.state, {}};
  if (state.get() < 0 || H5Lvisit(state.get(), H5_INDEX_NAME, H5_ITER_INC, read_entry, &reader) < 0)
    throw bad(reader.error.empty() ? "cannot read /state" : reader.error);
  return c;
}

} // namespace glia
