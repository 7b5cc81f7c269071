// IDX files (the MNIST / Fashion-MNIST format: a 4-byte magic 0x00 0x00 type ndims, then
// ndims big-endian uint32 sizes, then the data), read through zlib so that gzipped
// files (Debian's dataset-fashion-mnist ships them gzipped) and plain ones both work.
// Only unsigned bytes (type 0x08) are supported: that is what the image and label files
// hold. Errors are InputError naming the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glia {

struct IdxArray {
  std::vector<std::uint32_t> dims; // e.g. {60000, 28, 28} or {60000}
  std::vector<std::uint8_t> data;  // row-major, product of dims bytes
  std::uint64_t items() const { return dims.empty() ? 0 : dims[0]; }
  std::uint64_t item_size() const; // product of dims[1..]
};

// Reads the first `max_items` items (all when max_items is UINT64_MAX). Throws InputError
// for a missing or unreadable file, a wrong magic number, a file shorter than its header
// says, or `expected_ndims` not matching (0: any).
IdxArray read_idx(const std::string& path, int expected_ndims = 0,
                  std::uint64_t max_items = UINT64_MAX);

// Writes an IDX file of unsigned bytes, gzipped when `gzip` (for tests and small tools).
void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
               const std::vector<std::uint8_t>& data, bool gzip);

} // namespace glia
