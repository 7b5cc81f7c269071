// Grid positions (see layout.hpp).
#include "sim/layout.hpp"

#include "sim/random.hpp"

#include <stdexcept>

namespace glia {

std::uint32_t grid_key(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

std::vector<Position> grid_positions(const GridLayout& layout, std::uint32_t size,
                                     std::uint32_t seed) {
  const std::uint64_t n_points = layout.points();
  if (layout.offset + static_cast<std::uint64_t>(size) > n_points)
    throw std::invalid_argument("the grid has " + std::to_string(n_points) + " points, " +
                                std::to_string(layout.offset + static_cast<std::uint64_t>(size)) +
                                " are needed");
  // The stream id mixes the name's hash into the object bits (stream_id keeps the kind
  // in the top bits), so that two grids of one experiment get unrelated orders.
  const Stream s{seed, stream_id(StreamKind::layout, 0) ^ (grid_key(layout.grid) >> 6)};
  std::vector<std::uint32_t> order;
  if (layout.shuffle) order = permutation(static_cast<std::uint32_t>(n_points), s);
  const std::uint32_t ny = layout.dims[1], nz = layout.dims[2];
  std::vector<Position> out(size);
  for (std::uint32_t n = 0; n < size; ++n) {
    const std::uint32_t k = layout.offset + n;
    const std::uint32_t point = layout.shuffle ? order[k] : k;
    out[n] = {static_cast<double>(point / (ny * nz)), static_cast<double>((point / nz) % ny),
              static_cast<double>(point % nz)};
  }
  return out;
}

} // namespace glia
