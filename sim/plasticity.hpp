// Plasticity on a projection: the engine side of the rules in plasticity/. A plastic
// projection keeps its weights in double, one per synapse, a transposed index per
// target block (post neuron -> its synapses) for post-synaptic events, per-source pre
// traces and per-target post traces. Traces are advanced lazily: each stores its value
// at the step of its last event, and is decayed to "now" when read, by a table of
// exp(-k dt / tau) (exact values, not repeated products).
//
// Threading follows the engine's rule: the thread that owns a target block owns every
// synapse into it and the post traces of its neurons. Each thread keeps its own copy of
// the pre traces, updated by the same arrivals in the same order, so no state is shared.
// Pre-synaptic spikes are processed when they arrive (emission step + delay): their
// weight goes into the ring slot of that step, then the rule's on_pre acts; post spikes
// are processed after the step's propagation.
#pragma once

#include "plasticity/rule.hpp"
#include "sim/huge_pages.hpp"
#include "sim/projection.hpp"
#include "sim/state_archive.hpp"
#include "sim/step_spikes.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace glia {

class Plasticity {
public:
  virtual ~Plasticity() = default;
  // Takes the projection's synapses over: weights to double, transposed index, traces.
  virtual void attach(Projection& proj, std::uint32_t n_pre, std::uint32_t n_post) = 0;
  // Phase 1 of step `step`, block b: `arriving` were emitted `delay` steps earlier.
  virtual void arrive(Projection& proj, std::uint64_t step, std::size_t b,
                      const StepSpikes& arriving, double* slot) = 0;
  // After propagation of step `step`: the post-synaptic spikes of block b.
  virtual void post_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                           const std::vector<std::uint32_t>& spikes) = 0;
  // Brings every weight of block b up to date (pending post-synaptic updates applied),
  // so that the weights can be read; the simulator calls it at the end of each run.
  virtual void settle(Projection& proj, std::size_t b) = 0;
  // The same for the synapses into the given targets of block b only (weight monitors of
  // chosen synapses). Applying pending updates early never changes a later weight.
  virtual void settle_targets(Projection& proj, std::size_t b,
                              const std::vector<std::uint32_t>& /*targets*/) {
    settle(proj, b);
  }
  virtual std::size_t bytes() const = 0;

  // Rules whose pre events are not handled on arrival (PlasticityInfo::on_arrival false)
  // return false: the simulator then propagates the projection like a static one, from
  // the block's weight and delay arrays (which the rule may change), and arrive() is not
  // called.
  virtual bool delivers_on_arrival() const { return true; }
  // Learn phase of step `step`, before post_spikes: the spikes the pre population emitted
  // in this step, for the synapses of block b (rules that do not deliver on arrival).
  virtual void pre_spikes(Projection&, std::uint64_t, std::size_t, const StepSpikes&) {}
  // Learn phase, after post_spikes, every step: periodic work (weight updates from
  // eligibility traces, rate windows). Only called when wants_end_step().
  virtual bool wants_end_step() const { return false; }
  virtual void end_step(Projection&, std::uint64_t, std::size_t) {}

  // Learning rates that fade over a run: every change the rule makes at step t is
  // multiplied by per_step^t (NALSM's published code multiplies its rates by 0.99 every
  // step of a feature window, restoring them per sample). Returns whether the rule can;
  // a rule without it accepts only 1.
  virtual bool set_rate_decay(double per_step) { return per_step == 1.0; }

  // Checkpoints: the rule's own state under keys starting with `prefix` (the weights and
  // delays themselves belong to the projection and are saved with it). load() receives
  // a network built from the same experiment, attached, and must restore exactly.
  // The network may have been built with another thread count: save nothing per thread
  // block (per-block copies or per-block synapse order; for_each_synapse_canonical in
  // sim/network_state.hpp gives a synapse order that does not depend on the split).
  virtual void save(StateArchive& ar, const std::string& prefix) const = 0;
  virtual void load(const StateArchive& ar, const std::string& prefix) = 0;
};

// Moves a block's weights into plastic_weight (double), whatever their representation.
inline void take_weights(const Projection& proj, SynapseBlock& sb) {
  std::vector<double> w;
  reserve_on_huge_pages(w, sb.size());
  w.resize(sb.size());
  for (std::size_t s = 0; s < sb.size(); ++s) w[s] = proj.weight_of(sb, s);
  sb.plastic_weight = std::move(w);
  std::vector<float>().swap(sb.weight);
}

