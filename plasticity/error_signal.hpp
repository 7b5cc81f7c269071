// Error signal (MODELS.md, three-factor rules): per neuron i of a population, the signed
// prediction error E_i = target_i(t) - y_i(t). y_i is the neuron's spike train low-passed
// with tau and scaled to Hz (each spike adds 1000 / tau, so a steady rate r gives y = r):
//   y_i <- y_i exp(-dt / tau) + (1000 / tau) [i fired in this step].
// The target is piecewise constant from a schedule: `values` holds, for each of `times`,
// either one value (every neuron) or one per neuron (row-major), in force from that time
// on (`initial` before the first), optionally repeating with `period` (one trial's
// schedule for every trial). Or the target is a teacher population's spike train,
// low-passed the same way and scaled by `teacher_gain` (one teacher neuron for every
// neuron, or teacher i for neuron i): the error then asks the neurons to fire as the
// teacher does, and where the teacher fires only on some trials the neurons learn the
// expected train. Rules read value(i); value() is the mean over the neurons.
#pragma once

#include "plasticity/modulator.hpp"
#include "sim/network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

class ErrorSignal final : public Modulator {
public:
  static constexpr std::string_view name = "error";
  static constexpr std::string_view doc =
      "per-neuron error E = target - y, y the spike train low-passed with tau (Hz); target "
      "from a (periodic) schedule or a teacher population's low-passed spike train";
  enum P { tau, initial, period, teacher_gain };
  static constexpr ParamSpec params[] = {
      {"tau", "ms", 20.0, kPositive, "time constant of the rate estimate y"},
      {"initial", "Hz", 0.0, kAny, "target before the first scheduled time"},
      {"period", "ms", 0.0, kNonNegative, "repeat the schedule with this period (0: once)"},
      {"teacher_gain", "1", 1.0, kAny, "target = teacher_gain x the teacher's low-passed train"},
  };
  enum A { times, values };
  static constexpr ArraySpec arrays[] = {
      {"times", "ms", false, "times at which the target changes, increasing (or: teacher)"},
      {"values", "Hz", false,
       "target from the matching time on: one per time, or one per neuron per time"},
  };
  enum O { population_, teacher_ref };
  static constexpr ObjectRefSpec objects[] = {
      {"population", ObjectRefSpec::Kind::population, true, "the neurons whose output y is"},
      {"teacher", ObjectRefSpec::Kind::population, false,
       "the target is this population's low-passed spike train (instead of times/values)"},
  };
  enum V { E, y, target };
  static constexpr StateSpec variables[] = {
      {"E", "Hz", 0.0, "error target - y"},
      {"y", "Hz", 0.0, "low-passed spike train"},
      {"target", "Hz", 0.0, "target"},
  };

