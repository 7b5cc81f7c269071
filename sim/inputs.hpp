// Stimulation: Poisson spike sources (independent per target neuron), spike-time
// arrays, and currents (DC, step-wise, Gaussian noise). Event inputs add into the
// target's ring-buffer slot of the step they arrive in; current inputs set the
// per-neuron external current, recomputed only at the steps where one of them changes.
// All randomness is keyed by (step or redraw index, neuron), so inputs are the same
// for any thread count and after a resume.
#pragma once

#include "sim/input_draws.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace glia {

class Input {
public:
  virtual ~Input() = default;
  std::string name;
  int target = 0;                     // population index
  std::vector<std::uint32_t> neurons; // sorted, unique; empty = all

  // Event inputs: add what arrives at `step` into the ring slot of neurons in [lo, hi).
  virtual void deliver(std::uint64_t, Population&, std::uint32_t, std::uint32_t) const {}
  // Current inputs: whether the current changes at `step`, and its contribution.
  virtual bool is_current() const { return false; }
  virtual bool changes_at(std::uint64_t) const { return false; }
  virtual void add_current(std::uint64_t, std::uint32_t, std::uint32_t, double*) const {}

protected:
  // Calls f(i) for the targeted neurons in [lo, hi).
  template <class F> void for_targets(std::uint32_t lo, std::uint32_t hi, F&& f) const;
};

class PoissonInput final : public Input {
public:
  PoissonInput(double rate_hz, double weight, int port, std::uint64_t start_step,
               std::uint64_t stop_step, double dt, Stream stream);
  void deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
               std::uint32_t hi) const override;

  // What the device engine needs to draw the same counts (poisson_input_count).
  struct Draw {
    double lambda, exp_minus_lambda, weight;
    int port;
    std::uint64_t start, stop;
    Stream stream;
    const std::vector<double>* cdf;
  };
  Draw draw() const {
    return {lambda_, exp_minus_lambda_, weight_, port_, start_, stop_, stream_, &cdf_};
  }

private:
  std::uint32_t count(double u) const;
  std::uint32_t count_word(std::uint32_t word) const;
  // k[j] = count_word(words[j]) for j < n, eight at a time where AVX2 is available.
  void count_words(const std::uint32_t* words, std::int32_t* k, std::uint32_t n) const;

  double lambda_, exp_minus_lambda_, weight_;
  // Cumulative Poisson probabilities, built by the same recurrence as poisson_inversion,
  // so that counting the entries below u gives the identical draw without its divisions
  // and data-dependent branches.
  std::vector<double> cdf_;
  // The count for every 32-bit word whose top 12 bits select a bucket that lies inside
  // one interval of the cdf (all but at most cdf_.size() of the 4096 buckets);
  // kUnresolved where the bucket straddles a boundary. One table look-up per draw.
  static constexpr std::uint8_t kUnresolved = 0xff;
  std::vector<std::uint8_t> bucket_;
  int port_;
  std::uint64_t start_, stop_;
  Stream stream_;
};

class SpikeTimesInput final : public Input {
public:
  // arrival_steps/targets: one event each, sorted by step.
  SpikeTimesInput(std::vector<std::uint64_t> arrival_steps, std::vector<std::uint32_t> targets,
                  double weight, int port);
  void deliver(std::uint64_t step, Population& pop, std::uint32_t lo,
               std::uint32_t hi) const override;
  const std::vector<std::uint64_t>& steps() const { return steps_; }
  const std::vector<std::uint32_t>& targets() const { return targets_; }
  double weight() const { return weight_; }
  int port() const { return port_; }

private:
  std::vector<std::uint64_t> steps_;
  std::vector<std::uint32_t> targets_;
  double weight_;
  int port_;
};

// A piecewise-constant current: amplitude[k] from step[k] on (0 before the first).
class StepCurrentInput final : public Input {
public:
  StepCurrentInput(std::vector<std::uint64_t> steps, std::vector<double> amplitudes);
  bool is_current() const override { return true; }
  bool changes_at(std::uint64_t step) const override;
  void add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                   double* i_ext) const override;
  // The amplitude in force at `step` (0 before the first change).
  double amplitude_at(std::uint64_t step) const;
  const std::vector<std::uint64_t>& steps() const { return steps_; }
  const std::vector<double>& amplitudes() const { return amplitudes_; }

private:
  std::vector<std::uint64_t> steps_;
  std::vector<double> amplitudes_;
};

// White-noise current, redrawn every `interval` steps between start and stop: Gaussian,
// or uniform with the same mean and standard deviation (Izhikevich's 13 (rand - 0.5)).
class NoiseInput final : public Input {
public:
  NoiseInput(double mean, double std, std::uint64_t interval, std::uint64_t start_step,
             std::uint64_t stop_step, Stream stream, bool uniform = false);
  bool is_current() const override { return true; }
  bool changes_at(std::uint64_t step) const override;
  void add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                   double* i_ext) const override;
  struct Draw {
    double mean, sd;
    std::uint64_t interval, start, stop;
    Stream stream;
    bool uniform;
  };
  Draw draw() const { return {mean_, std_, interval_, start_, stop_, stream_, uniform_}; }

private:
  double mean_, std_;
  std::uint64_t interval_, start_, stop_;
  Stream stream_;
  bool uniform_;
};

template <class F> void Input::for_targets(std::uint32_t lo, std::uint32_t hi, F&& f) const {
  if (neurons.empty()) {
    for (std::uint32_t i = lo; i < hi; ++i) f(i);
    return;
  }
  auto it = std::lower_bound(neurons.begin(), neurons.end(), lo);
  for (; it != neurons.end() && *it < hi; ++it) f(*it);
}

} // namespace glia
