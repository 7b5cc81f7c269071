// Driving a spiking liquid with a task's input and reading it out (issue 5, MODELS.md
// "Generated benchmarks"): the input series u(k) enters as a current, gain_i u(k) into
// neuron i of the driven populations, each sample held for `hold` steps; the readout
// sees each liquid neuron's spike train low-pass filtered (an exponential trace,
// x_i -> x_i e^(-dt/tau) every step, +1 per spike), sampled at the last step of each
// sample window, and the window's spike count. Richer views are options: several filter
// time constants (one trace per neuron and tau), and the traces sampled at the ends of
// `trace_points` equal parts of each window (the last of them its end). The trace and
// the spikes are gathered on thread 0 in step order (a StepObserver), so they do not
// depend on the thread count.
#pragma once

#include "io/experiment.hpp"
#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/step_observer.hpp"

#include "reservoir/eigen.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace glia {

// A current u(k) * gain_i from step start + k hold to start + (k + 1) hold - 1; 0 outside.
class SignalInput final : public Input {
public:
  SignalInput(std::vector<double> gains, std::vector<double> u, std::uint64_t hold_steps,
              std::uint64_t start_step);
  bool is_current() const override { return true; }
  bool changes_at(std::uint64_t step) const override;
  void add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                   double* i_ext) const override;

private:
  std::vector<double> gains_, u_;
  std::uint64_t hold_, start_;
};

// n gains of magnitude `scale` * U[0.5, 1] and random sign; the fraction `fraction` of
// neurons, drawn independently, get one (the others 0).
std::vector<double> signal_gains(std::uint32_t n, double scale, double fraction,
                                 const Stream& stream);

// The readout's view of some populations (their neurons numbered one after the other).
// traces() has one column per (tau, point, neuron), neuron fastest: column
// (j * points + q) * neurons + i is neuron i's trace of time constant tau_ms[j] after
// step (q + 1) * hold_steps / points - 1 of the window (q = points - 1: its last step).
class FilteredTraces final : public StepObserver {
public:
  FilteredTraces(const Network& net, std::vector<int> populations, std::vector<double> tau_ms,
                 std::uint64_t start_step, std::uint64_t hold_steps, std::size_t samples,
                 int points = 1);
  void observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) override;

  const Eigen::MatrixXd& traces() const { return traces_; } // samples x (taus points neurons)
  const Eigen::MatrixXd& counts() const { return counts_; } // samples x neurons
  std::uint32_t neurons() const { return n_; }
  // The steps the samples span: [start_step, end_step).
  std::uint64_t start_step() const { return start_; }
  std::uint64_t end_step() const { return start_ + hold_ * samples_; }
  // Every spike seen from start_step on: step and combined neuron index.
  const std::vector<std::uint64_t>& spike_steps() const { return steps_; }
  const std::vector<std::uint32_t>& spike_ids() const { return ids_; }

private:
  std::vector<int> pops_;
  std::vector<std::uint32_t> offset_;
  std::uint32_t n_ = 0;
  std::vector<double> decay_;         // per tau
  std::vector<std::uint64_t> points_; // window steps after which traces are sampled
  std::uint64_t start_, hold_;
  std::size_t samples_;
  std::vector<double> x_; // tau-major: x_[j * n_ + i]
  Eigen::MatrixXd traces_, counts_;
  std::vector<std::uint64_t> steps_;
  std::vector<std::uint32_t> ids_;
};

struct LiquidDrive {
  std::vector<std::string> driven;     // populations that get the signal current
  std::vector<std::string> readout;    // populations the readout sees
  double gain = 1.0;                   // pA (or the model's current unit) per unit of u
  double fraction = 1.0;               // fraction of driven neurons with a gain
  double offset = 0.0;                 // u is fed as u + offset
  double hold_ms = 10.0;               // per sample
  std::vector<double> tau_ms = {25.0}; // readout filters, one trace per neuron each
  int trace_points = 1;                // traces sampled this many times per window
  double warmup_ms = 100.0;            // before the first sample, no signal
  int threads = 0;                     // 0: the experiment's
};

// Builds the experiment's network, attaches the signal current for `u`, runs warmup +
// u.size() samples and returns what the readout sees. Throws std::invalid_argument for
// an unknown population, no or a non-positive tau, or trace_points outside [1, hold].
FilteredTraces drive_liquid(const Experiment& ex, const LiquidDrive& drive,
                            const std::vector<double>& u);

} // namespace glia