  static std::string check(const ModulatorCheck& c) {
    const auto& t = (*c.arrays)[times];
    const auto& v = (*c.arrays)[values];
    const bool teacher_given = !(*c.objects)[teacher_ref].empty();
    if (teacher_given) {
      if (!t.empty() || !v.empty())
        return "give either 'teacher' or the schedule 'times' and 'values', not both";
      return "";
    }
    if (t.empty() || v.empty())
      return "the target needs a schedule ('times' and 'values') or a 'teacher' population";
    if (v.size() % t.size() != 0)
      return "'values' must have one entry per time or one per neuron per time (" +
             std::to_string(t.size()) + " times, " + std::to_string(v.size()) + " values)";
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (t[k] < 0) return "'times' must be >= 0";
      if (k > 0 && !(t[k] > t[k - 1])) return "'times' must be increasing";
    }
    if (c.params[period] > 0 && !(t.back() < c.params[period]))
      return "every time must be below 'period'";
    return "";
  }

  explicit ErrorSignal(const ModulatorSetup& s)
      : Modulator(s.name), pop_(s.objects[population_].at(0)),
        n_(s.net->populations()[static_cast<std::size_t>(pop_)]->size()),
        decay_(std::exp(-s.dt / s.params[tau])), jump_(1000.0 / s.params[tau]),
        initial_(s.params[initial]), gain_(s.params[teacher_gain]), values_(s.arrays[values]) {
    y_.assign(n_, 0.0);
    if (!s.objects[teacher_ref].empty()) {
      teacher_ = s.objects[teacher_ref].at(0);
      const auto& tp = *s.net->populations()[static_cast<std::size_t>(teacher_)];
      if (tp.size() != 1 && tp.size() != n_)
        throw std::invalid_argument(
            "teacher population '" + tp.name() + "' has " + std::to_string(tp.size()) +
            " neurons; it needs 1 (for every neuron) or " + std::to_string(n_) +
            " (one per neuron of '" + s.net->populations()[static_cast<std::size_t>(pop_)]->name() +
            "')");
      teacher_y_.assign(tp.size(), 0.0);
      return;
    }
    for (double t : s.arrays[times]) steps_.push_back(std::llround(t / s.dt));
    per_neuron_ = values_.size() != steps_.size();
    if (per_neuron_ && values_.size() != steps_.size() * n_)
      throw std::invalid_argument(
          "'values' has " + std::to_string(values_.size()) + " entries; population '" +
          s.net->populations()[static_cast<std::size_t>(pop_)]->name() + "' needs " +
          std::to_string(steps_.size()) + " (one per time) or " +
          std::to_string(steps_.size() * n_) + " (one per neuron per time)");
    period_ = std::llround(s.params[period] / s.dt);
  }

  void update(const ModulatorContext& ctx) override {
    for (double& v : y_) v *= decay_;
    (*ctx.spikes)[static_cast<std::size_t>(pop_)].for_each(
        [&](std::uint32_t i) { y_[i] += jump_; });
    if (teacher_ >= 0) {
      for (double& v : teacher_y_) v *= decay_;
      (*ctx.spikes)[static_cast<std::size_t>(teacher_)].for_each(
          [&](std::uint32_t i) { teacher_y_[i] += jump_; });
      return;
    }
    std::int64_t k = static_cast<std::int64_t>(ctx.step);
    if (period_ > 0) k %= period_;
    const auto it = std::upper_bound(steps_.begin(), steps_.end(), k);
    row_ = static_cast<std::int64_t>(it - steps_.begin()) - 1;
  }

  double target_of(std::uint32_t i) const {
    if (teacher_ >= 0) return gain_ * teacher_y_[teacher_y_.size() == 1 ? 0 : i];
    if (row_ < 0) return initial_;
    const auto r = static_cast<std::size_t>(row_);
    return per_neuron_ ? values_[r * n_ + i] : values_[r];
  }
  double value(std::uint32_t i) const override { return target_of(i) - y_[i]; }
  double value() const override {
    double sum = 0.0;
    for (std::uint32_t i = 0; i < n_; ++i) sum += value(i);
    return n_ ? sum / n_ : 0.0;
  }
  int population() const override { return pop_; }

  std::span<const StateSpec> variable_specs() const override { return variables; }
  std::uint32_t width(int) const override { return n_; }
  double read(int var, std::uint32_t i) const override {
    return var == E ? value(i) : (var == y ? y_[i] : target_of(i));
  }

  void save(StateArchive& ar, const std::string& prefix) const override {
    ar.put(prefix + "y", y_);
    ar.put_scalar(prefix + "row", row_);
    if (teacher_ >= 0) ar.put(prefix + "teacher_y", teacher_y_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    ar.get_into(prefix + "y", y_);
    row_ = ar.get_scalar<std::int64_t>(prefix + "row");
    if (teacher_ >= 0) ar.get_into(prefix + "teacher_y", teacher_y_);
  }

private:
  int pop_;
  std::uint32_t n_;
  int teacher_ = -1;
  double decay_, jump_, initial_, gain_;
  std::vector<std::int64_t> steps_;
  std::vector<double> values_;
  bool per_neuron_ = false;
  std::int64_t period_ = 0;
  std::vector<double> y_, teacher_y_;
  std::int64_t row_ = -1; // schedule entry in force (-1: before the first)
};

} // namespace glia
