// Counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function
// of (seed, stream) and a counter such as (step, neuron, k): no generator state is
// shared or carried, so the numbers do not depend on which thread draws them, and a
// resumed run draws exactly what an uninterrupted one would.
#pragma once

#include "sim/device.hpp"

#include <Random123/philox.h>
#include <cmath>
#include <cstdint>

namespace glia {

// What a stream is used for; combined with the object's index into a 32-bit stream id.
enum class StreamKind : std::uint32_t {
  connect = 1,    // which synapses exist
  weight = 2,     // per-synapse weights
  delay = 3,      // per-synapse delays
  init = 4,       // initial state
  param = 5,      // heterogeneous parameters
  input = 6,      // Poisson and noise generators
  neuron = 7,     // stochastic neuron dynamics
  plasticity = 8, // stochastic rules
  variable = 9    // per-neuron random variables of expressions
};

GLIA_HD std::uint32_t stream_id(StreamKind kind, std::uint32_t object, std::uint32_t sub = 0) {
  return (static_cast<std::uint32_t>(kind) << 26) ^ (sub << 20) ^ object;
}

struct Stream {
  std::uint32_t seed = 0;
  std::uint32_t id = 0;

  // Four independent 32-bit words for counter (a, b, c, d).
  GLIA_HD r123::Philox4x32::ctr_type draw(std::uint32_t a, std::uint32_t b, std::uint32_t c,
                                          std::uint32_t d) const {
    r123::Philox4x32 rng;
    r123::Philox4x32::ctr_type ctr = {{a, b, c, d}};
    r123::Philox4x32::key_type key = {{seed, id}};
    return rng(ctr, key);
  }
};

// Uniform in the open interval (0, 1) from 32 bits.
GLIA_HD double u01(std::uint32_t x) {
  return (static_cast<double>(x) + 0.5) * 0x1p-32;
}

// Uniform in (0, 1) with 53 bits of resolution from two words.
GLIA_HD double u01(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t v = (static_cast<std::uint64_t>(hi) << 21) ^ (lo >> 11);
  return (static_cast<double>(v & ((1ull << 53) - 1)) + 0.5) * 0x1p-53;
}

// Unbiased enough for any n < 2^32 that a network can have (bias < n / 2^32).
GLIA_HD std::uint32_t below(std::uint32_t x, std::uint32_t n) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(x) * n) >> 32);
}

// Standard normal from two uniforms (Box-Muller, one output).
GLIA_HD double normal01(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  const double u1 = u01(a, b);
  const double u2 = u01(c);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Poisson count with mean `lambda` by chop-down inversion of one uniform. Exact for
// the small per-step means that spiking inputs have; `poisson_large` handles the rest.
GLIA_HD std::uint32_t poisson_inversion(double u, double lambda, double exp_minus_lambda) {
  std::uint32_t k = 0;
  double p = exp_minus_lambda;
  double f = p;
  while (u > f && k < 1000u) {
    ++k;
    p *= lambda / k;
    f += p;
  }
  return k;
}

} // namespace glia