// exp(-k dt / tau) for k steps: tabulated for the common short lags, computed beyond.
class DecayTable {
public:
  DecayTable() = default;
  DecayTable(double dt, double tau) : dt_(dt), tau_(tau), table_(kSize) {
    for (std::size_t k = 0; k < kSize; ++k)
      table_[k] = std::exp(-static_cast<double>(k) * dt / tau);
  }
  double operator()(std::uint64_t k) const {
    return k < kSize ? table_[k] : std::exp(-static_cast<double>(k) * dt_ / tau_);
  }

  const double* data() const { return table_.data(); } // entries [0, kSize)
  static constexpr std::size_t kSize = 4096;

private:
  double dt_ = 0.1, tau_ = 1.0;
  std::vector<double> table_;
};

// A lazily decayed trace: its value right after its last event at step `at`.
struct LazyTrace {
  double value = 0.0;
  std::int64_t at = -1; // no event yet: the trace is 0
  double now(std::uint64_t step, const DecayTable& decay) const {
    return at < 0 ? 0.0 : value * decay(step - static_cast<std::uint64_t>(at));
  }
};

// The synapses of a block by target: for target lo + i, entries row[i] .. row[i + 1] - 1,
// in (source, row) order, each the synapse's position in the block and its source.
struct TransposedIndex {
  std::vector<std::uint32_t> row, syn, src;
  void build(const SynapseBlock& sb, std::uint32_t n_pre) {
    const std::uint32_t lo = sb.target_lo, n_local = sb.target_hi - sb.target_lo;
    row.assign(n_local + 1, 0);
    for (std::uint32_t t : sb.target) ++row[t - lo + 1];
    for (std::uint32_t i = 0; i < n_local; ++i) row[i + 1] += row[i];
    syn.resize(sb.size());
    src.resize(sb.size());
    std::vector<std::uint64_t> fill(row.begin(), row.end() - 1);
    for (std::uint32_t j = 0; j < n_pre; ++j)
      for (std::uint64_t s = sb.row[j]; s < sb.row[j + 1]; ++s) {
        const std::uint64_t at = fill[sb.target[s] - lo]++;
        syn[at] = static_cast<std::uint32_t>(s);
        src[at] = j;
      }
  }
  std::size_t bytes() const {
    return (row.capacity() + syn.capacity() + src.capacity()) * sizeof(std::uint32_t);
  }
};

// The post-synaptic side of one neuron, in one cache line: its lazy trace and its
// recent spikes that some incoming synapse may not have seen yet. A synapse applies the
// rule's on_post for the spikes at or after its source's last arrival when that source
// next fires (NEST's archiving scheme). This keeps every weight update inside the
// sequential walk of a source's row, instead of a scattered walk over a target's inputs
// at every post spike.
struct alignas(32) PostState {
  static constexpr std::uint32_t kCapacity = 8;
  // The largest distance an entry keeps (6.5 s at 0.1 ms steps): older entries are
  // applied to the synapses still waiting for them before a spike would push them past it.
  static constexpr std::int64_t kFar = 0xffff;
  LazyTrace y; // the post trace; y.at is the newest spike's step
  // Older pending spikes as distances back from the newest (newest first), in 16 bits so
  // that eight spikes fit in 32 bytes: the states of a 10 000-neuron population stay in
  // the L2 cache, and a full history (which costs a walk over the target's synapses)
  // comes every fourth spike rather than every second.
  std::uint16_t back[kCapacity - 1] = {};
  std::uint16_t count = 0; // pending entries: the `count` most recent spikes
  // Entry k in time order, 0 the oldest pending one.
  std::int64_t at(std::uint32_t k) const {
    const std::uint32_t r = count - 1 - k;
    return r == 0 ? y.at : y.at - back[r - 1];
  }
  std::int64_t newest() const { return count ? y.at : -1; }
  // How many of the oldest entries a spike at `step` would push further back than kFar.
  std::uint32_t too_far(std::int64_t step) const {
    if (count == 0) return 0;
    const std::int64_t gap = step - y.at;
    std::uint32_t n = 0;
    for (std::uint32_t r = count; r-- > 0 && (r ? back[r - 1] : 0) + gap > kFar;) ++n;
    return n;
  }
  // Records a spike at `step`; there must be room, and no entry may end up beyond kFar.
  void push(std::int64_t step) {
    const std::uint16_t d = count ? static_cast<std::uint16_t>(step - y.at) : 0;
    for (std::uint32_t k = count > 1 ? count - 1 : 0; k > 0; --k)
      back[k] = static_cast<std::uint16_t>(back[k - 1] + d);
    back[0] = d;
    ++count;
    y.at = step;
  }
};
static_assert(sizeof(PostState) == 32);

