// A sequence of samples presented to a population, one window each (the "samples" input
// of the dataset pipeline): sample s drives neuron i with pixel(s, i) * factor(s) (bytes
// and one factor per sample, so 70k images take 55 MB), either as a constant current (pA)
// for the window, or
// as a rate (Hz) of Bernoulli spikes of `weight` into a receptor port. Outside the
// presented windows it adds nothing. The random draws are keyed by (sample index, step
// within the window, neuron), so a sample gets the same spikes wherever and whenever it
// is presented: features do not depend on the thread count or on the order of samples.
#pragma once

#include "sim/inputs.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace glia {

// The samples: width bytes each, and a factor per sample that turns a byte into pA or Hz.
struct SampleData {
  std::uint32_t width = 0;
  std::vector<std::uint8_t> values; // samples x width
  std::vector<double> factor;       // per sample
  std::size_t size() const { return factor.size(); }
};

class SampleInput final : public Input {
public:
  enum class Coding { current, poisson };
  SampleInput(std::shared_ptr<const SampleData> data, Coding coding, double weight, int port,
              double dt, Stream stream);

  // Presents samples [first, first + count) from step `start` on, `window` steps each.
  void present(std::uint64_t first, std::uint64_t count, std::uint64_t start, std::uint64_t window);
  std::uint64_t window() const { return window_; }

  bool is_current() const override { return coding_ == Coding::current; }
  bool changes_at(std::uint64_t step) const override;
  void add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                   double* i_ext) const override;
  void deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
               std::uint32_t hi) const override;

private:
  // The presented sample at `step` (its global index) and the step within its window;
  // false outside the presentation.
  bool at(std::uint64_t step, std::uint64_t& sample, std::uint64_t& within) const;

  static constexpr std::uint32_t kTag = 0x53414d50u; // "SAMP"
  std::shared_ptr<const SampleData> data_;
  Coding coding_;
  double weight_, ms_per_step_;
  int port_;
  Stream stream_;
  std::uint64_t first_ = 0, count_ = 0, start_ = 0, window_ = 1;
};

} // namespace glia
