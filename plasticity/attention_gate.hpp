// Attention gate (MODELS.md, three-factor rules): a factor G(t) in [0, 1] that
// multiplies a rule's modulatory signal, active in the task-relevant phases of a trial.
// Piecewise constant: G = values[k] from times[k] on (G = `initial` before the first),
// optionally repeating with `period` so that one trial's schedule serves every trial.
#pragma once

#include "plasticity/modulator.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace glia {

class AttentionGate final : public Modulator {
public:
  static constexpr std::string_view name = "attention";
  static constexpr std::string_view doc =
      "attention gate G(t) in [0,1]: piecewise constant from a schedule, optionally periodic";
  enum P { initial, period };
  static constexpr ParamSpec params[] = {
      {"initial", "1", 0.0, kUnit, "G before the first scheduled time"},
      {"period", "ms", 0.0, kNonNegative, "repeat the schedule with this period (0: once)"},
  };
  enum A { times, values };
  static constexpr ArraySpec arrays[] = {
      {"times", "ms", true, "times at which G changes, increasing"},
      {"values", "1", true, "G from the matching time on, each in [0, 1]"},
  };
  static constexpr StateSpec variables[] = {{"G", "1", 0.0, "gate value"}};

  static std::string check(const ModulatorCheck& c) {
    const auto& t = (*c.arrays)[times];
    const auto& v = (*c.arrays)[values];
    if (t.size() != v.size())
      return "'times' and 'values' must have the same length (" + std::to_string(t.size()) +
             " and " + std::to_string(v.size()) + ")";
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (k > 0 && !(t[k] > t[k - 1])) return "'times' must be increasing";
      if (t[k] < 0) return "'times' must be >= 0";
      if (v[k] < 0 || v[k] > 1) return "'values' must be in [0, 1]";
    }
    if (c.params[period] > 0 && !t.empty() && !(t.back() < c.params[period]))
      return "every time must be below 'period'";
    return "";
  }

  explicit AttentionGate(const ModulatorSetup& s)
      : Modulator(s.name), initial_(s.params[initial]), g_(initial_) {
    for (double t : s.arrays[times]) steps_.push_back(std::llround(t / s.dt));
    values_ = s.arrays[values];
    period_ = std::llround(s.params[period] / s.dt);
  }

  void update(const ModulatorContext& ctx) override {
    // The value in force during step ctx.step, which ends at (step + 1) dt.
    std::int64_t k = static_cast<std::int64_t>(ctx.step);
    if (period_ > 0) k %= period_;
    const auto it = std::upper_bound(steps_.begin(), steps_.end(), k);
    g_ = it == steps_.begin() ? initial_
                              : values_[static_cast<std::size_t>(it - steps_.begin() - 1)];
  }
  double value() const override { return g_; }
  std::span<const StateSpec> variable_specs() const override { return variables; }
  double read(int, std::uint32_t) const override { return g_; }
  void save(StateArchive& ar, const std::string& prefix) const override {
    ar.put_scalar(prefix + "G", g_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    g_ = ar.get_scalar<double>(prefix + "G");
  }

private:
  double initial_, g_;
  std::vector<std::int64_t> steps_;
  std::vector<double> values_;
  std::int64_t period_ = 0;
};

} // namespace glia