// The targets as arrive() sees them at one step, one array per field: each target's
// post trace, and how many steps ago its newest, second and third newest pending
// spikes came (kNever: no such spike). Ages saturate at kFarthest, so they compare
// exactly with any nearer arrival. Separate arrays rather than one record per target:
// a row's targets are sorted and close together (Brunel: 1 in 10), so the ages of
// neighbouring targets share cache lines.
struct PostNow {
  static constexpr std::uint32_t kNever = 0xffffffff, kFarthest = kNever - 1;
  std::vector<double> y;
  std::vector<std::uint32_t> newest, second, third;

  void assign(std::size_t n) {
    y.assign(n, 0.0);
    newest.assign(n, kNever);
    second.assign(n, kNever);
    third.assign(n, kNever);
  }
  std::size_t bytes() const {
    return y.capacity() * sizeof(double) +
           (newest.capacity() + second.capacity() + third.capacity()) * sizeof(std::uint32_t);
  }
  // Steps from `at` back to `step` (at <= step), saturated at kFarthest.
  static std::uint32_t age(std::uint64_t step, std::int64_t at) {
    const std::uint64_t d = step - static_cast<std::uint64_t>(at);
    return d < kFarthest ? static_cast<std::uint32_t>(d) : kFarthest;
  }
};

