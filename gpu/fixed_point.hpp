// 64-bit fixed-point accumulation for the device ring buffers. Floating-point atomics
// add in whatever order the threads arrive, so a double sum can differ between two runs
// of the same network; integer addition is associative, so a sum of fixed-point values
// is the same in any order. Values are scaled by 2^kFixedFracBits and rounded to the
// nearest integer (ties to even); sums wrap modulo 2^64 like the unsigned atomics that
// add them, and read back as two's complement. Range: |x| < 2^(63 - kFixedFracBits)
// (about 2.1e9 at 32 fractional bits), resolution 2^-kFixedFracBits (2.3e-10): far finer
// than any weight in mV, pA or nS, far wider than any sum of them.
#pragma once

#include "sim/device.hpp"

#include <cmath>
#include <cstdint>

namespace glia {

inline constexpr int kFixedFracBits = 32;
inline constexpr double kFixedScale = 4294967296.0;          // 2^32
inline constexpr double kFixedInvScale = 1.0 / 4294967296.0; // 2^-32, exact
inline constexpr double kFixedLimit = 2147483648.0;          // 2^31: |x| must stay below

// x as a fixed-point integer (bits of a two's complement int64 in a uint64). Values out
// of range saturate, NaN becomes the most negative value, so that a broken weight shows
// up as a huge input instead of wrapping silently into a plausible one.
GLIA_HD std::uint64_t to_fixed(double x) {
  const double s = x * kFixedScale; // exact: a power of two
  if (!(s > -9.223372036854775808e18)) return 0x8000000000000000ull;
  if (s >= 9.223372036854775808e18) return 0x7fffffffffffffffull;
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double2ll_rn(s));
#else
  return static_cast<std::uint64_t>(std::llrint(s)); // default rounding: to nearest, ties even
#endif
}

GLIA_HD double from_fixed(std::uint64_t v) {
  return static_cast<double>(static_cast<std::int64_t>(v)) * kFixedInvScale;
}

} // namespace glia
