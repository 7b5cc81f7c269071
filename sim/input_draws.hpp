// The random draws of the Poisson and noise inputs, one neuron at a time, as GLIA_HD
// functions: the CPU inputs (sim/inputs.cpp) and the CUDA kernels (gpu/) both call
// these, so a device run draws the very numbers a CPU run draws (same Philox keys and
// counters, same inversion).
#pragma once

#include "sim/device.hpp"
#include "sim/normal_draw.hpp"
#include "sim/random.hpp"

#include <cmath>
#include <cstdint>

namespace glia {

// Fourth counter word of the Poisson inputs' draws, which tells them from other draws.
inline constexpr std::uint32_t kPoissonTag = 0x504f4953u; // "POIS"

// Poisson count of uniform u by its cumulative probabilities cdf[0..n) (built with the
// recurrence of poisson_inversion), by inversion beyond the table's end.
GLIA_HD std::uint32_t poisson_cdf_count(double u, const double* cdf, std::uint32_t n, double lambda,
                                        double exp_minus_lambda) {
  if (u > cdf[n - 1]) return poisson_inversion(u, lambda, exp_minus_lambda);
  std::uint32_t k = 0;
  for (std::uint32_t j = 0; j < n; ++j) k += u > cdf[j];
  return k;
}

// Poisson count for any mean (inversion below 10, PTRS above), keyed by (a, b, c).
GLIA_HD std::uint32_t poisson_count(const Stream& s, std::uint32_t a, std::uint32_t b,
                                    std::uint32_t c, double lambda) {
  if (lambda <= 0.0) return 0;
  if (lambda < 10.0) {
    const auto r = s.draw(a, b, c, 0);
    return poisson_inversion(u01(r[0], r[1]), lambda, std::exp(-lambda));
  }
  // Transformed rejection with squeeze (Hoermann 1993, "PTRS").
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double bb = 0.931 + 2.53 * slam, aa = -0.059 + 0.02483 * bb;
  const double inv_alpha = 1.1239 + 1.1328 / (bb - 3.4), vr = 0.9277 - 3.6224 / (bb - 2.0);
  for (std::uint32_t attempt = 0;; ++attempt) {
    const auto r = s.draw(a, b, c, attempt + 1);
    const double u = u01(r[0], r[1]) - 0.5, v = u01(r[2], r[3]);
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2.0 * aa / us + bb) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint32_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(aa / (us * us) + bb) <=
        -lambda + k * loglam - std::lgamma(k + 1.0))
      return static_cast<std::uint32_t>(k);
  }
}

// The count a Poisson input (mean lambda per step) delivers to neuron i at `step`. The
// CPU's table look-ups and vectorised generator give the same counts (tests/test_gpu_host).
GLIA_HD std::uint32_t poisson_input_count(const Stream& s, std::uint64_t step, std::uint32_t i,
                                          double lambda, double exp_minus_lambda, const double* cdf,
                                          std::uint32_t n_cdf) {
  const auto s0 = static_cast<std::uint32_t>(step), s1 = static_cast<std::uint32_t>(step >> 32);
  if (lambda >= 10.0) return poisson_count(s, s0, s1, i, lambda);
  // One Philox block (counter i / 4) serves four neurons; 32 bits of uniform suffice.
  const auto r = s.draw(s0, s1, i >> 2, kPoissonTag);
  return poisson_cdf_count(u01(r[i & 3u]), cdf, n_cdf, lambda, exp_minus_lambda);
}

// The current a noise input adds from the words (r0, r1, r2) of its Philox block:
// Gaussian, or uniform with the same mean and standard deviation (half-width sqrt(3) std).
// Written with fma and sim/normal_draw.hpp's functions, so that the loop over a
// population vectorises and every build computes the same bits.
GLIA_HD double noise_from_words(std::uint32_t r0, std::uint32_t r1, std::uint32_t r2, double mean,
                                double sd, bool uniform) {
  if (uniform) {
    const double width = 2.0 * std::sqrt(3.0) * sd, low = mean - 0.5 * width;
    return std::fma(width, u01(r0, r1), low);
  }
  return std::fma(sd, normal01_noise(r0, r1, r2), mean);
}

// The current a noise input adds to neuron i for redraw `draw` (index since its start):
// one Philox block keyed by (draw, i), so consecutive neurons have consecutive counters
// (which lets the CPU draw them in runs with Stream::draw_run).
GLIA_HD double noise_current(const Stream& s, std::uint64_t draw, std::uint32_t i, double mean,
                             double sd, bool uniform) {
  const auto d0 = static_cast<std::uint32_t>(draw), d1 = static_cast<std::uint32_t>(draw >> 32);
  const auto r = s.draw(d0, d1, i, 0);
  return noise_from_words(r[0], r[1], r[2], mean, sd, uniform);
}

} // namespace glia
