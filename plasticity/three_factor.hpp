// Three-factor rule (MODELS.md "Three-factor Hebbian rules"; Izhikevich 2007): each
// synapse keeps an eligibility trace e that a Hebbian term feeds and that decays with
// tau_e; a modulator M (reward, error, ...) and an optional attention gate G turn it
// into weight changes:
//   e <- e exp(-dt / tau_e) + term,    dw/dt = eta M G e,    w clipped to [w_min, w_max].
// Terms (pre trace x, tau_plus; post trace y, tau_minus; both jump by 1, or reset to 1
// with pairing = "nearest" as in Izhikevich's daspnet.m):
//   stdp:    pre arrival  e -= A_minus y;   post spike  e += A_plus x   (pair STDP)
//   hebbian: pre arrival  e += A_minus y;   post spike  e += A_plus x   (either order)
//   pre:     pre arrival  e += A_plus                 (with an error modulator: delta rule)
// The weights change every `update_interval` (0: every step) by the Euler step of dw/dt
// over the interval, w += eta M G e T with M, G and e taken at the update (Izhikevich
// updates every 10 ms); e itself decays exactly in continuous time, events included
// (ours: an increment at step s enters the update at u scaled by exp(-(u - s) dt / tau_e)).
// A per-neuron modulator (error) gives each synapse M of its post-synaptic neuron.
//
// Engine: pre events are handled on arrival (one delay per projection), weights kept in
// double (increments are ~1e-5 of w and would round away in float) and delivered from
// there, as sim/plasticity.hpp does for STDP. Each thread block owns its synapses, their
// traces and the post traces of its targets, plus its own copy of the pre traces;
// modulators are read only. Results do not depend on the thread count.
#pragma once

#include "plasticity/modulator.hpp"
#include "plasticity/rule.hpp"
#include "sim/plasticity.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

class ThreeFactorEngine;

struct ThreeFactor {
  static constexpr std::string_view name = "three_factor";
  static constexpr std::string_view doc =
      "eligibility traces (STDP or Hebbian) turned into weight changes by a modulator and an "
      "optional attention gate: dw/dt = eta M G e";
  enum P { eta, tau_e, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, update_interval };
  static constexpr ParamSpec params[] = {
      {"eta", "1/ms", 1.0, kAny, "learning rate: dw/dt = eta M G e"},
      {"tau_e", "ms", 1000.0, kPositive, "decay time constant of the eligibility trace"},
      {"tau_plus", "ms", 20.0, kPositive, "time constant of the pre trace"},
      {"tau_minus", "ms", 20.0, kPositive, "time constant of the post trace"},
      {"A_plus", "1", 1.0, kNonNegative, "eligibility per post spike (times the pre trace)"},
      {"A_minus", "1", 1.5, kNonNegative, "eligibility per pre arrival (times the post trace)"},
      {"w_min", "w", 0.0, kAny, "lower weight bound"},
      {"w_max", "w", 1.0, kAny, "upper weight bound"},
      {"update_interval", "ms", 0.0, kNonNegative,
       "weights change every this long (0: every step)"},
  };
  static constexpr std::string_view term_choices[] = {"stdp", "hebbian", "pre"};
  static constexpr std::string_view pairing_choices[] = {"all_to_all", "nearest"};
  enum O { term, pairing };
  static constexpr OptionSpec options[] = {
      {"term", term_choices,
       "what feeds the eligibility: pair STDP, Hebbian coincidence, or "
       "pre-synaptic arrivals only"},
      {"pairing", pairing_choices, "all_to_all: traces add up; nearest: traces reset to 1"},
  };
  static constexpr std::string_view gate_types[] = {"attention"};
  enum R { modulator, gate };
  static constexpr RefSpec refs[] = {
      {"modulator", "modulator", true, "the [[modulator]] whose signal M scales the changes"},
      {"gate", "modulator", false, "an attention [[modulator]] G in [0, 1] multiplying M",
       gate_types},
  };
  using Engine = ThreeFactorEngine;

  static std::string check(const PlasticityUse& u) {
    const double* p = u.params;
    if (p[w_min] > p[w_max]) return "'w_min' must not exceed 'w_max'";
    const double k = p[update_interval] / u.dt;
    if (p[update_interval] > 0 && (k < 1 - 1e-9 || std::fabs(k - std::round(k)) > 1e-9 * k))
      return "'update_interval' must be a multiple of the time step dt";
    if (p[update_interval] > 100 * p[tau_e]) return "'update_interval' must not exceed 100 tau_e";
    return "";
  }
};

