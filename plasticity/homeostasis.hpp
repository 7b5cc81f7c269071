// Homeostatic E/I balance (MODELS.md, after Srinivasan, Plenz & Girvan 2025): every
// neuron i of the post population has an inhibitory gain g_i that scales all its
// synapses of this projection (delivered weight g_i * w0_ij, w0 the weights the
// projection was built with). Every `interval` ms, until `adapt_until`,
//     g_i <- max(0, g_i + eta (r_i - rho_i)),
// so a neuron firing above its target gets more inhibition. The rule is meant for an
// inhibitory projection (negative weights, or an inhibitory port); on an excitatory
// one the same update would push rates away from their targets.
//
// Rate estimate: a box, the neuron's spike count over the last `window` ms (a whole
// number of intervals, kept as one count per interval) divided by the window (by the
// time elapsed while less than a window has passed). Counts are exact integers, and
// with window = interval the update is an integral controller on the spike count: the
// gain's change over many updates is eta (spikes / interval - n rho), so counting noise
// does not accumulate into a bias. An exponential estimate would weigh each spike by
// where it fell relative to the update times, which for regular firing is a sawtooth.
//
// Targets: rho_i = target + target_spread (2 u_i - 1), u_i uniform in (0, 1) from the
// Philox stream of this projection (seed, projection index, neuron): homogeneous when
// the spread is 0, the same targets for any thread count and after a resume.
//
// After adapt_until the gains are frozen and the projection is a static one with the
// adapted weights.
#pragma once

#include "plasticity/rule.hpp"
#include "sim/plasticity.hpp"
#include "sim/random.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace glia {

class HomeostasisEngine;

struct Homeostasis {
  static constexpr std::string_view name = "homeostasis";
  static constexpr std::string_view doc =
      "per-neuron inhibitory gain g <- max(0, g + eta (r - rho)) toward a target rate, then frozen";

  enum P { target, target_spread, eta, g0, window, interval, adapt_until };
  static constexpr ParamSpec params[] = {
      {"target", "Hz", kRequired, kNonNegative, "target rate rho (mean of the per-neuron targets)"},
      {"target_spread", "Hz", 0.0, kNonNegative,
       "per-neuron targets uniform in [target - spread, target + spread]; 0: homogeneous"},
      {"eta", "1/Hz", kRequired, kPositive, "gain change per update per Hz of rate error"},
      {"g0", "1", 1.0, kNonNegative, "initial gain of every neuron"},
      {"window", "ms", 1000.0, kPositive, "rate estimate: spike count over this window"},
      {"interval", "ms", 100.0, kPositive, "time between gain updates"},
      {"adapt_until", "ms", kInf, kNonNegative, "gains are frozen from this time on"},
  };
  static constexpr bool on_arrival = false;
  using Engine = HomeostasisEngine;

  static std::string check(const PlasticityUse& u) {
    const double* p = u.params;
    auto whole = [](double x) { return std::fabs(x - std::round(x)) <= 1e-9 * std::max(1.0, x); };
    char msg[200] = "";
    if (!whole(p[interval] / u.dt) || p[interval] < u.dt * (1 - 1e-9))
      std::snprintf(msg, sizeof msg, "'interval' (%g ms) must be a multiple of the time step %g ms",
                    p[interval], u.dt);
    else if (!whole(p[window] / p[interval]) || p[window] < p[interval] * (1 - 1e-9))
      std::snprintf(msg, sizeof msg, "'window' (%g ms) must be a whole number of intervals (%g ms)",
                    p[window], p[interval]);
    else if (p[target_spread] > p[target])
      std::snprintf(msg, sizeof msg,
                    "'target_spread' (%g Hz) must not exceed 'target' (%g Hz): targets would be "
                    "negative",
                    p[target_spread], p[target]);
    return msg;
  }
};

class HomeostasisEngine final : public Plasticity {
public:
  explicit HomeostasisEngine(const PlasticitySetup& s)
      : p_(s.params), dt_(s.dt), stream_{s.seed, stream_id(StreamKind::plasticity, s.index)} {
    interval_ = static_cast<std::uint64_t>(std::llround(p_[Homeostasis::interval] / dt_));
    bins_ = static_cast<std::uint32_t>(
        std::llround(p_[Homeostasis::window] / p_[Homeostasis::interval]));
  }

