// Input generators (see inputs.hpp).
#include "sim/inputs.hpp"

#include <algorithm>
#include <cmath>

namespace glia {

std::uint32_t poisson_count(const Stream& s, std::uint32_t a, std::uint32_t b, std::uint32_t c,
                            double lambda) {
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
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * aa / us + bb) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint32_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(aa / (us * us) + bb) <=
        -lambda + k * loglam - std::lgamma(k + 1.0))
      return static_cast<std::uint32_t>(k);
  }
}

PoissonInput::PoissonInput(double rate_hz, double weight, int port, std::uint64_t start_step,
                           std::uint64_t stop_step, double dt, Stream stream)
    : lambda_(rate_hz * dt * 1e-3), exp_minus_lambda_(std::exp(-lambda_)), weight_(weight),
      port_(port), start_(start_step), stop_(stop_step), stream_(stream) {
  double p = exp_minus_lambda_, f = p;
  cdf_.push_back(f);
  for (std::uint32_t k = 1; k < 64 && f < 1.0 - 1e-13; ++k) {
    p *= lambda_ / k;
    f += p;
    cdf_.push_back(f);
  }
  bucket_.assign(4096, kUnresolved);
  for (std::uint32_t b = 0; b < 4096; ++b) {
    const std::uint32_t first = b << 20, last = first | 0xfffffu;
    const std::uint32_t k = count(u01(first));
    if (k < kUnresolved && k == count(u01(last))) bucket_[b] = static_cast<std::uint8_t>(k);
  }
}

std::uint32_t PoissonInput::count_word(std::uint32_t word) const {
  const std::uint8_t k = bucket_[word >> 20];
  return k != kUnresolved ? k : count(u01(word));
}

std::uint32_t PoissonInput::count(double u) const {
  if (u > cdf_.back()) return poisson_inversion(u, lambda_, exp_minus_lambda_);
  std::uint32_t k = 0;
  for (double f : cdf_) k += u > f;
  return k;
}

void PoissonInput::deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
                           std::uint32_t hi) const {
  if (step < start_ || step >= stop_ || lambda_ <= 0.0) return;
  double* buf = pop.ring().slot(port_, pop.ring().slot_index(step));
  const auto s0 = static_cast<std::uint32_t>(step), s1 = static_cast<std::uint32_t>(step >> 32);
  if (lambda_ >= 10.0) {
    for_targets(lo, hi, [&](std::uint32_t i) {
      if (const auto k = poisson_count(stream_, s0, s1, i, lambda_)) buf[i] += k * weight_;
    });
    return;
  }
  // One Philox call serves four neurons; 32 bits of uniform suffice for inversion.
  auto count = [&](std::uint32_t word) { return count_word(word); };
  if (neurons.empty()) {
    std::uint32_t i = lo;
    while (i < hi) {
      const auto r = stream_.draw(s0, s1, i >> 2, 0x504f4953u);
      for (std::uint32_t j = i & 3u; j < 4 && i < hi; ++j, ++i)
        if (const auto k = count(r[j])) buf[i] += k * weight_;
    }
    return;
  }
  for_targets(lo, hi, [&](std::uint32_t i) {
    const auto r = stream_.draw(s0, s1, i >> 2, 0x504f4953u);
    if (const auto k = count(r[i & 3u])) buf[i] += k * weight_;
  });
}

SpikeTimesInput::SpikeTimesInput(std::vector<std::uint64_t> arrival_steps,
                                 std::vector<std::uint32_t> targets, double weight, int port)
    : steps_(std::move(arrival_steps)), targets_(std::move(targets)), weight_(weight), port_(port) {
}

void SpikeTimesInput::deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
                              std::uint32_t hi) const {
  auto [a, e] = std::equal_range(steps_.begin(), steps_.end(), step);
  if (a == e) return;
  double* buf = pop.ring().slot(port_, pop.ring().slot_index(step));
  for (auto it = a; it != e; ++it) {
    const std::uint32_t i = targets_[it - steps_.begin()];
    if (i >= lo && i < hi) buf[i] += weight_;
  }
}

StepCurrentInput::StepCurrentInput(std::vector<std::uint64_t> steps, std::vector<double> amplitudes)
    : steps_(std::move(steps)), amplitudes_(std::move(amplitudes)) {}

bool StepCurrentInput::changes_at(std::uint64_t step) const {
  return std::binary_search(steps_.begin(), steps_.end(), step);
}

void StepCurrentInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                                   double* i_ext) const {
  auto it = std::upper_bound(steps_.begin(), steps_.end(), step);
  if (it == steps_.begin()) return;
  const double a = amplitudes_[(it - steps_.begin()) - 1];
  if (a != 0.0) for_targets(lo, hi, [&](std::uint32_t i) { i_ext[i] += a; });
}

NoiseInput::NoiseInput(double mean, double std, std::uint64_t interval, std::uint64_t start_step,
                       std::uint64_t stop_step, Stream stream)
    : mean_(mean), std_(std), interval_(std::max<std::uint64_t>(interval, 1)), start_(start_step),
      stop_(stop_step), stream_(stream) {}

bool NoiseInput::changes_at(std::uint64_t step) const {
  return (step >= start_ && step < stop_ && (step - start_) % interval_ == 0) || step == stop_;
}

void NoiseInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                             double* i_ext) const {
  if (step < start_ || step >= stop_) return;
  const std::uint64_t draw = (step - start_) / interval_;
  const auto d0 = static_cast<std::uint32_t>(draw), d1 = static_cast<std::uint32_t>(draw >> 32);
  for_targets(lo, hi, [&](std::uint32_t i) {
    const auto r = stream_.draw(d0, d1, i, 0);
    i_ext[i] += mean_ + std_ * normal01(r[0], r[1], r[2]);
  });
}

} // namespace glia
