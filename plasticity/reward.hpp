// Reward (MODELS.md, three-factor rules): a dopamine-like concentration d that relaxes
// to a tonic level with tau_d and jumps at reward pulses; rules read M = d - baseline.
//   d <- tonic + (d - tonic) exp(-dt / tau_d), then + amount for each pulse of the step.
// Pulses come from a schedule (`times`, `amounts`) and/or from the pairing task of
// Izhikevich (2007), "Solving the distal reward problem": the modulator watches one
// synapse (`projection`, `pre`, `post`), and each time the post-synaptic neuron fires
// 1..window ms after the pre-synaptic neuron's last spike (emission times, as in the
// paper's code daspnet.m), a reward of `amount` is scheduled after a delay drawn
// uniformly from [delay_min, delay_max] ms. The delays come from a Philox stream keyed
// by the modulator's index and the pairing's ordinal, so they do not depend on threads
// or on where a run was resumed.
#pragma once

#include "plasticity/modulator.hpp"
#include "sim/network.hpp"
#include "sim/random.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

class Reward final : public Modulator {
public:
  static constexpr std::string_view name = "reward";
  static constexpr std::string_view doc =
      "dopamine-like concentration d (decay tau_d to a tonic level), pulses from a schedule "
      "or a pre->post pairing task; signal d - baseline";
  enum P { tau_d, tonic, baseline, amount, pre, post, window, delay_min, delay_max };
  static constexpr ParamSpec params[] = {
      {"tau_d", "ms", 200.0, kPositive, "decay time constant of d"},
      {"tonic", "1", 0.0, kAny, "level d relaxes to (and starts at)"},
      {"baseline", "1", 0.0, kAny, "subtracted from d in the signal M = d - baseline"},
      {"amount", "1", 0.5, kAny,
       "jump of d per task reward (and per scheduled pulse without "
       "'amounts')"},
      {"pre", "1", -1.0, kAny, "task: index of the watched synapse's pre-synaptic neuron"},
      {"post", "1", -1.0, kAny,
       "task: index of its post-synaptic neuron (-1: the pre neuron's lowest-indexed target)"},
      {"window", "ms", 10.0, kPositive,
       "task: a post spike at most this long after a pre spike "
       "earns a reward"},
      {"delay_min", "ms", 1000.0, kNonNegative, "task: shortest delay of the reward"},
      {"delay_max", "ms", 3000.0, kNonNegative, "task: longest delay of the reward"},
  };
  enum A { times, amounts };
  static constexpr ArraySpec arrays[] = {
      {"times", "ms", false, "times of scheduled pulses, increasing"},
      {"amounts", "1", false, "jump of d at each scheduled time (default: 'amount' each)"},
  };
  enum O { projection };
  static constexpr ObjectRefSpec objects[] = {
      {"projection", ObjectRefSpec::Kind::projection, false,
       "task: the projection holding the watched synapse (no task without it)"},
  };
  enum V { d, rewards, pairings };
  static constexpr StateSpec variables[] = {
      {"d", "1", 0.0, "concentration"},
      {"rewards", "1", 0.0, "pulses delivered so far"},
      {"pairings", "1", 0.0, "task pairings detected so far"},
  };