  void attach(Projection& proj, std::uint32_t, std::uint32_t n_post) override {
    gain_.assign(n_post, p_[Homeostasis::g0]);
    target_.resize(n_post);
    for (std::uint32_t i = 0; i < n_post; ++i) {
      const double u = u01(stream_.draw(i, 0, 0, kTag)[0]);
      target_[i] = p_[Homeostasis::target] + p_[Homeostasis::target_spread] * (2.0 * u - 1.0);
    }
    count_.assign(static_cast<std::size_t>(n_post) * bins_, 0);
    w0_.resize(proj.blocks.size());
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
      SynapseBlock& sb = proj.blocks[b];
      w0_[b].resize(sb.size());
      for (std::size_t s = 0; s < sb.size(); ++s) w0_[b][s] = proj.weight_of(sb, s);
      sb.weight.resize(sb.size());
    }
    proj.constant_weight = false;
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) apply_gains(proj.blocks[b], b);
  }

  bool delivers_on_arrival() const override { return false; }
  void arrive(Projection&, std::uint64_t, std::size_t, const StepSpikes&, double*) override {}
  void settle(Projection&, std::size_t) override {} // the block's weights are always current

  void post_spikes(Projection&, std::uint64_t step, std::size_t,
                   const std::vector<std::uint32_t>& spikes) override {
    if (frozen(step)) return;
    const std::uint32_t bin = bin_of(step);
    for (std::uint32_t i : spikes) ++count_[static_cast<std::size_t>(i) * bins_ + bin];
  }

  bool wants_end_step() const override { return true; }
  void end_step(Projection& proj, std::uint64_t step, std::size_t b) override {
    if ((step + 1) % interval_ != 0 || frozen(step)) return;
    SynapseBlock& sb = proj.blocks[b];
    const double elapsed_s =
        1e-3 * std::min(static_cast<double>(step + 1) * dt_, p_[Homeostasis::window]);
    const double eta = p_[Homeostasis::eta];
    const std::uint32_t next = (bin_of(step) + 1) % bins_;
    for (std::uint32_t i = sb.target_lo; i < sb.target_hi; ++i) {
      std::uint32_t* c = count_.data() + static_cast<std::size_t>(i) * bins_;
      std::uint64_t n = 0;
      for (std::uint32_t k = 0; k < bins_; ++k) n += c[k];
      const double rate = static_cast<double>(n) / elapsed_s;
      gain_[i] = std::max(0.0, gain_[i] + eta * (rate - target_[i]));
      c[next] = 0; // the oldest interval leaves the window
    }
    apply_gains(sb, b);
  }

  // The weights g_i w0_ij are the projection's, checkpointed with it.
  void save(StateArchive& ar, const std::string& prefix) const override {
    ar.put(prefix + "gain", gain_);
    ar.put(prefix + "count", count_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    ar.get_into(prefix + "gain", gain_);
    ar.get_into(prefix + "count", count_);
  }

  std::size_t bytes() const override {
    std::size_t n = (gain_.capacity() + target_.capacity()) * sizeof(double) +
                    count_.capacity() * sizeof(std::uint32_t);
    for (const auto& w : w0_) n += w.capacity() * sizeof(double);
    return n;
  }

  // For tests and reports: the gain and the target rate (Hz) of every post neuron.
  const std::vector<double>& gains() const { return gain_; }
  const std::vector<double>& targets() const { return target_; }

private:
  static constexpr std::uint32_t kTag = 0x484f4d45u; // "HOME"

  // Step `step` lies after the adaptation phase (updates at the end of a step count
  // as inside it when the step ends by adapt_until).
  bool frozen(std::uint64_t step) const {
    return static_cast<double>(step + 1) * dt_ > p_[Homeostasis::adapt_until] + 1e-9 * dt_;
  }
  std::uint32_t bin_of(std::uint64_t step) const {
    return static_cast<std::uint32_t>((step / interval_) % bins_);
  }
  void apply_gains(SynapseBlock& sb, std::size_t b) {
    const std::vector<double>& w0 = w0_[b];
    for (std::size_t s = 0; s < sb.size(); ++s)
      sb.weight[s] = static_cast<float>(gain_[sb.target[s]] * w0[s]);
  }

  std::vector<double> p_;
  double dt_;
  Stream stream_;
  std::uint64_t interval_ = 1;
  std::uint32_t bins_ = 1;
  std::vector<double> gain_, target_;   // per post neuron
  std::vector<std::uint32_t> count_;    // per post neuron, one count per interval
  std::vector<std::vector<double>> w0_; // per block, per synapse
};

} // namespace glia