template <class R> class PlasticityOf final : public Plasticity {
public:
  using Config = typename R::Config;
  PlasticityOf(const Config& cfg, double dt)
      : cfg_(cfg), pre_decay_(dt, cfg.tau_pre), post_decay_(dt, cfg.tau_post) {}
  const Config& config() const { return cfg_; }

  void attach(Projection& proj, std::uint32_t n_pre, std::uint32_t n_post) override {
    post_.assign(n_post, PostState{});
    now_.assign(n_post);
    blocks_.resize(proj.blocks.size());
    for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
      SynapseBlock& sb = proj.blocks[b];
      Block& pb = blocks_[b];
      take_weights(proj, sb);
      pb.pre.assign(n_pre, LazyTrace{});
      pb.post.build(sb, n_pre);
      std::uint64_t longest = 0;
      for (std::uint32_t j = 0; j < n_pre; ++j)
        longest = std::max(longest, sb.row[j + 1] - sb.row[j]);
      // Room for a whole vector past the last entry: the sorting pass stores 16 lanes
      // wherever a list ends.
      const std::size_t room = longest + kSortLanes;
      pb.once.assign(room, 0);
      pb.twice.assign(room, 0);
      pb.more.assign(room, 0);
      pb.lag1.assign(room, 0);
    }
  }

  void arrive(Projection& proj, std::uint64_t step, std::size_t b, const StepSpikes& arriving,
              double* slot) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    double* w = sb.plastic_weight.data();
    const std::uint32_t* tgt = sb.target.data();
    if (arriving.count() == 0) return;
    // The post traces at this step, once per target rather than once per synapse: a
    // target is reached by several arrivals in a step (Brunel: 2.5), and the decay is a
    // dependent table lookup in the inner loop otherwise. The same value either way.
    // The same pass keeps, per target, the ages of its three newest pending spikes: all
    // that catch_up_row needs to sort a row's synapses.
    see_targets(sb.target_lo, sb.target_hi, step);
    double* const y = now_.y.data();
    auto arrive_one = [&](std::uint32_t j) {
      // A local copy of the rule's parameters, in this function (the lambda's own body):
      // stores through w and slot cannot alias it, so it stays in registers. Through a
      // member, or a capture, each was reloaded per synapse.
      const Config c = cfg_;
      LazyTrace& x = pb.pre[j];
      const LazyTrace before = x; // pending post spikes pair with the trace before this arrival
      const std::uint64_t begin = sb.row[j], end = sb.row[j + 1];
      if (before.at >= 0) catch_up_row(w, tgt, begin, end, pb, before, step, c);
      for (std::uint64_t s = begin; s < end; ++s) {
        const std::uint32_t i = tgt[s];
        double ws = w[s];
        slot[i] += ws;
        R::on_pre(ws, y[i], c);
        w[s] = ws;
      }
      x.value = R::pre_trace(before.now(step, pre_decay_), cfg_);
      x.at = static_cast<std::int64_t>(step);
    };
    // The sources in a list first, so that each row's head is fetched while the row
    // before it is worked on, as in static delivery: otherwise a row's first targets
    // come with a wait on memory (the largest single cost of the sorting pass).
    std::vector<std::uint32_t>& order = pb.arrivals;
    order.clear();
    arriving.for_each([&](std::uint32_t j) { order.push_back(j); });
    for (std::size_t q = 0; q < order.size(); ++q) {
      if (q + 1 < order.size()) sb.prefetch_row(order[q + 1]);
      arrive_one(order[q]);
    }
  }

  void post_spikes(Projection& proj, std::uint64_t step, std::size_t b,
                   const std::vector<std::uint32_t>& spikes) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    for (std::uint32_t i : spikes) {
      PostState& h = post_[i];
      // A full history: the older half goes to the synapses still waiting for it now; so
      // do entries this spike would push too far back.
      std::uint32_t n = h.too_far(static_cast<std::int64_t>(step));
      if (h.count == PostState::kCapacity) n = std::max(n, PostState::kCapacity / 2);
      settle(sb, pb, i, n);
      h.y.value = R::post_trace(h.y.now(step, post_decay_), cfg_);
      h.push(static_cast<std::int64_t>(step));
    }
  }

  void settle(Projection& proj, std::size_t b) override {
    SynapseBlock& sb = proj.blocks[b];
    Block& pb = blocks_[b];
    const auto lo = post_.begin() + sb.target_lo, hi = post_.begin() + sb.target_hi;
    if (std::none_of(lo, hi, [](const PostState& h) { return h.count > 0; })) return;
    // In row order, as arrive() applies them, and sorted by catch_up_row as there: a
    // sequential walk of the synapses with the block's targets in cache, several times
    // faster than target by target through the transposed index. Sorting, rather than a
    // branch per synapse, cut the record phase of experiments/brunel_stdp.toml (weight
    // monitors settle every weight before a histogram) by 30-50 %. Each synapse sees the
    // same updates in the same order. Ages are only compared, so any step at or after
    // every event serves as "now".
    double* w = sb.plastic_weight.data();
    const std::uint32_t* tgt = sb.target.data();
    const Config c = cfg_;
    std::int64_t latest = 0;
    for (auto it = lo; it != hi; ++it) latest = std::max(latest, it->y.at);
    for (const LazyTrace& x : pb.pre) latest = std::max(latest, x.at);
    const auto ref = static_cast<std::uint64_t>(latest);
    for (std::uint32_t i = sb.target_lo; i < sb.target_hi; ++i) see_target(i, ref);
    for (std::uint32_t j = 0; j + 1 < sb.row.size(); ++j) {
      const LazyTrace& x = pb.pre[j];
      if (x.at >= 0) catch_up_row(w, tgt, sb.row[j], sb.row[j + 1], pb, x, ref, c);
    }
    for (auto it = lo; it != hi; ++it) it->count = 0;
  }

  void settle_targets(Projection& proj, std::size_t b,
                      const std::vector<std::uint32_t>& targets) override {
    for (std::uint32_t i : targets) settle(proj.blocks[b], blocks_[b], i, post_[i].count);
  }

  void save(StateArchive& ar, const std::string& prefix) const override {
    // Every block's copy of the pre traces saw the same arrivals: one copy is the state.
    std::vector<double> value;
    std::vector<std::int64_t> at;
    for (const LazyTrace& x : blocks_.front().pre) {
      value.push_back(x.value);
      at.push_back(x.at);
    }
    ar.put(prefix + "pre_value", value);
    ar.put(prefix + "pre_at", at);
    std::vector<std::uint32_t> back, count;
    value.clear();
    at.clear();
    for (const PostState& h : post_) {
      value.push_back(h.y.value);
      at.push_back(h.y.at);
      // Only the distances of pending entries mean anything; the rest are saved as 0.
      for (std::uint32_t k = 0; k + 1 < PostState::kCapacity; ++k)
        back.push_back(k + 1 < h.count ? h.back[k] : 0u);
      count.push_back(h.count);
    }
    ar.put(prefix + "post_value", value);
    ar.put(prefix + "post_at", at);
    ar.put(prefix + "post_back", back);
    ar.put(prefix + "post_count", count);
  }

  void load(const StateArchive& ar, const std::string& prefix) override {
    const std::size_t n_pre = blocks_.front().pre.size();
    std::vector<double> value(n_pre);
    std::vector<std::int64_t> at(n_pre);
    ar.get_into(prefix + "pre_value", value);
    ar.get_into(prefix + "pre_at", at);
    for (auto& b : blocks_)
      for (std::size_t j = 0; j < n_pre; ++j) b.pre[j] = LazyTrace{value[j], at[j]};
    value.assign(post_.size(), 0.0);
    at.assign(post_.size(), 0);
    std::vector<std::uint32_t> back(post_.size() * (PostState::kCapacity - 1)), count(post_.size());
    ar.get_into(prefix + "post_value", value);
    ar.get_into(prefix + "post_at", at);
    ar.get_into(prefix + "post_back", back);
    ar.get_into(prefix + "post_count", count);
    for (std::size_t i = 0; i < post_.size(); ++i) {
      post_[i].y.value = value[i];
      post_[i].y.at = at[i];
      for (std::uint32_t k = 0; k + 1 < PostState::kCapacity; ++k)
        post_[i].back[k] = static_cast<std::uint16_t>(back[i * (PostState::kCapacity - 1) + k]);
      post_[i].count = static_cast<std::uint16_t>(count[i]);
    }
  }

  std::size_t bytes() const override {
    std::size_t n = post_.capacity() * sizeof(PostState) + now_.bytes();
    for (const auto& b : blocks_)
      n += b.pre.capacity() * sizeof(LazyTrace) + b.post.bytes() +
           (b.once.capacity() + b.twice.capacity() + b.more.capacity() + b.lag1.capacity()) *
               sizeof(std::uint32_t);
    return n;
  }