  static std::string check(const ModulatorCheck& c) {
    const auto& t = (*c.arrays)[times];
    const auto& a = (*c.arrays)[amounts];
    if (!a.empty() && a.size() != t.size())
      return "'times' and 'amounts' must have the same length (" + std::to_string(t.size()) +
             " and " + std::to_string(a.size()) + ")";
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (t[k] < 0) return "'times' must be >= 0";
      if (k > 0 && !(t[k] > t[k - 1])) return "'times' must be increasing";
    }
    if (c.params[delay_max] < c.params[delay_min]) return "'delay_max' must be >= 'delay_min'";
    if (c.params[window] < c.dt) return "'window' must be at least one step (dt)";
    return "";
  }

  explicit Reward(const ModulatorSetup& s)
      : Modulator(s.name), tonic_(s.params[tonic]), baseline_(s.params[baseline]),
        amount_(s.params[amount]), decay_(std::exp(-s.dt / s.params[tau_d])),
        d_(tonic_), stream_{s.seed,
                            stream_id(StreamKind::modulator, static_cast<std::uint32_t>(s.index))} {
    const auto& t = s.arrays[times];
    for (std::size_t k = 0; k < t.size(); ++k) {
      steps_.push_back(std::llround(t[k] / s.dt));
      amounts_.push_back(s.arrays[amounts].empty() ? amount_ : s.arrays[amounts][k]);
    }
    window_ = std::llround(s.params[window] / s.dt);
    delay_lo_ = s.params[delay_min] / s.dt;
    delay_hi_ = s.params[delay_max] / s.dt;
    if (!s.objects[projection].empty()) watch(s);
  }

  void update(const ModulatorContext& ctx) override {
    const auto now = static_cast<std::int64_t>(ctx.step);
    d_ = tonic_ + (d_ - tonic_) * decay_;
    for (; next_ < steps_.size() && steps_[next_] <= now; ++next_) pulse(amounts_[next_]);
    // Due task rewards: the list is short (rewards in flight), kept in arrival order.
    std::size_t k = 0;
    while (k < pending_.size() && pending_[k] <= now) {
      pulse(amount_);
      ++k;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(k));
    if (pre_pop_ < 0) return;
    bool pre_fired = false, post_fired = false;
    (*ctx.spikes)[static_cast<std::size_t>(pre_pop_)].for_each(
        [&](std::uint32_t i) { pre_fired = pre_fired || i == pre_; });
    (*ctx.spikes)[static_cast<std::size_t>(post_pop_)].for_each(
        [&](std::uint32_t i) { post_fired = post_fired || i == post_; });
    // A post spike pairs with an earlier pre spike only (same step: no order known).
    if (post_fired && last_pre_ >= 0 && now > last_pre_ && now - last_pre_ <= window_) {
      const auto r = stream_.draw(static_cast<std::uint32_t>(pairings_),
                                  static_cast<std::uint32_t>(pairings_ >> 32), 0, kTag);
      const double lag = delay_lo_ + u01(r[0], r[1]) * (delay_hi_ - delay_lo_);
      const std::int64_t at = now + std::max<std::int64_t>(1, std::llround(lag));
      pending_.insert(std::upper_bound(pending_.begin(), pending_.end(), at), at);
      ++pairings_;
    }
    if (pre_fired) last_pre_ = now;
  }

  double value() const override { return d_ - baseline_; }
  std::span<const StateSpec> variable_specs() const override { return variables; }
  double read(int var, std::uint32_t) const override {
    return var == d ? d_ : static_cast<double>(var == rewards ? rewards_ : pairings_);
  }

  void save(StateArchive& ar, const std::string& prefix) const override {
    ar.put_scalar(prefix + "d", d_);
    ar.put_scalar(prefix + "next", static_cast<std::uint64_t>(next_));
    ar.put_scalar(prefix + "last_pre", last_pre_);
    ar.put_scalar(prefix + "pairings", pairings_);
    ar.put_scalar(prefix + "rewards", rewards_);
    ar.put(prefix + "pending", pending_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    d_ = ar.get_scalar<double>(prefix + "d");
    next_ = static_cast<std::size_t>(ar.get_scalar<std::uint64_t>(prefix + "next"));
    last_pre_ = ar.get_scalar<std::int64_t>(prefix + "last_pre");
    pairings_ = ar.get_scalar<std::uint64_t>(prefix + "pairings");
    rewards_ = ar.get_scalar<std::uint64_t>(prefix + "rewards");
    pending_ = ar.get<std::int64_t>(prefix + "pending");
  }

  // The watched synapse (task only) and the steps of the rewards in flight.
  std::uint32_t watched_pre() const { return pre_; }
  std::uint32_t watched_post() const { return post_; }
  const std::vector<std::int64_t>& pending() const { return pending_; }

private:
  static constexpr std::uint32_t kTag = 0x52455744u; // "REWD"

  void pulse(double a) {
    d_ += a;
    ++rewards_;
  }

  // Finds the watched synapse; a pre/post pair that the projection does not connect is
  // an input error (reported with the modulator's table).
  void watch(const ModulatorSetup& s) {
    const Projection& pr =
        s.net->projections().at(static_cast<std::size_t>(s.objects[projection][0]));
    const auto n_pre = s.net->populations()[static_cast<std::size_t>(pr.pre)]->size();
    const auto n_post = s.net->populations()[static_cast<std::size_t>(pr.post)]->size();
    const double p = s.params[pre], q = s.params[post];
    if (p < 0 || p != std::floor(p) || p >= n_pre)
      throw std::invalid_argument("'pre' must be a neuron index of population '" +
                                  s.net->populations()[static_cast<std::size_t>(pr.pre)]->name() +
                                  "' (0.." + std::to_string(n_pre - 1) + ") with 'projection'");
    if (q != -1 && (q < 0 || q != std::floor(q) || q >= n_post))
      throw std::invalid_argument("'post' must be -1 or a neuron index of population '" +
                                  s.net->populations()[static_cast<std::size_t>(pr.post)]->name() +
                                  "' (0.." + std::to_string(n_post - 1) + ")");
    pre_ = static_cast<std::uint32_t>(p);
    bool found = false;
    // Blocks hold increasing target ranges and rows are sorted: the first target met is
    // the lowest.
    for (const SynapseBlock& b : pr.blocks) {
      for (std::uint64_t k = b.row[pre_]; k < b.row[pre_ + 1] && !found; ++k)
        if (q < 0 || b.target[k] == static_cast<std::uint32_t>(q)) {
          post_ = b.target[k];
          found = true;
        }
      if (found) break;
    }
    if (!found)
      throw std::invalid_argument("projection '" + pr.name + "' has no synapse from neuron " +
                                  std::to_string(pre_) +
                                  (q < 0 ? "" : " to neuron " + std::to_string(std::llround(q))));
    pre_pop_ = pr.pre;
    post_pop_ = pr.post;
  }

  double tonic_, baseline_, amount_, decay_, d_;
  std::vector<std::int64_t> steps_;
  std::vector<double> amounts_;
  std::size_t next_ = 0; // first scheduled pulse not yet delivered
  // Task.
  Stream stream_;
  int pre_pop_ = -1, post_pop_ = -1;
  std::uint32_t pre_ = 0, post_ = 0;
  std::int64_t window_ = 0;
  double delay_lo_ = 0, delay_hi_ = 0; // steps
  std::int64_t last_pre_ = -1;
  std::uint64_t pairings_ = 0, rewards_ = 0;
  std::vector<std::int64_t> pending_; // steps of scheduled task rewards, increasing
};

} // namespace glia