class ThreeFactorEngine final : public Plasticity {
public:
  using T = ThreeFactor;
  explicit ThreeFactorEngine(const PlasticitySetup& s)
      : term_(s.options[T::term]), nearest_(s.options[T::pairing] == 1),
        a_plus_(s.params[T::A_plus]), a_minus_(s.params[T::A_minus]), w_min_(s.params[T::w_min]),
        w_max_(s.params[T::w_max]), dt_(s.dt), tau_e_(s.params[T::tau_e]),
        pre_decay_(s.dt, s.params[T::tau_plus]), post_decay_(s.dt, s.params[T::tau_minus]),
        mod_(s.refs.at(T::modulator)), gate_(s.refs.at(T::gate)) {
    if (!mod_) throw std::invalid_argument("'modulator' names no modulator");
    every_ = s.params[T::update_interval] > 0
                 ? static_cast<std::uint64_t>(std::llround(s.params[T::update_interval] / s.dt))
                 : 1;
    rate_ = s.params[T::eta] * static_cast<double>(every_) * s.dt;
    decay_ = std::exp(-static_cast<double>(every_) * s.dt / tau_e_);
    up_.resize(every_ + 1);
    for (std::uint64_t k = 0; k <= every_; ++k)
      up_[k] = std::exp(static_cast<double>(k) * s.dt / tau_e_);
  }

  void attach(Projection& proj, std::uint32_t n_pre, std::uint32_t n_post) override {
    if (mod_->population() >= 0 && mod_->population() != proj.post)
      throw std::invalid_argument("modulator '" + mod_->name() +
                                  "' is a per-neuron signal of another population than the "
                                  "projection's post-synaptic one");
    per_neuron_ = mod_->population() >= 0;
    post_.assign(term_ == kPre ? 0 : n_post, LazyTrace{});
    blocks_.resize(proj.blocks.size());
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
      SynapseBlock& sb = proj.blocks[b];
      Block& pb = blocks_[b];
      take_weights(proj, sb);
      pb.e.assign(sb.size(), 0.0);
      pb.gain.assign(sb.target_hi - sb.target_lo, 0.0);
      pb.row = sb.row;
      if (term_ == kPre) continue;
      pb.pre.assign(n_pre, LazyTrace{});
      pb.post.build(sb, n_pre);
    }
  }

  void arrive(Projection& proj, std::uint64_t step, std::size_t b, const StepSpikes& arriving,
              double* slot) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const double* w = sb.plastic_weight.data();
    double* e = pb.e.data();
    const std::uint32_t* tgt = sb.target.data();
    const double up = up_[step % every_ + 1];
    if (term_ == kPre) {
      const double a = a_plus_ * up;
      arriving.for_each([&](std::uint32_t j) {
        for (std::uint64_t s = sb.row[j]; s < sb.row[j + 1]; ++s) {
          slot[tgt[s]] += w[s];
          e[s] += a;
        }
      });
      return;
    }
    const double a = (term_ == kStdp ? -a_minus_ : a_minus_) * up;
    arriving.for_each([&](std::uint32_t j) {
      for (std::uint64_t s = sb.row[j]; s < sb.row[j + 1]; ++s) {
        const std::uint32_t i = tgt[s];
        slot[i] += w[s];
        e[s] += a * post_[i].now(step, post_decay_);
      }
      LazyTrace& x = pb.pre[j];
      x.value = nearest_ ? 1.0 : x.now(step, pre_decay_) + 1.0;
      x.at = static_cast<std::int64_t>(step);
    });
  }

  void post_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                   const std::vector<std::uint32_t>& spikes) override {
    if (term_ == kPre) return;
    const SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const double a = a_plus_ * up_[step % every_ + 1];
    for (std::uint32_t i : spikes) {
      LazyTrace& y = post_[i];
      y.value = nearest_ ? 1.0 : y.now(step, post_decay_) + 1.0;
      y.at = static_cast<std::int64_t>(step);
      const std::uint32_t li = i - sb.target_lo;
      for (std::uint32_t k = pb.post.row[li]; k < pb.post.row[li + 1]; ++k)
        pb.e[pb.post.syn[k]] += a * pb.pre[pb.post.src[k]].now(step, pre_decay_);
    }
  }

  bool wants_end_step() const override { return true; }
  void end_step(Projection& proj, std::uint64_t step, std::size_t b) override {
    if ((step + 1) % every_ != 0) return;
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const double g = gate_ ? gate_->value() : 1.0;
    double* w = sb.plastic_weight.data();
    double* e = pb.e.data();
    const std::size_t n = sb.size();
    const double lo = w_min_, hi = w_max_, decay = decay_;
    if (per_neuron_) {
      for (std::uint32_t i = sb.target_lo; i < sb.target_hi; ++i)
        pb.gain[i - sb.target_lo] = rate_ * g * mod_->value(i);
      const double* gain = pb.gain.data() - sb.target_lo;
      const std::uint32_t* tgt = sb.target.data();
      for (std::size_t s = 0; s < n; ++s) {
        const double es = e[s] * decay;
        e[s] = es;
        const double v = w[s] + gain[tgt[s]] * es;
        w[s] = v < lo ? lo : (v > hi ? hi : v);
      }
      return;
    }
    const double c = rate_ * g * mod_->value();
    for (std::size_t s = 0; s < n; ++s) {
      const double es = e[s] * decay;
      e[s] = es;
      const double v = w[s] + c * es;
      w[s] = v < lo ? lo : (v > hi ? hi : v);
    }
  }

  // Weights change only at updates: nothing is pending between them.
  void settle(Projection&, std::size_t) override {}

  // The eligibility of synapse s of block b after step `step` (for tests and monitors).
  double eligibility(std::size_t b, std::size_t s, std::uint64_t step) const {
    const double e = blocks_[b].e[s];
    if ((step + 1) % every_ == 0) return e;
    return e * std::exp(-static_cast<double>(step % every_ + 1) * dt_ / tau_e_);
  }

  // Eligibilities in the canonical synapse order (by source, then block) and one copy of
  // the pre traces (every block's copy saw the same arrivals): the same archive for any
  // thread count.
  void save(StateArchive& ar, const std::string& prefix) const override {
    std::vector<double> e, value;
    std::vector<std::int64_t> at;
    for_each_synapse([&](const Block& pb, std::uint64_t s) { e.push_back(pb.e[s]); });
    auto put = [&](const LazyTrace& x) {
      value.push_back(x.value);
      at.push_back(x.at);
    };
    if (!blocks_.empty())
      for (const LazyTrace& x : blocks_.front().pre) put(x);
    for (const LazyTrace& y : post_) put(y);
    ar.put(prefix + "eligibility", e);
    ar.put(prefix + "trace_value", value);
    ar.put(prefix + "trace_at", at);
  }

  void load(const StateArchive& ar, const std::string& prefix) override {
    std::size_t n_syn = 0;
    for (const Block& pb : blocks_) n_syn += pb.e.size();
    const std::size_t n_pre = blocks_.empty() ? 0 : blocks_.front().pre.size();
    std::vector<double> e(n_syn), value(n_pre + post_.size());
    std::vector<std::int64_t> at(value.size());
    ar.get_into(prefix + "eligibility", e);
    ar.get_into(prefix + "trace_value", value);
    ar.get_into(prefix + "trace_at", at);
    std::size_t k = 0;
    for_each_synapse([&](Block& pb, std::uint64_t s) { pb.e[s] = e[k++]; });
    for (Block& pb : blocks_)
      for (std::size_t j = 0; j < n_pre; ++j) pb.pre[j] = LazyTrace{value[j], at[j]};
    for (std::size_t i = 0; i < post_.size(); ++i)
      post_[i] = LazyTrace{value[n_pre + i], at[n_pre + i]};
  }

  std::size_t bytes() const override {
    std::size_t n = post_.capacity() * sizeof(LazyTrace);
    for (const Block& pb : blocks_)
      n += (pb.e.capacity() + pb.gain.capacity()) * sizeof(double) +
           pb.pre.capacity() * sizeof(LazyTrace) + pb.post.bytes() +
           pb.row.capacity() * sizeof(std::uint64_t);
    return n;
  }