private:
  static constexpr std::size_t kSortLanes = 16; // catch_up_row's vectors of targets
  // A cache line of its own: a thread writes its block's list headers at every arrival,
  // and the next block's thread reads its own headers as often.
  struct alignas(64) Block {
    std::vector<LazyTrace> pre; // this thread's copy of the pre traces
    TransposedIndex post;
    // catch_up_row's lists: a row's synapses with one, two, or more post spikes to catch
    // up on
    std::vector<std::uint32_t> once, twice, more;
    std::vector<std::uint32_t> lag1;     // the one spike's lag, for the list `once`
    std::vector<std::uint32_t> arrivals; // arrive(): this step's arriving sources
  };

  // The ages in now_ of target i's three newest pending spikes, as seen at `step`.
  void see_target(std::uint32_t i, std::uint64_t step) {
    const PostState& h = post_[i];
    now_.newest[i] = h.count > 0 ? PostNow::age(step, h.y.at) : PostNow::kNever;
    now_.second[i] = h.count > 1 ? PostNow::age(step, h.y.at - h.back[0]) : PostNow::kNever;
    now_.third[i] = h.count > 2 ? PostNow::age(step, h.y.at - h.back[1]) : PostNow::kNever;
  }

  // now_ for targets [lo, hi) at `step`: the post traces, and the ages as see_target.
  void see_targets(std::uint32_t lo, std::uint32_t hi, std::uint64_t step) {
    std::uint32_t i = lo;
#if defined(__AVX512F__)
    // Eight targets at a time: their 256 bytes of PostState loaded and transposed into
    // one vector per field; the same values as the loop below, which does the rest.
    // Traces decayed for longer than the table holds are computed one by one, as there.
    static_assert(sizeof(PostState) == 32 && offsetof(PostState, back) == 16);
    const PostState* const post = post_.data();
    double* const y = now_.y.data();
    std::uint32_t* const a1 = now_.newest.data();
    std::uint32_t* const a2 = now_.second.data();
    std::uint32_t* const a3 = now_.third.data();
    const double* const table = post_decay_.data();
    const __m512i vstep = _mm512_set1_epi64(static_cast<long long>(step));
    const __m512i in_table = _mm512_set1_epi64(static_cast<long long>(DecayTable::kSize));
    const __m512i farthest = _mm512_set1_epi64(PostNow::kFarthest);
    const __m256i never = _mm256_set1_epi32(static_cast<int>(PostNow::kNever));
    const __m512i u16 = _mm512_set1_epi64(0xffff);
    // Qwords 0-3 of a PostState are value, at, back[0..3], back[4..6] + count.
    const __m512i pick_lo = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
    const __m512i pick_hi = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i low_half = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
    const __m512i high_half = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
    // (Zero-masked forms where GCC 12's plain ones read an undefined source, which
    // -Wmaybe-uninitialized reports.)
    constexpr __mmask8 all = 0xff;
    for (; i + 8 <= hi; i += 8) {
      const auto* p = reinterpret_cast<const __m512i*>(post + i);
      const __m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 1);
      const __m512i z2 = _mm512_loadu_si512(p + 2), z3 = _mm512_loadu_si512(p + 3);
      const __m512i t0 = _mm512_permutex2var_epi64(z0, pick_lo, z1); // value, at: 0-3
      const __m512i t1 = _mm512_permutex2var_epi64(z0, pick_hi, z1); // back, count: 0-3
      const __m512i t2 = _mm512_permutex2var_epi64(z2, pick_lo, z3); // value, at: 4-7
      const __m512i t3 = _mm512_permutex2var_epi64(z2, pick_hi, z3); // back, count: 4-7
      const __m512d value = _mm512_castsi512_pd(_mm512_permutex2var_epi64(t0, low_half, t2));
      const __m512i at = _mm512_permutex2var_epi64(t0, high_half, t2);
      const __m512i back = _mm512_permutex2var_epi64(t1, low_half, t3);
      const __m512i count =
          _mm512_maskz_srli_epi64(all, _mm512_permutex2var_epi64(t1, high_half, t3), 48);
      const __m512i d = _mm512_sub_epi64(vstep, at);
      const __mmask8 fired = _mm512_cmpge_epi64_mask(at, _mm512_setzero_si512());
      const __mmask8 near = _mm512_cmplt_epu64_mask(d, in_table);
      const __m512d decay =
          _mm512_mask_i64gather_pd(_mm512_setzero_pd(), fired & near, d, table, 8);
      _mm512_storeu_pd(y + i, _mm512_maskz_mul_pd(fired, value, decay));
      for (unsigned far = fired & ~near & 0xffu; far != 0; far &= far - 1) {
        const std::uint32_t k = i + static_cast<std::uint32_t>(std::countr_zero(far));
        y[k] = post[k].y.now(step, post_decay_);
      }
      auto ages = [&](__m512i age, int more_than) {
        const __m256i a =
            _mm512_maskz_cvtepi64_epi32(all, _mm512_maskz_min_epu64(all, age, farthest));
        const __mmask8 has = _mm512_cmpgt_epu64_mask(count, _mm512_set1_epi64(more_than));
        return _mm256_mask_blend_epi32(has, never, a);
      };
      const __m512i back0 = _mm512_and_si512(back, u16);
      const __m512i back1 = _mm512_and_si512(_mm512_maskz_srli_epi64(all, back, 16), u16);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a1 + i), ages(d, 0));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a2 + i), ages(_mm512_add_epi64(d, back0), 1));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a3 + i), ages(_mm512_add_epi64(d, back1), 2));
    }
