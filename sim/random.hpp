// Counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function
// of (seed, stream) and a counter such as (step, neuron, k): no generator state is
// shared or carried, so the numbers do not depend on which thread draws them, and a
// resumed run draws exactly what an uninterrupted one would. `Stream::draw_run` computes
// many consecutive counters at once (AVX2 where the build targets it), bitwise the same
// words as `draw`.
#pragma once

#include "sim/device.hpp"

#include <Random123/philox.h>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#if defined(__AVX2__) && !defined(__CUDACC__)
#define GLIA_PHILOX_AVX2 1
#include <immintrin.h>
#endif

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
  variable = 9,   // per-neuron random variables of expressions
  modulator = 10, // modulators' random choices (e.g. which neurons an astrocyte sees)
  layout = 11,    // placement of neurons on grids
  task = 12       // generated benchmark series (reservoir/tasks.hpp)
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

  // Philox4x32-10 of the n consecutive counters (a, b, c + g, d), g < n (c wraps at
  // 2^32 as in draw): out[4 * g + j] = draw(a, b, c + g, d)[j]. Host only.
  inline void draw_run(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d,
                       std::uint32_t n, std::uint32_t* out) const;
};

namespace detail {

#ifdef GLIA_PHILOX_AVX2
// The ten round keys of one Philox4x32-10 key, broadcast (Random123's philox4x32_R:
// round r uses the key bumped r times).
struct PhiloxKeysAvx2 {
  __m256i k0[10], k1[10];
  PhiloxKeysAvx2(std::uint32_t seed, std::uint32_t id) {
    for (std::uint32_t r = 0; r < 10; ++r) {
      k0[r] = _mm256_set1_epi32(static_cast<int>(seed + r * 0x9E3779B9u));
      k1[r] = _mm256_set1_epi32(static_cast<int>(id + r * 0xBB67AE85u));
    }
  }
};

// Philox4x32-10 on the 4 * U counters (a, b, c + g, d) at once. Each 64-bit lane carries
// one counter's 32-bit word in its low half: vpmuludq then gives the full 32x32->64
// product (lo and hi words of Random123's mulhilo) of four counters per instruction.
// The high halves hold garbage between rounds; it never reaches a low half, since
// vpmuludq reads only low halves and the other words are only shifted down or xored.
// U = 2 keeps the eight words and the constants in the 16 ymm registers.
template <unsigned U>
inline void philox4x32_10_avx2(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d,
                               const PhiloxKeysAvx2& key, std::uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53), m1 = _mm256_set1_epi64x(0xCD9E8D57);
  __m256i x0[U], x1[U], x2[U], x3[U];
  for (unsigned u = 0; u < U; ++u) {
    x0[u] = _mm256_set1_epi64x(a);
    x1[u] = _mm256_set1_epi64x(b);
    // 32-bit addition, so that the counter wraps exactly as draw's does.
    x2[u] = _mm256_add_epi32(_mm256_set1_epi64x(c),
                             _mm256_setr_epi64x(4 * u, 4 * u + 1, 4 * u + 2, 4 * u + 3));
    x3[u] = _mm256_set1_epi64x(d);
  }
  for (unsigned r = 0; r < 10; ++r) {
    for (unsigned u = 0; u < U; ++u) {
      const __m256i p0 = _mm256_mul_epu32(x0[u], m0), p1 = _mm256_mul_epu32(x2[u], m1);
      x0[u] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1[u]), key.k0[r]);
      x1[u] = p1;
      x2[u] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3[u]), key.k1[r]);
      x3[u] = p0;
    }
  }
  for (unsigned u = 0; u < U; ++u) {
    // Low halves to counter order: (w0 w1) pairs and (w2 w3) pairs, then interleaved.
    const __m256i w01 = _mm256_blend_epi32(x0[u], _mm256_slli_epi64(x1[u], 32), 0xAA);
    const __m256i w23 = _mm256_blend_epi32(x2[u], _mm256_slli_epi64(x3[u], 32), 0xAA);
    const __m256i even = _mm256_unpacklo_epi64(w01, w23); // counters 0 and 2
    const __m256i odd = _mm256_unpackhi_epi64(w01, w23);  // counters 1 and 3
    auto* o = reinterpret_cast<__m256i*>(out + 16 * u);
    _mm256_storeu_si256(o, _mm256_permute2x128_si256(even, odd, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(even, odd, 0x31));
  }
}
#endif

} // namespace detail

inline void Stream::draw_run(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d,
                             std::uint32_t n, std::uint32_t* out) const {
  std::uint32_t g = 0;
#ifdef GLIA_PHILOX_AVX2
  if (n >= 4) {
    const detail::PhiloxKeysAvx2 key(seed, id);
    for (; g + 8 <= n; g += 8) detail::philox4x32_10_avx2<2>(a, b, c + g, d, key, out + 4 * g);
    for (; g + 4 <= n; g += 4) detail::philox4x32_10_avx2<1>(a, b, c + g, d, key, out + 4 * g);
  }
#endif
  for (; g < n; ++g) {
    const auto r = draw(a, b, c + g, d);
    for (int j = 0; j < 4; ++j) out[4 * g + j] = r[j];
  }
}

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

// A permutation of 0..n-1 drawn from `stream` (Fisher-Yates, the draw for position i
// keyed by i): a pure function of the stream and n.
inline std::vector<std::uint32_t> permutation(std::uint32_t n, const Stream& stream) {
  std::vector<std::uint32_t> p(n);
  for (std::uint32_t i = 0; i < n; ++i) p[i] = i;
  for (std::uint32_t i = n; i-- > 1;) {
    const std::uint32_t j = below(stream.draw(i, 0, 0, 0)[0], i + 1);
    std::swap(p[i], p[j]);
  }
  return p;
}

} // namespace glia
