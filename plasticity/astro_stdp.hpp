// Astrocyte-modulated STDP of NALSM (Ivanov & Michmizos, NeurIPS 2021; MODELS.md).
// Every neuron has one trace, x <- d (x + a s) per step, d = exp(-dt/tau) (d^10 = 1/e
// for tau = 10 ms at 1 ms steps), a = trace_increment. For a synapse j -> i whose
// presynaptic population is excitatory or the input layer,
//   dw_ij = A_plus x_j s_i - A(t) x_i s_j,
// and for an inhibitory presynaptic population the signs swap,
//   dw_ij = -A(t) x_j s_i + A_plus x_i s_j,
// with A(t) the state of the astrocyte the rule names (plasticity/astrocyte.hpp) and the
// weight clipped to the bounds of its type (excitatory [0, 3], inhibitory [-3, 0],
// input [-3, 3] unless w_min / w_max say otherwise).
//
// Timing, as the published code steps it: the update of step t uses the spikes s(t) of
// step t and the traces x(t) before they take s(t) in (so a pre and a post spike in the
// same step do not pair), both terms are summed and the sum is clipped once, then the
// traces advance. Spikes pair at their emission steps, whatever the synaptic delay (in
// the published model every delay is one step). A(t) is the astrocyte's value in force
// during step t (see astrocyte.hpp).
//
// Engine: the projection is propagated by the simulator from its per-synapse float
// weights (on_arrival = false); the rule acts in the learn phase of each step, walking
// the rows of the pre spikes and the transposed index of the post spikes of the block
// it owns. Traces are lazy (value after the last spike, decayed by an exact table).
// Each thread keeps its own copy of the pre traces, so nothing is shared.
#pragma once

#include "plasticity/modulator.hpp"
#include "plasticity/rule.hpp"
#include "sim/plasticity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace glia {

struct AstroStdp {
  static constexpr std::string_view name = "astro_stdp";
  static constexpr std::string_view doc =
      "NALSM STDP: fixed potentiation A_plus, depression rate A(t) read from an astrocyte";

  enum P { A_plus, trace_increment, tau, w_min, w_max };
  // "Not given: the presynaptic type's bound". Infinite, because NaN means a required
  // parameter (kRequired) and a given value must be finite, so no input can mean this.
  static constexpr double kByType = kInf;
  static constexpr ParamSpec params[] = {
      {"A_plus", "1", 0.15, kNonNegative, "potentiation rate (fixed)"},
      {"trace_increment", "1", 0.1, kNonNegative, "added to a neuron's trace when it spikes"},
      {"tau", "ms", 10.0, kPositive, "trace time constant: x <- exp(-dt/tau) (x + increment s)"},
      {"w_min", "w", kByType, kAny,
       "lower weight bound (default by presynaptic type: excitatory 0, inhibitory -3, input -3)"},
      {"w_max", "w", kByType, kAny,
       "upper weight bound (default by presynaptic type: excitatory 3, inhibitory 0, input 3)"},
  };
  static constexpr std::string_view presynaptic_choices[] = {"excitatory", "inhibitory", "input"};
  enum O { presynaptic };
  static constexpr OptionSpec options[] = {
      {"presynaptic", presynaptic_choices,
       "type of the presynaptic population: sets the sign convention and the weight bounds"},
  };
  static constexpr std::string_view astrocyte_types[] = {"astrocyte"};
  static constexpr RefSpec refs[] = {
      {"astrocyte", "modulator", true,
       "the [[modulator]] of type 'astrocyte' whose state A(t) is the depression rate",
       astrocyte_types},
  };
  static constexpr bool on_arrival = false;
  static constexpr bool fading_rates = true;

  // The weight bounds in force: w_min / w_max when given, else the presynaptic type's.
  static std::pair<double, double> bounds(const double* p, const int* o) {
    constexpr double lo[] = {0.0, -3.0, -3.0}, hi[] = {3.0, 0.0, 3.0};
    return {std::isinf(p[w_min]) ? lo[o[presynaptic]] : p[w_min],
            std::isinf(p[w_max]) ? hi[o[presynaptic]] : p[w_max]};
  }
  static std::string check(const PlasticityUse& u) {
    const auto [lo, hi] = bounds(u.params, u.options);
    if (lo > hi)
      return "w_min (" + std::to_string(lo) + ") is above w_max (" + std::to_string(hi) + ")";
    return "";
  }

  class Engine;
};

class AstroStdp::Engine final : public Plasticity {
public:
  explicit Engine(const PlasticitySetup& s)
      : astro_(s.refs.at(0)), a_plus_(s.params[A_plus]), increment_(s.params[trace_increment]),
        inhibitory_(s.options[presynaptic] == 1), decay_(s.dt, s.params[tau]) {
    if (!astro_) throw std::invalid_argument("rule 'astro_stdp' needs an astrocyte");
    std::tie(w_lo_, w_hi_) = bounds(s.params.data(), s.options.data());
  }

