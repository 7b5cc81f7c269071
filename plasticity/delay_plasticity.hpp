// Delay plasticity (MODELS.md "Learnable delays", ours): every synapse's delay moves
// its spikes' arrival toward the post-synaptic spike,
//     Delta d_ij = +eta (t_post - t_arrival),   t_arrival = t_pre + d_ij,
// for pairs with |t_post - t_arrival| <= window. A spike that arrives before the post
// spike gets a longer delay, one that arrives after it a shorter one, so the inputs
// that drive a neuron converge to arrive together, in the step it fires. (MODELS.md
// writes the update with a minus sign; with t_post - t_arrival > 0 that would shorten
// the delay of an early spike and move it further from the post spike, so we use the
// sign that does what the rule is for.)
//
// Delays are whole steps (the synapse's uint16). The change of each pairing, in steps,
// is added to a per-synapse remainder (float); the delay moves by the whole steps of
// the remainder (toward zero) and keeps the fraction, so a small eta still moves
// delays, after several pairings. Delays stay within [1 step, max_delay], the
// projection's `max_delay` key, which sizes the ring buffers; at a bound the remainder
// is dropped, so that it does not wind up. Spikes in flight keep the delay they were
// sent with: the ring buffer holds them at emission + delay, and the rule reads each
// synapse's delay at its last emission for the arrival time, not the current one.
//
// Pairing: a post spike pairs with the most recent spike each input emitted up to and
// including that step (arrived, or still in flight); an input spike emitted after the
// target's last post spike pairs with that post spike. Each pre/post pair counts once.
// From `learn_until` on, delays are frozen.
#pragma once

#include "plasticity/rule.hpp"
#include "sim/plasticity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace glia {

class DelayPlasticityEngine;

struct DelayPlasticity {
  static constexpr std::string_view name = "delay_plasticity";
  static constexpr std::string_view doc =
      "per-synapse delays moved toward arrival with the post spike: Delta d = eta (t_post - "
      "t_arrival), whole steps, within [dt, max_delay]";

  enum P { eta, window, learn_until };
  static constexpr ParamSpec params[] = {
      {"eta", "1", kRequired, kPositive,
       "fraction of the lag (t_post - t_arrival) by which a pairing moves the delay"},
      {"window", "ms", 20.0, kPositive, "pairs with |t_post - t_arrival| above this are ignored"},
      {"learn_until", "ms", kInf, kNonNegative, "delays are frozen from this time on"},
  };
  static constexpr bool on_arrival = false;
  using Engine = DelayPlasticityEngine;

  static std::string check(const PlasticityUse& u) {
    if (u.max_delay <= 0)
      return "rule 'delay_plasticity' needs the projection's 'max_delay' (ms): the longest "
             "delay the rule may set, which sizes the ring buffers";
    if (u.delay_max > u.max_delay * (1 + 1e-12)) {
      char msg[160];
      std::snprintf(msg, sizeof msg,
                    "the initial delays (up to %g ms) exceed the projection's max_delay (%g ms)",
                    u.delay_max, u.max_delay);
      return msg;
    }
    return "";
  }
};

class DelayPlasticityEngine final : public Plasticity {
public:
  explicit DelayPlasticityEngine(const PlasticitySetup& s)
      : eta_(s.params[DelayPlasticity::eta]),
        window_(
            static_cast<std::int64_t>(std::floor(s.params[DelayPlasticity::window] / s.dt + 1e-9))),
        until_(s.params[DelayPlasticity::learn_until]), dt_(s.dt) {}