#endif
    for (; i < hi; ++i) {
      now_.y[i] = post_[i].y.now(step, post_decay_);
      see_target(i, step);
    }
  }

  // on_post for the pending entries of h that came at or after the source's last arrival
  // x.at. Entries are in time order: those are the newest few.
  void catch_up(double& w, const PostState& h, const LazyTrace& x, const Config& c) const {
    if (x.at < 0 || h.newest() < x.at) return;
    std::uint32_t k = h.count;
    while (k > 0 && h.at(k - 1) >= x.at) --k;
    apply_pending(w, h, x, k, h.count, c);
  }

  // catch_up for the synapses of one row, in passes. Whether a target fired since the
  // source's last arrival (Brunel: for 62 % of the synapses), and then whether once or
  // more (77 % once), is decided by a load of the target's state; branches on it inside
  // one loop were mispredicted often and resolved late, and cost most of the learn
  // phase. (One pass that computes the one-spike update for every synapse and keeps it
  // by a select, two or more spikes taking a branch, was 30-50 % slower still.) The
  // first pass sorts the row's synapses into three lists without a branch, "one spike",
  // "two" and "three or more", from the ages in now_ (with AVX-512: 16 synapses at a
  // time, gathered, compared and packed). The first two lists are short loops of their
  // own; only the third reads the targets' PostState. Each synapse sees the same updates
  // in the same order as catch_up: the same bits.
  [[gnu::always_inline]] void catch_up_row(double* w, const std::uint32_t* tgt, std::uint64_t begin,
                                           std::uint64_t end, Block& pb, const LazyTrace& x,
                                           std::uint64_t step, const Config& cfg) const {
    const Config c = cfg; // in registers (see arrive)
    const std::uint32_t since = PostNow::age(step, x.at);
    if (since >= PostNow::kFarthest) { // ages saturate: a source silent for 2^32 steps
      for (std::uint64_t s = begin; s < end; ++s) catch_up(w[s], post_[tgt[s]], x, c);
      return;
    }
    std::uint32_t* const once = pb.once.data();
    std::uint32_t* const twice = pb.twice.data();
    std::uint32_t* const more = pb.more.data();
    std::uint32_t* const lag1 = pb.lag1.data();
    const std::uint32_t* const a1 = now_.newest.data();
    const std::uint32_t* const a2 = now_.second.data();
    const std::uint32_t* const a3 = now_.third.data();
    std::uint32_t n1 = 0, n2 = 0, n3 = 0;
    std::uint64_t s = begin;
#if defined(__AVX512F__)
    // 16 synapses at a time: the three ages gathered, compared, and each list's lanes
    // packed to its end (the same lists as the loop below, which does the rest).
    const __m512i vsince = _mm512_set1_epi32(static_cast<int>(since));
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // (The masked form: GCC 12's plain one reads an uninitialised source, -Wmaybe-uninitialized.)
    auto gather = [](__m512i t, const std::uint32_t* a) {
      return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xffff, t, a, 4);
    };
    // (Gather indices are signed 32-bit: targets below 2^31.)
    const bool indexable = now_.y.size() <= 0x7fffffffu;
    for (; indexable && s + kSortLanes <= end; s += kSortLanes) {
      // The weights the next loops update, a sparse subset of the row that the hardware
      // prefetcher does not follow: fetched while the row is sorted.
      __builtin_prefetch(w + s);
      __builtin_prefetch(w + s + 8);
      const __m512i t = _mm512_loadu_si512(tgt + s);
      const __m512i g1 = gather(t, a1);
      const __m512i g2 = gather(t, a2);
      const __m512i g3 = gather(t, a3);
      const __mmask16 one = _mm512_cmple_epu32_mask(g1, vsince);
      const __mmask16 two = _mm512_cmple_epu32_mask(g2, vsince);
      const __mmask16 three = _mm512_cmple_epu32_mask(g3, vsince);
      const __mmask16 m1 = one & ~two, m2 = two & ~three;
      const __m512i k = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(s - begin)), lanes);
      _mm512_storeu_si512(once + n1, _mm512_maskz_compress_epi32(m1, k));
      _mm512_storeu_si512(lag1 + n1, _mm512_maskz_compress_epi32(m1, _mm512_sub_epi32(vsince, g1)));
      _mm512_storeu_si512(twice + n2, _mm512_maskz_compress_epi32(m2, k));
      _mm512_storeu_si512(more + n3, _mm512_maskz_compress_epi32(three, k));
      n1 += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(m1)));
      n2 += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(m2)));
      n3 += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(three)));
    }
