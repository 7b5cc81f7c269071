// Benchmark series (see tasks.hpp).
#include "reservoir/tasks.hpp"

#include "sim/random.hpp"

#include <cmath>
#include <stdexcept>

namespace glia {

namespace {

constexpr std::uint32_t kNarmaSub = 0, kUniformSubBase = 1, kMackeyGlassSub = 15;

double uniform_at(const Stream& s, std::uint64_t t, std::uint32_t attempt) {
  const auto r = s.draw(static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(t >> 32), attempt,
                        0x5441534bu); // "TASK"
  return u01(r[0], r[1]);
}

} // namespace

Series narma10(std::size_t n, std::uint32_t seed) {
  const Stream s{seed, stream_id(StreamKind::task, kNarmaSub)};
  Series out;
  for (std::uint32_t attempt = 0; attempt < 100; ++attempt) {
    out.u.assign(n, 0.0);
    out.y.assign(n, 0.0);
    for (std::size_t t = 0; t < n; ++t) out.u[t] = 0.5 * uniform_at(s, t, attempt);
    bool bounded = true;
    for (std::size_t t = 9; t + 1 < n && bounded; ++t) {
      double sum = 0.0;
      for (std::size_t i = 0; i < 10; ++i) sum += out.y[t - i];
      const double next =
          0.3 * out.y[t] + 0.05 * out.y[t] * sum + 1.5 * out.u[t - 9] * out.u[t] + 0.1;
      bounded = std::isfinite(next) && std::abs(next) <= kNarmaBound;
      out.y[t + 1] = next;
    }
    if (bounded) return out;
  }
  throw std::runtime_error("narma10: 100 attempts diverged");
}

std::vector<double> uniform_series(std::size_t n, double lo, double hi, std::uint32_t seed,
                                   std::uint32_t sub) {
  if (sub + kUniformSubBase >= kMackeyGlassSub) throw std::invalid_argument("uniform_series: sub");
  const Stream s{seed, stream_id(StreamKind::task, kUniformSubBase + sub)};
  std::vector<double> u(n);
  for (std::size_t t = 0; t < n; ++t) u[t] = lo + (hi - lo) * uniform_at(s, t, 0);
  return u;
}

Eigen::MatrixXd delayed_targets(const std::vector<double>& u, std::size_t first, int max_delay) {
  if (max_delay < 0 || first < static_cast<std::size_t>(max_delay) || first > u.size())
    throw std::invalid_argument("delayed_targets: first must be >= max_delay");
  Eigen::MatrixXd y(static_cast<Eigen::Index>(u.size() - first), max_delay + 1);
  for (std::size_t t = first; t < u.size(); ++t)
    for (int k = 0; k <= max_delay; ++k)
      y(static_cast<Eigen::Index>(t - first), k) = u[t - static_cast<std::size_t>(k)];
  return y;
}

std::vector<double> mackey_glass(std::size_t n, std::uint32_t seed, std::size_t washout) {
  constexpr double h = 0.1, beta = 0.2, gamma = 0.1, power = 10.0;
  constexpr std::size_t delay = 170, per_unit = 10; // tau / h, 1 / h
  const Stream s{seed, stream_id(StreamKind::task, kMackeyGlassSub)};
  // x[j] = x((j - delay) h): the history, then the integrated trajectory.
  const std::size_t steps = (washout + n) * per_unit;
  std::vector<double> x(delay + 1 + steps);
  for (std::size_t j = 0; j <= delay; ++j) x[j] = 1.2 + 0.1 * (uniform_at(s, j, 0) - 0.5);
  auto f = [&](double xt, double xd) {
    return beta * xd / (1.0 + std::pow(xd, power)) - gamma * xt;
  };
  for (std::size_t j = delay; j < delay + steps; ++j) {
    const double d0 = x[j - delay], d1 = x[j - delay + 1], dm = 0.5 * (d0 + d1);
    const double k1 = f(x[j], d0);
    const double k2 = f(x[j] + 0.5 * h * k1, dm);
    const double k3 = f(x[j] + 0.5 * h * k2, dm);
    const double k4 = f(x[j] + h * k3, d1);
    x[j + 1] = x[j] + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
  }
  std::vector<double> out(n);
  for (std::size_t t = 0; t < n; ++t) out[t] = x[delay + (washout + t) * per_unit];
  return out;
}

} // namespace glia