private:
  enum Term { kStdp, kHebbian, kPre };
  struct Block {
    // Eligibility per synapse (row order), scaled to the start of the current update
    // interval: the value at the interval's end is e * exp(-interval / tau_e).
    std::vector<double> e;
    std::vector<double> gain;       // per target, per-neuron modulators: eta T G M_i
    std::vector<LazyTrace> pre;     // this thread's copy of the pre traces
    TransposedIndex post;           // the block's synapses by target
    std::vector<std::uint64_t> row; // the block's row offsets (for saving in a fixed order)
  };

  // f(block, synapse) in an order that does not depend on the block split: by source,
  // then block, then row order (sim/network_state.hpp's canonical order).
  template <class Self, class F> static void for_each_synapse_of(Self& self, F&& f) {
    if (self.blocks_.empty()) return;
    const std::size_t n_pre = self.blocks_.front().row.size() - 1;
    for (std::size_t j = 0; j < n_pre; ++j)
      for (auto& pb : self.blocks_)
        for (std::uint64_t s = pb.row[j]; s < pb.row[j + 1]; ++s) f(pb, s);
  }
  template <class F> void for_each_synapse(F&& f) const { for_each_synapse_of(*this, f); }
  template <class F> void for_each_synapse(F&& f) { for_each_synapse_of(*this, f); }

  int term_;
  bool nearest_;
  double a_plus_, a_minus_, w_min_, w_max_, dt_, tau_e_;
  DecayTable pre_decay_, post_decay_;
  Modulator* mod_;
  Modulator* gate_;
  bool per_neuron_ = false;
  std::uint64_t every_ = 1; // steps between weight updates
  double rate_ = 0.0;       // eta * update interval (ms)
  double decay_ = 1.0;      // exp(-interval / tau_e)
  std::vector<double> up_;  // up_[k] = exp(k dt / tau_e), k = 0..every_
  std::vector<Block> blocks_;
  std::vector<LazyTrace> post_; // per target neuron; each block writes its own range
};

} // namespace glia
