// Input generators (see inputs.hpp).
#include "sim/inputs.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#ifdef __AVX2__
#include <immintrin.h>
#endif

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
  // Three bytes past the 4096 buckets, for the 4-byte gathers of count_words.
  bucket_.assign(4096 + 3, kUnresolved);
  for (std::uint32_t b = 0; b < 4096; ++b) {
    const std::uint32_t first = b << 20, last = first | 0xfffffu;
    const std::uint32_t k = count(u01(first));
    if (k < kUnresolved && k == count(u01(last))) bucket_[b] = static_cast<std::uint8_t>(k);
  }
}

std::uint32_t PoissonInput::count_word(std::uint32_t word) const {
  const std::uint8_t k = bucket_[word >> 20];
  if (k != kUnresolved) [[likely]]
    return k;
  return count(u01(word));
}

std::uint32_t PoissonInput::count(double u) const {
  if (u > cdf_.back()) return poisson_inversion(u, lambda_, exp_minus_lambda_);
  std::uint32_t k = 0;
  for (double f : cdf_) k += u > f;
  return k;
}

void PoissonInput::count_words(const std::uint32_t* words, std::int32_t* k, std::uint32_t n) const {
  std::uint32_t j = 0;
#ifdef __AVX2__
  // Eight table look-ups per gather: each lane loads the 4 bytes from its bucket on
  // (scale 1) and keeps the lowest, the bucket's own byte.
  const auto* table = reinterpret_cast<const int*>(bucket_.data());
  const __m256i byte = _mm256_set1_epi32(0xff);
  for (; j + 8 <= n; j += 8) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + j));
    const __m256i c =
        _mm256_and_si256(_mm256_i32gather_epi32(table, _mm256_srli_epi32(w, 20), 1), byte);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(k + j), c);
    const __m256i open = _mm256_cmpeq_epi32(c, _mm256_set1_epi32(kUnresolved));
    if (!_mm256_testz_si256(open, open)) [[unlikely]]
      for (std::uint32_t l = j; l < j + 8; ++l)
        if (k[l] == kUnresolved) k[l] = static_cast<std::int32_t>(count(u01(words[l])));
  }
#endif
  for (; j < n; ++j) k[j] = static_cast<std::int32_t>(count_word(words[j]));
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
  // One Philox block (counter i / 4) serves four neurons; 32 bits of uniform suffice
  // for inversion.
  if (!neurons.empty()) {
    for_targets(lo, hi, [&](std::uint32_t i) {
      const auto r = stream_.draw(s0, s1, i >> 2, kTag);
      if (const auto k = count_word(r[i & 3u])) buf[i] += k * weight_;
    });
    return;
  }
  // Every neuron: batches of kGroups consecutive blocks, drawn together by the
  // vectorised generator, then inverted by table look-up, then added. The last loop
  // gives each neuron exactly `k ? buf[i] + k * weight_ : buf[i]` (the expression of
  // the per-neuron path, so the same rounding), as a bitwise select: a branch on k
  // mispredicts on e^-lambda of the neurons, and GCC keeps a conditional floating-point
  // add (which may trap) out of vectorised code.
  constexpr std::uint32_t kGroups = 64, kBatch = 4 * kGroups;
  alignas(32) std::uint32_t words[kBatch];
  alignas(32) std::int32_t counts[kBatch];
  const double w = weight_;
  for (std::uint64_t base = lo & ~3u; base < hi; base += kBatch) {
    const auto groups =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(kGroups, (hi - base + 3) / 4));
    stream_.draw_run(s0, s1, static_cast<std::uint32_t>(base >> 2), kTag, groups, words);
    const auto j0 = static_cast<std::uint32_t>(std::max<std::uint64_t>(lo, base) - base);
    const auto j1 = static_cast<std::uint32_t>(std::min<std::uint64_t>(hi, base + kBatch) - base);
    count_words(words + j0, counts + j0, j1 - j0);
    double* b = buf + base;
    for (std::uint32_t j = j0; j < j1; ++j) {
      const double old = b[j];
      const double sum = old + counts[j] * w;
      const std::uint64_t take = counts[j] != 0 ? ~std::uint64_t{0} : 0;
      b[j] = std::bit_cast<double>((std::bit_cast<std::uint64_t>(sum) & take) |
                                   (std::bit_cast<std::uint64_t>(old) & ~take));
    }
  }
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
                       std::uint64_t stop_step, Stream stream, bool uniform)
    : mean_(mean), std_(std), interval_(std::max<std::uint64_t>(interval, 1)), start_(start_step),
      stop_(stop_step), stream_(stream), uniform_(uniform) {}

bool NoiseInput::changes_at(std::uint64_t step) const {
  return (step >= start_ && step < stop_ && (step - start_) % interval_ == 0) || step == stop_;
}

void NoiseInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                             double* i_ext) const {
  if (step < start_ || step >= stop_) return;
  const std::uint64_t draw = (step - start_) / interval_;
  const auto d0 = static_cast<std::uint32_t>(draw), d1 = static_cast<std::uint32_t>(draw >> 32);
  if (uniform_) { // half-width sqrt(3) std
    const double width = 2.0 * std::sqrt(3.0) * std_, low = mean_ - 0.5 * width;
    for_targets(lo, hi, [&](std::uint32_t i) {
      const auto r = stream_.draw(d0, d1, i, 0);
      i_ext[i] += low + width * u01(r[0], r[1]);
    });
    return;
  }
  for_targets(lo, hi, [&](std::uint32_t i) {
    const auto r = stream_.draw(d0, d1, i, 0);
    i_ext[i] += mean_ + std_ * normal01(r[0], r[1], r[2]);
  });
}

} // namespace glia