  void attach(Projection& proj, std::uint32_t n_pre, std::uint32_t n_post) override {
    // The rule changes single weights: a projection built with one weight gets one each.
    if (proj.constant_weight) {
      for (SynapseBlock& sb : proj.blocks)
        sb.weight.assign(sb.size(), static_cast<float>(proj.weight));
      proj.constant_weight = false;
    }
    post_.assign(n_post, LazyTrace{});
    post_mark_.assign(n_post, -1);
    blocks_.resize(proj.blocks.size());
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
      const SynapseBlock& sb = proj.blocks[b];
      Block& pb = blocks_[b];
      pb.pre.assign(n_pre, LazyTrace{});
      pb.pre_mark.assign(n_pre, -1);
      pb.post.build(sb, n_pre);
    }
  }

  bool delivers_on_arrival() const override { return false; }
  void arrive(Projection&, std::uint64_t, std::size_t, const StepSpikes&, double*) override {}

  void pre_spikes(Projection&, std::uint64_t, std::size_t b, const StepSpikes& spikes) override {
    blocks_[b].pre_now = spikes;
  }

  void post_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                   const std::vector<std::uint32_t>& spikes) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const double a = astro_->value();
    // Both rates fade together (set_rate_decay): the published code decays A_plus and the
    // astrocyte's A, w_astro and b_astro by the same factor, which scales A(t) by it too.
    const double g = rate_decay_ == 1.0 ? 1.0 : std::pow(rate_decay_, static_cast<double>(step));
    // Coefficients of the trace read at a post spike (x_j) and at a pre spike (x_i).
    const double c_post = g * (inhibitory_ ? -a : a_plus_);
    const double c_pre = g * (inhibitory_ ? a_plus_ : -a);
    const auto now = static_cast<std::int64_t>(step);
    float* w = sb.weight.data();
    const std::uint32_t* tgt = sb.target.data();
    auto update = [&](std::uint64_t k, double dw) {
      const double v = static_cast<double>(w[k]) + dw;
      w[k] = static_cast<float>(v < w_lo_ ? w_lo_ : (v > w_hi_ ? w_hi_ : v));
    };
    for (std::uint32_t i : spikes) post_mark_[i] = now;
    // Synapses of this step's pre spikes; a target that also fired adds its term here.
    if (pb.pre_now.blocks)
      pb.pre_now.for_each([&](std::uint32_t j) {
        const double xj = pb.pre[j].now(step, decay_);
        pb.pre_mark[j] = now;
        for (std::uint64_t k = sb.row[j]; k < sb.row[j + 1]; ++k) {
          const std::uint32_t i = tgt[k];
          double dw = c_pre * post_[i].now(step, decay_);
          if (post_mark_[i] == now) dw += c_post * xj;
          update(k, dw);
        }
      });
    // Synapses of this step's post spikes whose source did not fire.
    for (std::uint32_t i : spikes) {
      const std::uint32_t li = i - sb.target_lo;
      for (std::uint32_t k = pb.post.row[li]; k < pb.post.row[li + 1]; ++k) {
        const std::uint32_t j = pb.post.src[k];
        if (pb.pre_mark[j] == now) continue;
        update(pb.post.syn[k], c_post * pb.pre[j].now(step, decay_));
      }
    }
    // The traces take this step's spikes in.
    auto advance = [&](LazyTrace& x) {
      x.value = x.now(step, decay_) + increment_;
      x.at = now;
    };
    if (pb.pre_now.blocks) pb.pre_now.for_each([&](std::uint32_t j) { advance(pb.pre[j]); });
    for (std::uint32_t i : spikes) advance(post_[i]);
    pb.pre_now = {};
  }

  void settle(Projection&, std::size_t) override {}

  bool set_rate_decay(double per_step) override {
    rate_decay_ = per_step;
    return true;
  }

  // Every block's copy of the pre traces saw the same spikes: one copy is the state, so
  // the archive is the same for any thread count.
  void save(StateArchive& ar, const std::string& prefix) const override {
    std::vector<double> value;
    std::vector<std::int64_t> at;
    auto put = [&](const std::vector<LazyTrace>& xs) {
      for (const LazyTrace& x : xs) {
        value.push_back(x.value);
        at.push_back(x.at);
      }
    };
    if (!blocks_.empty()) put(blocks_.front().pre);
    put(post_);
    ar.put(prefix + "trace_value", value);
    ar.put(prefix + "trace_at", at);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    const std::size_t n_pre = blocks_.empty() ? 0 : blocks_.front().pre.size();
    std::vector<double> value(n_pre + post_.size());
    std::vector<std::int64_t> at(value.size());
    ar.get_into(prefix + "trace_value", value);
    ar.get_into(prefix + "trace_at", at);
    for (Block& b : blocks_)
      for (std::size_t j = 0; j < n_pre; ++j) b.pre[j] = LazyTrace{value[j], at[j]};
    std::size_t k = n_pre;
    auto get = [&](std::vector<LazyTrace>& xs) {
      for (LazyTrace& x : xs) {
        x.value = value[k];
        x.at = at[k++];
      }
    };
    get(post_);
    // Marks only ever match the current step. A network restored to an earlier state
    // (every feature sample starts again at step 0) must not find a later run's marks.
    std::fill(post_mark_.begin(), post_mark_.end(), -1);
    for (Block& b : blocks_) std::fill(b.pre_mark.begin(), b.pre_mark.end(), -1);
  }

  std::size_t bytes() const override {
    std::size_t n = post_.capacity() * sizeof(LazyTrace) + post_mark_.capacity() * 8;
    for (const Block& b : blocks_)
      n += b.pre.capacity() * sizeof(LazyTrace) + b.pre_mark.capacity() * 8 + b.post.bytes();
    return n;
  }

private:
  // A cache line of its own: each thread sets its block's pre_now every step.
  struct alignas(64) Block {
    std::vector<LazyTrace> pre;         // this thread's copy of the pre traces
    std::vector<std::int64_t> pre_mark; // step of each source's last spike seen here
    TransposedIndex post;
    StepSpikes pre_now; // the pre spikes of the current step (set by pre_spikes)
  };

  const Modulator* astro_;
  double a_plus_, increment_;
  bool inhibitory_;
  double w_lo_ = 0.0, w_hi_ = 0.0;
  DecayTable decay_;
  double rate_decay_ = 1.0;
  std::vector<Block> blocks_;
  std::vector<LazyTrace> post_;         // per target neuron; each block writes its range
  std::vector<std::int64_t> post_mark_; // step of each target's last spike
};

} // namespace glia
