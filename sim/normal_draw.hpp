// Standard normal draws for noise that is redrawn every step (NoiseInput): Box-Muller
// with its logarithm and cosine written out here (fdlibm's polynomials, Sun 1993),
// branch-free and with every product-sum an explicit fma. The C library's log and cos
// are calls that a loop over neurons cannot vectorise; these vectorise (a whole
// population's noise is drawn eight neurons at a time with AVX-512), and they give the
// same bits on every CPU and on the GPU, where the library functions need not agree.
// Measured against long double: the logarithm within 0.75 ulp, the cosine within 1.49
// (tests/test_random.cpp checks 1 and 2).
#pragma once

#include "sim/device.hpp"
#include "sim/random.hpp"

#include <bit>
#include <cmath>
#include <cstdint>

namespace glia {

// Natural logarithm of u in (0, 1] (normal, not subnormal: u01's least value is 2^-54).
// u = 2^k m with m in [sqrt(2)/2, sqrt(2)); log m = log(1 + f) from s = f / (2 + f).
GLIA_HD double log_unit(double u) {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(u);
  // The mantissa with the exponent of 1, halved (exponent of 1/2) when above sqrt(2):
  // the high word 0x3ff6a09e is sqrt(2)'s, as in fdlibm.
  const std::uint64_t mant = bits & 0x000fffffffffffffull;
  const bool high = (mant >> 32) >= 0x6a09eull;
  const double m =
      std::bit_cast<double>(mant | (high ? 0x3fe0000000000000ull : 0x3ff0000000000000ull));
  const double k =
      static_cast<double>(static_cast<std::int64_t>(bits >> 52) - 1023 + (high ? 1 : 0));
  const double f = m - 1.0;
  const double hf = 0.5 * f; // exact; f * hf is fdlibm's hfsq, only ever inside an fma
  const double s = f / (2.0 + f);
  const double z = s * s, w = z * z;
  const double t1 = w * std::fma(w, std::fma(w, Lg6, Lg4), Lg2);
  const double r = std::fma(z, std::fma(w, std::fma(w, std::fma(w, Lg7, Lg5), Lg3), Lg1), t1);
  // k ln2 + f - hfsq + s (hfsq + R), with ln2 split so that k ln2_hi is exact.
  const double tail = std::fma(k, ln2_lo, s * std::fma(hf, f, r));
  return std::fma(k, ln2_hi, std::fma(-hf, f, tail) + f);
}

// cos(2 pi t) for t in [0, 1]. y = min(t, 1 - t) in [0, 1/2] (1 - t is exact where it is
// the smaller), q in {0, 1, 2} the nearest multiple of 1/4, and x = 2 pi (y - q / 4) in
// [-pi/4, pi/4] (the subtraction is exact), so that the result is cos x, -sin x or -cos x.
GLIA_HD double cos_two_pi(double t) {
  // 2 pi as a sum of two doubles, so that x is 2 pi r to about half an ulp.
  constexpr double two_pi = 6.283185307179586, two_pi_lo = 2.4492935982947064e-16;
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                   C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                   C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                   S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                   S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  const double t1 = 1.0 - t, y = t < t1 ? t : t1;
  const double q = (y > 0.125 ? 1.0 : 0.0) + (y > 0.375 ? 1.0 : 0.0);
  const double r = y - 0.25 * q;
  const double x = std::fma(two_pi, r, two_pi_lo * r);
  const double z = x * x;
  // fdlibm's __kernel_cos(x, 0) and __kernel_sin(x, 0, 0).
  const double rc =
      z * std::fma(z, std::fma(z, std::fma(z, std::fma(z, std::fma(z, C6, C5), C4), C3), C2), C1);
  const double hz = 0.5 * z, w = 1.0 - hz;
  const double c = w + std::fma(z, rc, (1.0 - w) - hz);
  const double rs = std::fma(z, std::fma(z, std::fma(z, std::fma(z, S6, S5), S4), S3), S2);
  const double sn = std::fma(z * x, std::fma(z, rs, S1), x);
  const double v = q == 1.0 ? sn : c;
  return q == 0.0 ? v : -v;
}

// Standard normal from three words (Box-Muller, one output), as normal01 but with the
// functions above.
GLIA_HD double normal01_noise(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  const double u1 = u01(a, b);
  const double u2 = u01(c);
  return std::sqrt(-2.0 * log_unit(u1)) * cos_two_pi(u2);
}

} // namespace glia
