// Input generators (see inputs.hpp).
#include "sim/inputs.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace glia {

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
  return poisson_cdf_count(u, cdf_.data(), static_cast<std::uint32_t>(cdf_.size()), lambda_,
                           exp_minus_lambda_);
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
      const auto r = stream_.draw(s0, s1, i >> 2, kPoissonTag);
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
    stream_.draw_run(s0, s1, static_cast<std::uint32_t>(base >> 2), kPoissonTag, groups, words);
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

double StepCurrentInput::amplitude_at(std::uint64_t step) const {
  auto it = std::upper_bound(steps_.begin(), steps_.end(), step);
  return it == steps_.begin() ? 0.0 : amplitudes_[(it - steps_.begin()) - 1];
}

void StepCurrentInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                                   double* i_ext) const {
  const double a = amplitude_at(step);
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
  if (!neurons.empty()) {
    for_targets(lo, hi, [&](std::uint32_t i) {
      i_ext[i] += noise_current(stream_, draw, i, mean_, std_, uniform_);
    });
    return;
  }
  // Every neuron: the blocks of kBatch consecutive neurons come from the vectorised
  // generator (the same words as noise_current's), and the loop over them vectorises
  // (noise_from_words has no call and no branch).
  constexpr std::uint32_t kBatch = 256;
  alignas(32) std::uint32_t words[4 * kBatch];
  const auto d0 = static_cast<std::uint32_t>(draw), d1 = static_cast<std::uint32_t>(draw >> 32);
  const double mean = mean_, sd = std_; // locals: stores to i_ext could alias members
  // The kind of noise a compile-time constant per loop, which then has no branch in it.
  auto add = [&](auto uniform) {
    for (std::uint32_t base = lo; base < hi; base += kBatch) {
      const std::uint32_t m = std::min(kBatch, hi - base);
      stream_.draw_run(d0, d1, base, 0, m, words);
      double* out = i_ext + base;
      // A 64-bit index: with a 32-bit one 4 * j might wrap, and GCC would not see a stride.
      for (std::size_t j = 0; j < m; ++j) {
        const std::uint32_t* r = words + 4 * j;
        out[j] += noise_from_words(r[0], r[1], r[2], mean, sd, decltype(uniform)::value);
      }
    }
  };
  if (uniform_)
    add(std::true_type{});
  else
    add(std::false_type{});
}

} // namespace glia
