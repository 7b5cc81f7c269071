// Samples presented one window each (see sample_input.hpp).
#include "sim/sample_input.hpp"

#include <algorithm>

namespace glia {

SampleInput::SampleInput(std::shared_ptr<const SampleData> data, Coding coding, double weight,
                         int port, double dt, Stream stream)
    : data_(std::move(data)), coding_(coding), weight_(weight), ms_per_step_(dt), port_(port),
      stream_(stream) {}

void SampleInput::present(std::uint64_t first, std::uint64_t count, std::uint64_t start,
                          std::uint64_t window) {
  first_ = first;
  count_ = count;
  start_ = start;
  window_ = std::max<std::uint64_t>(window, 1);
}

bool SampleInput::at(std::uint64_t step, std::uint64_t& sample, std::uint64_t& within) const {
  if (step < start_) return false;
  const std::uint64_t k = (step - start_) / window_;
  if (k >= count_) return false;
  sample = first_ + k;
  within = (step - start_) % window_;
  return true;
}

bool SampleInput::changes_at(std::uint64_t step) const {
  return step >= start_ && (step - start_) % window_ == 0 && (step - start_) / window_ <= count_;
}

void SampleInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                              double* i_ext) const {
  std::uint64_t sample = 0, within = 0;
  if (!at(step, sample, within)) return;
  const std::uint8_t* v = data_->values.data() + sample * data_->width;
  const double f = data_->factor[sample];
  for_targets(lo, hi, [&](std::uint32_t i) { i_ext[i] += static_cast<double>(v[i]) * f; });
}

void SampleInput::deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
                          std::uint32_t hi) const {
  if (coding_ != Coding::poisson) return;
  std::uint64_t sample = 0, within = 0;
  if (!at(step, sample, within)) return;
  const std::uint8_t* v = data_->values.data() + sample * data_->width;
  double* buf = pop.ring().slot(port_, pop.ring().slot_index(step));
  const double per_step = data_->factor[sample] * ms_per_step_ * 1e-3;
  const auto s = static_cast<std::uint32_t>(sample), w = static_cast<std::uint32_t>(within);
  // One Philox block serves four neurons.
  for_targets(lo, hi, [&](std::uint32_t i) {
    const double p = static_cast<double>(v[i]) * per_step;
    if (p <= 0.0) return;
    const auto r = stream_.draw(s, w, i >> 2, kTag);
    if (u01(r[i & 3u]) < p) buf[i] += weight_;
  });
}

} // namespace glia