#endif
    for (; s < end; ++s) {
      const std::uint32_t i = tgt[s];
      const bool one = a1[i] <= since, two = a2[i] <= since, three = a3[i] <= since;
      const auto k = static_cast<std::uint32_t>(s - begin);
      once[n1] = k;
      lag1[n1] = since - a1[i];
      twice[n2] = k;
      more[n3] = k;
      n1 += one & !two;
      n2 += two & !three;
      n3 += three;
    }
    for (std::uint32_t q = 0; q < n1; ++q) {
      const std::uint64_t s = begin + once[q];
      R::on_post(w[s], x.value * pre_decay_(lag1[q]), c);
    }
    // Two pending spikes, both at or after the arrival: the older one first, as
    // apply_pending does (since - age is the spike's distance from the arrival).
    for (std::uint32_t q = 0; q < n2; ++q) {
      const std::uint64_t s = begin + twice[q];
      const std::uint32_t i = tgt[s];
      R::on_post(w[s], x.value * pre_decay_(since - a2[i]), c);
      R::on_post(w[s], x.value * pre_decay_(since - a1[i]), c);
    }
    const PostState* const post = post_.data();
    for (std::uint32_t q = 0; q < n3; ++q) {
      const std::uint64_t s = begin + more[q];
      catch_up(w[s], post[tgt[s]], x, c);
    }
  }

  // on_post for the history entries [from, to) that came at or after the source's last
  // arrival (post spikes of that same step came after it), oldest first.
  void apply_pending(double& w, const PostState& h, const LazyTrace& x, std::uint32_t from,
                     std::uint32_t to, const Config& c) const {
    for (std::uint32_t k = from; k < to; ++k) {
      const std::int64_t p = h.at(k);
      if (p >= x.at) R::on_post(w, x.value * pre_decay_(static_cast<std::uint64_t>(p - x.at)), c);
    }
  }

  // Applies the oldest n entries of neuron i's history to every synapse into i, then
  // forgets them.
  void settle(SynapseBlock& sb, Block& pb, std::uint32_t i, std::uint32_t n) {
    PostState& h = post_[i];
    if (n == 0) return;
    const std::uint32_t li = i - sb.target_lo;
    double* w = sb.plastic_weight.data();
    const Config c = cfg_;
    // Most sources arrived again since these old entries: one comparison with the newest
    // of them tells, before the entries are walked.
    const std::int64_t last = h.at(n - 1);
    const std::uint32_t* const src = pb.post.src.data();
    const std::uint32_t* const syn = pb.post.syn.data();
    const LazyTrace* const pre = pb.pre.data();
    std::uint32_t k = pb.post.row[li];
    const std::uint32_t e = pb.post.row[li + 1];
#if defined(__AVX512F__)
    // That comparison eight synapses at a time (their sources' arrival steps gathered),
    // the few that pass one by one in the same order. Gather offsets are signed 32-bit:
    // two per source.
    static_assert(sizeof(LazyTrace) == 16 && offsetof(LazyTrace, at) == 8);
    if (pb.pre.size() < (std::size_t{1} << 30)) {
      const __m512i vlast = _mm512_set1_epi64(last);
      const auto* at_base = reinterpret_cast<const char*>(pre) + offsetof(LazyTrace, at);
      for (; k + 8 <= e; k += 8) {
        const __m256i j = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + k));
        const __m512i at = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), 0xff,
                                                       _mm256_add_epi32(j, j), at_base, 8);
        const __mmask8 due = _mm512_cmpge_epi64_mask(at, _mm512_setzero_si512()) &
                             _mm512_cmple_epi64_mask(at, vlast);
        for (unsigned m = due; m != 0; m &= m - 1) {
          const std::uint32_t q = k + static_cast<std::uint32_t>(std::countr_zero(m));
          apply_pending(w[syn[q]], h, pre[src[q]], 0, n, c);
        }
      }
    }
