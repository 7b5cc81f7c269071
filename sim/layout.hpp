// Where neurons are in space, for connection rules that depend on distance (the
// `distance` rule of sim/connectivity). A population may be placed on a named 3-D grid
// of integer points; several populations can share one grid, each taking its own
// contiguous range of the grid's point order, so that e.g. E takes 800 points and I the
// other 200 of one 10 x 10 x 10 liquid. The point order is row-major (x slowest) or,
// with `shuffle`, a permutation drawn from (seed, grid name): every population on the
// grid sees the same order, whatever the thread count. Coordinates are in grid units.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace glia {

using Position = std::array<double, 3>;

struct GridLayout {
  std::string grid;                           // empty: the population has no positions
  std::array<std::uint32_t, 3> dims{1, 1, 1}; // points along x, y, z
  std::uint32_t offset = 0;                   // first point (in the grid's order) it takes
  bool shuffle = true;                        // seeded random point order, else row-major
  bool placed() const { return !grid.empty(); }
  std::uint64_t points() const { return static_cast<std::uint64_t>(dims[0]) * dims[1] * dims[2]; }
};

// 32-bit FNV-1a of the grid's name: keys the stream of its point order.
std::uint32_t grid_key(const std::string& name);

// Positions of neurons 0..size-1: point order[offset + n] of the grid.
// Requires offset + size <= layout.points().
std::vector<Position> grid_positions(const GridLayout& layout, std::uint32_t size,
                                     std::uint32_t seed);

} // namespace glia
