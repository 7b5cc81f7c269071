// IDX reader and writer (see idx.hpp).
#include "io/idx.hpp"

#include "io/experiment.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace glia {
namespace {

struct GzCloser {
  void operator()(gzFile f) const {
    if (f) gzclose(f);
  }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError("dataset file '" + path + "': " + what);
}

// Reads exactly n bytes; false at a premature end of file.
bool read_exact(gzFile f, void* out, std::uint64_t n, const std::string& path) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::uint64_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    if (got < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      bad(path, std::string("cannot read: ") + (msg ? msg : "zlib error"));
    }
    if (got == 0) return false;
    p += got;
    n -= static_cast<unsigned>(got);
  }
  return true;
}

} // namespace

std::uint64_t IdxArray::item_size() const {
  std::uint64_t n = 1;
  for (std::size_t k = 1; k < dims.size(); ++k) n *= dims[k];
  return n;
}

IdxArray read_idx(const std::string& path, int expected_ndims, std::uint64_t max_items) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    bad(path, "no such file (Debian's dataset-fashion-mnist package installs the Fashion-MNIST "
              "files; scripts/setup.sh installs it)");
  if (std::filesystem::is_directory(path, ec)) bad(path, "is a directory");
  errno = 0;
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) bad(path, std::string("cannot open: ") + std::strerror(errno ? errno : EIO));
  unsigned char magic[4];
  if (!read_exact(f.get(), magic, 4, path)) bad(path, "shorter than an IDX header");
  if (magic[0] != 0 || magic[1] != 0) bad(path, "not an IDX file (the first two bytes must be 0)");
  if (magic[2] != 0x08)
    bad(path, "IDX element type 0x" + std::to_string(magic[2]) +
                  " is not supported (only unsigned bytes, 0x08)");
  const int ndims = magic[3];
  if (ndims < 1) bad(path, "IDX file with no dimensions");
  if (expected_ndims > 0 && ndims != expected_ndims)
    bad(path, "expected " + std::to_string(expected_ndims) + " dimension(s), the file has " +
                  std::to_string(ndims));
  IdxArray a;
  for (int k = 0; k < ndims; ++k) {
    unsigned char b[4];
    if (!read_exact(f.get(), b, 4, path)) bad(path, "header ends inside the dimension sizes");
    a.dims.push_back((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                     (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]});
  }
  const std::uint64_t items = std::min<std::uint64_t>(a.dims[0], max_items);
  const std::uint64_t bytes = items * a.item_size();
  if (a.item_size() > (1ull << 32) || bytes > (1ull << 36))
    bad(path, "dimension sizes too large for a dataset file");
  a.data.resize(bytes);
  if (!read_exact(f.get(), a.data.data(), bytes, path))
    bad(path, "truncated: the header announces " + std::to_string(a.dims[0]) + " items of " +
                  std::to_string(a.item_size()) + " bytes");
  a.dims[0] = static_cast<std::uint32_t>(items);
  return a;
}

void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& data, bool gzip) {
  GzFile f(gzopen(path.c_str(), gzip ? "wb6" : "wbT"));
  if (!f) throw std::runtime_error("cannot create '" + path + "'");
  std::vector<unsigned char> head = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) head.push_back(static_cast<unsigned char>(d >> s));
  if (gzwrite(f.get(), head.data(), static_cast<unsigned>(head.size())) !=
          static_cast<int>(head.size()) ||
      (!data.empty() && gzwrite(f.get(), data.data(), static_cast<unsigned>(data.size())) !=
                            static_cast<int>(data.size())))
    throw std::runtime_error("cannot write '" + path + "'");
}

} // namespace glia