  void attach(Projection& proj, std::uint32_t n_pre, std::uint32_t n_post) override {
    max_ = proj.max_delay; // at least every initial delay (the ring buffers hold them all)
    n_pre_ = n_pre;
    last_post_.assign(n_post, -1);
    blocks_.resize(proj.blocks.size());
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
      SynapseBlock& sb = proj.blocks[b];
      Block& pb = blocks_[b];
      if (proj.constant_delay) sb.delay.assign(sb.size(), proj.delay);
      pb.sent = sb.delay;
      pb.rest.assign(sb.size(), 0.0f);
      pb.last_pre.assign(n_pre, -1);
      pb.row = sb.row;
      pb.post.build(sb, n_pre);
    }
    proj.constant_delay = false;
  }

  bool delivers_on_arrival() const override { return false; }
  void arrive(Projection&, std::uint64_t, std::size_t, const StepSpikes&, double*) override {}
  void settle(Projection&, std::size_t) override {} // delays are always current

  // This step's input spikes were propagated with the current delays (phase 4): note
  // them, then pair each with its target's last post spike, which came earlier.
  void pre_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                  const StepSpikes& spikes) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const bool learn = !frozen(step);
    const auto e = static_cast<std::int64_t>(step);
    spikes.for_each([&](std::uint32_t j) {
      pb.last_pre[j] = e;
      for (std::uint64_t s = sb.row[j]; s < sb.row[j + 1]; ++s) {
        pb.sent[s] = sb.delay[s];
        const std::int64_t post = last_post_[sb.target[s]];
        if (learn && post >= 0) pair(sb, pb, s, post - (e + sb.delay[s]));
      }
    });
  }

  void post_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                   const std::vector<std::uint32_t>& spikes) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const auto p = static_cast<std::int64_t>(step);
    if (!frozen(step))
      for (std::uint32_t i : spikes) {
        const std::uint32_t li = i - sb.target_lo;
        for (std::uint32_t k = pb.post.row[li]; k < pb.post.row[li + 1]; ++k) {
          const std::int64_t e = pb.last_pre[pb.post.src[k]];
          const std::uint32_t s = pb.post.syn[k];
          if (e >= 0) pair(sb, pb, s, p - (e + pb.sent[s]));
        }
      }
    for (std::uint32_t i : spikes) last_post_[i] = p;
  }

  // Per-synapse state in (source, target) order and one copy of the per-source steps:
  // the same archive for any thread count.
  void save(StateArchive& ar, const std::string& prefix) const override {
    std::vector<std::uint16_t> sent;
    std::vector<double> rest;
    for_each_synapse(*this, [&](const Block& pb, std::uint64_t s) {
      sent.push_back(pb.sent[s]);
      rest.push_back(pb.rest[s]);
    });
    ar.put(prefix + "sent_delay", sent);
    ar.put(prefix + "remainder", rest);
    ar.put(prefix + "last_pre",
           blocks_.empty() ? std::vector<std::int64_t>{} : blocks_[0].last_pre);
    ar.put(prefix + "last_post", last_post_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    std::size_t n = 0;
    for (const Block& pb : blocks_) n += pb.sent.size();
    std::vector<std::uint16_t> sent(n);
    std::vector<double> rest(n);
    ar.get_into(prefix + "sent_delay", sent);
    ar.get_into(prefix + "remainder", rest);
    std::size_t k = 0;
    for_each_synapse(*this, [&](Block& pb, std::uint64_t s) {
      pb.sent[s] = sent[k];
      pb.rest[s] = static_cast<float>(rest[k++]);
    });
    for (Block& pb : blocks_) ar.get_into(prefix + "last_pre", pb.last_pre);
    ar.get_into(prefix + "last_post", last_post_);
  }

  std::size_t bytes() const override {
    std::size_t n = last_post_.capacity() * sizeof(std::int64_t);
    for (const Block& pb : blocks_)
      n += pb.sent.capacity() * sizeof(std::uint16_t) + pb.rest.capacity() * sizeof(float) +
           (pb.last_pre.capacity() + pb.row.capacity()) * sizeof(std::int64_t) + pb.post.bytes();
    return n;
  }

private:
  struct Block {
    TransposedIndex post;               // the block's synapses by target
    std::vector<std::uint16_t> sent;    // per synapse: the delay its last spike travelled with
    std::vector<float> rest;            // per synapse: fraction of a step not yet moved
    std::vector<std::int64_t> last_pre; // per source: step of its last spike (this thread's copy)
    std::vector<std::uint64_t> row;     // the block's row offsets (for saving in a fixed order)
  };

  // f(block, synapse) in (source, target) order: sources, then blocks (target ranges).
  template <class Self, class F> static void for_each_synapse(Self& self, F&& f) {
    for (std::size_t j = 0; j < self.n_pre_; ++j)
      for (auto& pb : self.blocks_)
        for (std::uint64_t s = pb.row[j]; s < pb.row[j + 1]; ++s) f(pb, s);
  }

  bool frozen(std::uint64_t step) const {
    return static_cast<double>(step + 1) * dt_ > until_ + 1e-9 * dt_;
  }

  // One pairing of synapse s at `lag` = post step - arrival step.
  void pair(SynapseBlock& sb, Block& pb, std::uint64_t s, std::int64_t lag) {
    if (lag > window_ || -lag > window_) return;
    float& r = pb.rest[s];
    r += static_cast<float>(eta_ * static_cast<double>(lag));
    const float whole = std::trunc(r);
    if (whole == 0.0f) return;
    r -= whole;
    const std::int64_t d =
        static_cast<std::int64_t>(sb.delay[s]) + static_cast<std::int64_t>(whole);
    const std::int64_t bounded = std::clamp<std::int64_t>(d, 1, max_);
    if (bounded != d) r = 0.0f;
    sb.delay[s] = static_cast<std::uint16_t>(bounded);
  }

  double eta_;
  std::int64_t window_; // steps
  double until_, dt_;
  std::uint16_t max_ = 1;
  std::size_t n_pre_ = 0;
  std::vector<Block> blocks_;
  std::vector<std::int64_t> last_post_; // per post neuron; each block writes its own range
};

} // namespace glia