#endif
    for (; k < e; ++k) {
      const LazyTrace& x = pre[src[k]];
      if (x.at >= 0 && x.at <= last) apply_pending(w[syn[k]], h, x, 0, n, c);
    }
    h.count = static_cast<std::uint16_t>(h.count - n); // the oldest entries are the last distances
  }

  Config cfg_;
  DecayTable pre_decay_, post_decay_;
  std::vector<Block> blocks_;
  std::vector<PostState> post_; // per target neuron; each block writes its own range
  PostNow now_;                 // arrive(): the targets at the current step, same ranges
};

template <class R> void PlasticityRegistry::add() {
  PlasticityInfo info;
  info.name = R::name;
  info.doc = R::doc;
  info.params = std::span<const ParamSpec>(R::params);
  if constexpr (requires { R::options; }) info.options = std::span<const OptionSpec>(R::options);
  if constexpr (requires { R::refs; }) info.refs = std::span<const RefSpec>(R::refs);
  if constexpr (requires { R::on_arrival; }) info.on_arrival = R::on_arrival;
  if constexpr (requires { R::fading_rates; }) info.fading_rates = R::fading_rates;
  if constexpr (requires(const PlasticityUse& u) { R::check(u); }) info.check = &R::check;
  info.create = [](const PlasticitySetup& s) -> std::unique_ptr<Plasticity> {
    if constexpr (requires { typename R::Engine; })
      return std::make_unique<typename R::Engine>(s);
    else
      return std::make_unique<PlasticityOf<R>>(R::configure(s.params.data(), s.options.data()),
                                               s.dt);
  };
  for (auto& r : rules_)
    if (r.name == info.name) {
      r = info;
      return;
    }
  rules_.push_back(info);
}

} // namespace glia
