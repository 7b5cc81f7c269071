// Generated benchmarks for reservoirs (MODELS.md "Generated benchmarks"), each a pure
// function of its seed (Philox stream StreamKind::task; sample t's draw keyed by t).
//
// NARMA-10 (Atiya & Parlos 2000):
//   y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 u(t-9) u(t) + 0.1,
//   u(t) ~ U[0, 0.5], y(0..9) = 0. The recurrence occasionally diverges; as is customary
//   such a series is thrown away: when any |y| exceeds `kNarmaBound` the input is drawn
//   again (the next attempt index in the counter), up to 100 attempts. Stable series
//   stay below 1 (seed 5: at most 0.84 after the first 100 of 3000 samples).
// Memory capacity (Jaeger 2002): u(t) ~ U[-0.8, 0.8] i.i.d., targets y_k(t) = u(t - k).
// Mackey-Glass (1977): dx/dt = 0.2 x(t-17) / (1 + x(t-17)^10) - 0.1 x(t), tau = 17, the
//   chaotic regime. Integrated by RK4 with step h = 0.1 (the delayed value at a half
//   step is the mean of its two grid neighbours), history x(t <= 0) = 1.2 + 0.1 (r - 0.5)
//   with r drawn per history point, sampled every 1 time unit after a washout.
#pragma once

#include "reservoir/eigen.hpp"

#include <cstdint>
#include <vector>

namespace glia {

struct Series {
  std::vector<double> u; // input
  std::vector<double> y; // target, same length: y[t + 1] is computed from u up to u[t]
};

constexpr double kNarmaBound = 10.0;

Series narma10(std::size_t n, std::uint32_t seed);

// n samples of U[lo, hi] (memory capacity: lo = -0.8, hi = 0.8).
std::vector<double> uniform_series(std::size_t n, double lo, double hi, std::uint32_t seed,
                                   std::uint32_t sub = 1);

// Rows t = first .. u.size()-1, column k = u(t - k) for k = 0 .. max_delay (first >= max_delay).
Eigen::MatrixXd delayed_targets(const std::vector<double>& u, std::size_t first, int max_delay);

// n samples of the Mackey-Glass series (tau = 17) at unit spacing, after `washout` units.
std::vector<double> mackey_glass(std::size_t n, std::uint32_t seed, std::size_t washout = 500);

} // namespace glia
