// The step loop (see simulator.hpp for the phases and the threading contract).
#include "sim/simulator.hpp"

#include "plasticity/modulator.hpp"
#include "sim/plasticity.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <tuple>

namespace glia {

Simulator::Simulator(Network& net, RecordingSink* sink) : net_(net), sink_(sink) {
  const auto& pops = net_.populations();
  plastic_into_.resize(pops.size());
  // Spans (see run()): a spike emitted at step s reaches no ring slot before s + the
  // shortest delay, so the threads can integrate that many steps on their own blocks
  // before they need each other's spikes, and meet once per span rather than once per
  // step: fewer barriers, and a thread held up for a moment catches up within the span
  // instead of holding the other up at every step. Additions into each ring slot keep
  // their order (a slot receives only spikes of earlier spans, in step order), so results
  // do not change. Networks that learn keep spans of one step: modulators are updated by
  // thread 0 between the phases of a step, and a rule's learn phase must come before the
  // next step's arrivals. (Pair STDP learning from post spikes right after each step's
  // integration, in spans, gained nothing on 2 threads and lost 5 % on one.)
  const bool learns = !net_.modulators().empty() ||
                      std::any_of(net_.projections().begin(), net_.projections().end(),
                                  [](const Projection& pr) { return pr.plasticity != nullptr; });
  if (!learns) {
    std::uint64_t shortest = kMaxSpan;
    for (const auto& pr : net_.projections()) {
      if (pr.constant_delay)
        shortest = std::min<std::uint64_t>(shortest, pr.delay);
      else
        for (const auto& blk : pr.blocks)
          for (std::uint16_t d : blk.delay) shortest = std::min<std::uint64_t>(shortest, d);
    }
    span_ = std::max<std::uint64_t>(shortest, 1);
  }
  for (auto& pr : net_.projections())
    if (pr.plasticity && pr.plasticity->delivers_on_arrival()) {
      plastic_into_[pr.post].push_back(&pr);
      history_ = std::max<std::size_t>(history_, pr.delay + 1u);
    }
  // Spike lists are kept until no thread can read them: a thread can be a span ahead of
  // one still delivering the last span.
  history_ = std::max<std::size_t>(history_, 2 * span_);
  spikes_.resize(pops.size());
  stats_.resize(pops.size());
  event_inputs_.resize(pops.size());
  current_inputs_.resize(pops.size());
  for (std::size_t p = 0; p < pops.size(); ++p) {
    spikes_[p].resize(net_.blocks(static_cast<int>(p)).size());
    for (std::size_t b = 0; b < spikes_[p].size(); ++b) {
      const auto [lo, hi] = net_.blocks(static_cast<int>(p))[b];
      spikes_[p][b].resize(history_);
      // Room for a sixteenth of the block firing in one step (a burst beyond it grows the
      // list once): with spans there are up to 2 x kMaxSpan lists per block.
      for (auto& l : spikes_[p][b]) l.reserve(std::min<std::size_t>(hi - lo, (hi - lo) / 16 + 64));
    }
    const std::uint32_t n = pops[p]->size();
    stats_[p].count.assign(n, 0);
    stats_[p].last_step.assign(n, -1);
    stats_[p].n_isi.assign(n, 0);
    stats_[p].isi_sum.assign(n, 0.0);
    stats_[p].isi_sumsq.assign(n, 0.0);
  }
  for (const auto& in : net_.inputs())
    (in->is_current() ? current_inputs_ : event_inputs_)[in->target].push_back(in.get());
  // The state guard every 1 ms of model time: NaN stays NaN, so a sparse check still finds it.
  finite_every_ = static_cast<std::uint64_t>(std::max(1.0, std::round(1.0 / net_.dt())));
}

void Simulator::record_spikes(int pop, const std::vector<std::uint32_t>& neurons) {
  SpikeRecord r;
  r.population = pop;
  if (!neurons.empty()) {
    r.selected.assign(net_.populations()[pop]->size(), 0);
    for (auto i : neurons) r.selected.at(i) = 1;
  }
  spike_records_.push_back(std::move(r));
  if (sink_)
    sink_->declare_spikes(net_.populations()[pop]->name(), net_.populations()[pop]->size());
}

int Simulator::record_state(int pop, int var, int element, std::vector<std::uint32_t> neurons,
                            std::uint64_t every, const std::string& name) {
  const Population& p = *net_.populations()[pop];
  StateRecord r;
  r.population = pop;
  r.variable = var;
  r.element = element;
  r.neurons = std::move(neurons);
  r.every = std::max<std::uint64_t>(every, 1);
  const auto& blocks = net_.blocks(pop);
  r.per_block.resize(blocks.size());
  for (std::uint32_t c = 0; c < r.neurons.size(); ++c) {
    const std::uint32_t i = r.neurons[c];
    if (i >= p.size()) throw std::out_of_range("recorded neuron out of range");
    for (std::size_t b = 0; b < blocks.size(); ++b)
      if (i >= blocks[b].first && i < blocks[b].second) r.per_block[b].emplace_back(c, i);
  }
  const int id = static_cast<int>(state_records_.size());
  if (sink_) {
    StateReportInfo info;
    info.population = p.name();
    info.variable = name;
    info.unit = std::string(p.model().state[var].unit);
    info.node_ids.assign(r.neurons.begin(), r.neurons.end());
    info.interval = static_cast<double>(r.every) * net_.dt();
    info.start = info.interval;
    sink_->declare_state(id, info);
  }
  state_records_.push_back(std::move(r));
  return id;
}

int Simulator::record_modulator(int mod, int var, std::vector<std::uint32_t> elements,
                                std::uint64_t every, const std::string& name) {
  const Modulator& m = *net_.modulators().at(static_cast<std::size_t>(mod));
  if (elements.empty()) elements = {0};
  for (auto e : elements)
    if (e >= m.width(var))
      throw std::out_of_range("modulator '" + m.name() + "' variable '" + name + "' has " +
                              std::to_string(m.width(var)) + " elements, asked for element " +
                              std::to_string(e));
  StateRecord r;
  r.modulator = mod;
  r.variable = var;
  r.neurons = std::move(elements);
  r.every = std::max<std::uint64_t>(every, 1);
  const int id = static_cast<int>(state_records_.size());
  if (sink_) {
    StateReportInfo info;
    info.population = m.name();
    info.variable = name;
    info.unit = std::string(m.variable_specs()[static_cast<std::size_t>(var)].unit);
    info.node_ids.assign(r.neurons.begin(), r.neurons.end());
    info.interval = static_cast<double>(r.every) * net_.dt();
    info.start = info.interval;
    sink_->declare_state(id, info);
  }
  state_records_.push_back(std::move(r));
  return id;
}

double Simulator::mean_rate_hz(int pop) const {
  const double t_s = time_ms() * 1e-3;
  const auto n = net_.populations()[pop]->size();
  if (t_s <= 0.0 || n == 0) return 0.0;
  std::uint64_t total = 0;
  for (auto c : stats_[pop].count) total += c;
  return static_cast<double>(total) / (t_s * n);
}

double Simulator::mean_cv_isi(int pop) const {
  const SpikeStats& s = stats_[pop];
  double sum = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.count.size(); ++i) {
    if (s.n_isi[i] < 2) continue;
    const double m = s.isi_sum[i] / s.n_isi[i];
    const double var = std::max(0.0, s.isi_sumsq[i] / s.n_isi[i] - m * m);
    sum += std::sqrt(var) / m;
    ++n;
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

void Simulator::record_step(std::uint64_t step, std::size_t slot) {
  const double t = static_cast<double>(step + 1) * net_.dt();
  for (std::size_t p = 0; p < spikes_.size(); ++p) {
    SpikeStats& st = stats_[p];
    for (const auto& blk : spikes_[p])
      for (std::uint32_t i : blk[slot]) {
        ++st.count[i];
        if (st.last_step[i] >= 0) {
          const double isi = static_cast<double>(static_cast<std::int64_t>(step) - st.last_step[i]);
          ++st.n_isi[i];
          st.isi_sum[i] += isi;
          st.isi_sumsq[i] += isi * isi;
        }
        st.last_step[i] = static_cast<std::int64_t>(step);
        ++st.total;
      }
  }
  for (auto& r : spike_records_)
    for (const auto& blk : spikes_[r.population])
      for (std::uint32_t i : blk[slot])
        if (r.selected.empty() || r.selected[i]) {
          r.times.push_back(t);
          r.ids.push_back(i);
        }
}

void Simulator::flush(std::uint64_t flush_from_step, std::uint64_t next_step, bool durable) {
  weight_monitors_.flush(flush_from_step, next_step, sink_);
  if (!sink_) return;
  for (auto& r : spike_records_) {
    sink_->append_spikes(net_.populations()[r.population]->name(), r.times, r.ids);
    r.times.clear();
    r.ids.clear();
  }
  for (std::size_t id = 0; id < state_records_.size(); ++id) {
    StateRecord& r = state_records_[id];
    const std::size_t n = next_step / r.every - flush_from_step / r.every;
    if (n > 0)
      sink_->append_state(static_cast<int>(id),
                          std::span<const double>(r.rows.data(), n * r.neurons.size()), n);
  }
  sink_->flush(durable);
}

template <bool ConstW, bool ConstD>
static void deliver_rows(const Projection& pr, const SynapseBlock& blk, RingBuffer& ring,
                         std::uint32_t n_post, std::uint64_t step,
                         const std::vector<std::vector<std::vector<std::uint32_t>>>& spikes,
                         std::size_t slot) {
  const std::uint32_t slots = ring.slots();
  const std::uint32_t now = ring.slot_index(step);
  const double w = pr.weight;
  double* const base = ring.slot(pr.port, 0);
  double* const fixed = ConstD ? ring.slot(pr.port, (now + pr.delay) % slots) : nullptr;
  const std::uint32_t* tgt = blk.target.data();
  for (const auto& lists : spikes) {
    const std::vector<std::uint32_t>& list = lists[slot];
    for (std::size_t q = 0; q < list.size(); ++q) {
      if (q + 1 < list.size()) blk.prefetch_row(list[q + 1]); // see SynapseBlock
      const std::uint32_t src = list[q];
      const std::uint64_t a = blk.row[src], e = blk.row[src + 1];
      for (std::uint64_t k = a; k < e; ++k) {
        const double wk = ConstW ? w : static_cast<double>(blk.weight[k]);
        if constexpr (ConstD) {
          fixed[tgt[k]] += wk;
        } else {
          std::uint32_t s = now + blk.delay[k];
          if (s >= slots) s -= slots;
          base[static_cast<std::size_t>(s) * n_post + tgt[k]] += wk;
        }
      }
    }
  }
}

void Simulator::propagate(const Projection& pr, std::size_t b, std::uint64_t step,
                          std::size_t slot) {
  Population& post = *net_.populations()[pr.post];
  const SynapseBlock& blk = pr.blocks[b];
  if (blk.target.empty()) return;
  const auto& spikes = spikes_[pr.pre];
  const std::uint32_t n = post.size();
  if (pr.constant_weight && pr.constant_delay)
    deliver_rows<true, true>(pr, blk, post.ring(), n, step, spikes, slot);
  else if (pr.constant_weight)
    deliver_rows<true, false>(pr, blk, post.ring(), n, step, spikes, slot);
  else if (pr.constant_delay)
    deliver_rows<false, true>(pr, blk, post.ring(), n, step, spikes, slot);
  else
    deliver_rows<false, false>(pr, blk, post.ring(), n, step, spikes, slot);
}

bool NonFinite::before(const NonFinite& o) const {
  if (!o.found()) return found();
  if (!found()) return false;
  return std::tie(population, neuron, variable, element) <
         std::tie(o.population, o.neuron, o.variable, o.element);
}

NonFinite Simulator::find_non_finite(int p, std::uint32_t lo, std::uint32_t hi) const {
  constexpr std::uint64_t kExponent = 0x7ff0000000000000ull; // all ones: inf or NaN
  const Population& pop = *net_.populations()[static_cast<std::size_t>(p)];
  NonFinite best;
  for (int k = 0; k < pop.n_state(); ++k)
    for (int e = 0; e < pop.state_width(k); ++e) {
      const double* v = pop.state(k) + static_cast<std::size_t>(e) * pop.size();
      for (std::uint32_t c = lo; c < hi; c += kNeuronChunk) {
        const std::uint32_t m = std::min(kNeuronChunk, hi - c);
        // Branch-free over the chunk (it vectorises); the exact place only when needed.
        std::uint64_t bad = 0;
        for (std::uint32_t j = 0; j < m; ++j)
          bad |= (std::bit_cast<std::uint64_t>(v[c + j]) & kExponent) == kExponent;
        if (!bad) continue;
        std::uint32_t i = c;
        while (std::isfinite(v[i])) ++i;
        const NonFinite here{p, i, k, e, v[i], 0};
        if (here.before(best)) best = here;
        break;
      }
    }
  return best;
}

RunEnd Simulator::run_engine(std::uint64_t n_steps) {
  const std::uint64_t start = step_, end = step_ + n_steps;
  auto& pops = net_.populations();
  step_spikes_.clear();
  for (auto& sp : spikes_) step_spikes_.push_back(StepSpikes{&sp, 0});
  std::vector<EngineStateRequest> requests;
  for (const auto& r : state_records_) {
    if (r.modulator >= 0) throw std::logic_error("engine runs have no modulators");
    requests.push_back({r.population, r.variable, r.element, r.neurons, r.every});
  }
  engine_->set_state_requests(requests);
  for (auto& r : state_records_) {
    const std::uint64_t span = sink_ ? std::min(flush_steps_, n_steps) : end;
    const std::size_t rows = span / r.every + 2;
    const std::size_t keep = sink_ ? 0 : r.n_rows * r.neurons.size();
    r.rows.resize(std::max(r.rows.size(), keep + rows * r.neurons.size()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto last_progress = t0;
  double t_engine = 0.0, t_record = 0.0, t_flush = 0.0;
  std::uint64_t flush_from = start;
  RunEnd how = RunEnd::completed;
  EngineBlock blk;
  std::uint64_t s = start;
  while (s < end) {
    // Blocks end at flush boundaries, so that flushes happen where the CPU loop's do.
    const std::uint64_t to_flush = flush_steps_ - s % flush_steps_;
    const auto n = static_cast<std::uint32_t>(
        std::min<std::uint64_t>({end - s, to_flush, engine_->max_block_steps()}));
    auto mark = std::chrono::steady_clock::now();
    engine_->advance(s, n, finite_every_, blk);
    auto now = std::chrono::steady_clock::now();
    t_engine += std::chrono::duration<double>(now - mark).count();
    mark = now;
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::uint64_t step = s + k;
      const std::size_t par = static_cast<std::size_t>(step % history_);
      for (std::size_t p = 0; p < pops.size(); ++p) {
        for (auto& b : spikes_[p]) b[par].clear();
        const auto& ids = blk.spikes[p];
        spikes_[p][0][par].assign(ids.begin() + static_cast<std::ptrdiff_t>(blk.offsets[p][k]),
                                  ids.begin() + static_cast<std::ptrdiff_t>(blk.offsets[p][k + 1]));
      }
      record_step(step, par);
      for (auto& sp : step_spikes_) sp.slot = par;
      for (StepObserver* o : observers_) o->observe(step, step_spikes_);
    }
    for (std::size_t id = 0; id < state_records_.size(); ++id) {
      StateRecord& r = state_records_[id];
      const std::uint64_t base = sink_ ? flush_from / r.every : 0;
      const std::uint64_t first_row = (s + r.every) / r.every - 1; // first sample at or after s
      const std::size_t row0 = first_row - base;
      std::copy(blk.rows[id].begin(), blk.rows[id].end(),
                r.rows.begin() + static_cast<std::ptrdiff_t>(row0 * r.neurons.size()));
    }
    s += n;
    now = std::chrono::steady_clock::now();
    t_record += std::chrono::duration<double>(now - mark).count();
    mark = now;
    NonFinite bad;
    if (blk.non_finite) {
      // Located in the state at the end of the block (the device checks, the host finds).
      engine_->download();
      for (std::size_t p = 0; p < pops.size(); ++p) {
        const NonFinite here = find_non_finite(static_cast<int>(p), 0, pops[p]->size());
        if (here.before(bad)) bad = here;
      }
      bad.step = s - 1;
      non_finite_ = bad;
    }
    const bool stop_now = bad.found() || (stop_poll_ && stop_poll_());
    if (s % flush_steps_ == 0 || s == end || stop_now) {
      for (auto& r : state_records_)
        if (!sink_) r.n_rows = s / r.every;
      flush(flush_from, s, s == end || stop_now);
      flush_from = s;
    }
    t_flush += std::chrono::duration<double>(std::chrono::steady_clock::now() - mark).count();
    if (progress_) {
      const auto t = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(t - last_progress).count() >= progress_every_s_ ||
          s == end) {
        last_progress = t;
        std::uint64_t total = 0;
        for (const auto& st : stats_) total += st.total;
        progress_({s - start, n_steps, static_cast<double>(s) * net_.dt(),
                   std::chrono::duration<double>(t - t0).count(), total});
      }
    }
    if (stop_now) {
      if (bad.found() || s < end) how = bad.found() ? RunEnd::non_finite : RunEnd::stopped;
      break;
    }
  }
  engine_->download(); // the host network shows the state reached
  // The engine does inputs, integration and propagation together: all of it is "integrate".
  phase_times_.integrate += t_engine;
  phase_times_.record += t_record;
  phase_times_.flush += t_flush;
  step_ = s;
  return how;
}

RunEnd Simulator::run(std::uint64_t n_steps) {
  non_finite_ = NonFinite{};
  if (n_steps == 0) return RunEnd::completed;
  if (engine_) return run_engine(n_steps);
  const std::uint64_t start = step_, end = step_ + n_steps;
  const int nblocks = net_.threads();
  // One thread has no barrier to save: it runs the steps one by one.
  const std::uint64_t span = nblocks > 1 ? span_ : 1;
  auto& pops = net_.populations();
  const auto& projs = net_.projections();
  const auto& mods = net_.modulators();
  step_spikes_.clear();
  for (auto& sp : spikes_) step_spikes_.push_back(StepSpikes{&sp, 0});
  // State buffers: a flush period's rows with a sink, the whole run's without.
  for (auto& r : state_records_) {
    const std::uint64_t span = sink_ ? std::min(flush_steps_, n_steps) : end;
    const std::size_t rows = span / r.every + 2;
    const std::size_t keep = sink_ ? 0 : r.n_rows * r.neurons.size();
    r.rows.resize(std::max(r.rows.size(), keep + rows * r.neurons.size()));
  }
  weight_monitors_.begin_run(start, end, flush_steps_, !sink_);

  std::atomic<bool> failed{false};
  std::exception_ptr error;
  const auto t0 = std::chrono::steady_clock::now();
  auto last_progress = t0;
  std::uint64_t flush_from = start;

  // One cache line each: the threads add to their own every phase, many times a step.
  struct alignas(64) ThreadTimes {
    PhaseTimes t;
  };
  std::vector<ThreadTimes> times(static_cast<std::size_t>(nblocks));
  const bool any_plastic = std::any_of(
      projs.begin(), projs.end(), [](const Projection& pr) { return pr.plasticity != nullptr; });
  // Decisions every thread must take at the same step are published before the step's
  // first barrier and read after it, in one of two alternating slots: a slot is written
  // again only after a later step's first barrier, which every reader reaches after
  // reading it. stop_vote: the stop poll's answer (thread 0), by step; found: each
  // thread's first non-finite value, by check (each thread counts the checks).
  bool stop_vote[2] = {false, false};
  std::vector<NonFinite> found[2];
  found[0].resize(static_cast<std::size_t>(nblocks));
  found[1].resize(static_cast<std::size_t>(nblocks));
  RunEnd how = RunEnd::completed;

#pragma omp parallel num_threads(nblocks)
  {
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    PhaseTimes& tt = times[static_cast<std::size_t>(tid)].t;
    auto mark = std::chrono::steady_clock::now();
    // Adds the time since the last call to `slot`.
    auto lap = [&mark](double& slot) {
      const auto now = std::chrono::steady_clock::now();
      slot += std::chrono::duration<double>(now - mark).count();
      mark = now;
    };
    // A team of one skips the barrier (libgomp's costs about 0.2 us: 7 % of a CUBA step).
    auto sync = [&] {
      if (nth == 1) return;
#pragma omp barrier
      lap(tt.wait);
    };
    if (start == 0) // weight monitors scheduled at t = 0 see the network as built
      for (int b = tid; b < nblocks; b += nth)
        weight_monitors_.sample(0, static_cast<std::size_t>(b), 0);
    std::uint64_t checks = 0, spans = 0;
    // The steps go in spans [a, e) of at most `span` steps (see the constructor), ending
    // where every thread must agree: at state checks, flushes, checkpoints and the end.
    for (std::uint64_t a = start, e = start; a < end; a = e) {
      e = std::min(end, a + span);
      auto cut = [&](std::uint64_t every) {
        if (every > 0) e = std::min(e, (a / every + 1) * every);
      };
      cut(flush_steps_);
      cut(finite_every_);
      if (checkpoint_) cut(checkpoint_every_);
      const std::uint64_t last = e - 1;
      const std::size_t vote = spans++ & 1;
      const bool periodic_checkpoint = checkpoint_ && checkpoint_every_ > 0 &&
                                       ((last + 1) % checkpoint_every_ == 0 || last + 1 == end);
      // State is also checked before every periodic checkpoint: none holds non-finite state.
      // Checks fall on a span's last step only.
      const bool check =
          finite_every_ > 0 && ((last + 1) % finite_every_ == 0 || periodic_checkpoint);
      std::vector<NonFinite>& mine = found[checks & 1];
      checks += check;
      if (check) mine[static_cast<std::size_t>(tid)] = NonFinite{};
      // Phases 1-3 (state part) on the blocks this thread owns, step after step.
      for (std::uint64_t s = a; s < e; ++s) {
        const std::size_t par = static_cast<std::size_t>(s % history_);
        for (int b = tid; b < nblocks; b += nth) {
          for (std::size_t p = 0; p < pops.size(); ++p) {
            Population& pop = *pops[p];
            const auto [lo, hi] = net_.blocks(static_cast<int>(p))[b];
            const auto& cur = current_inputs_[p];
            bool change = s == start && !cur.empty();
            for (const Input* in : cur) change = change || in->changes_at(s);
            if (change) {
              double* iext = pop.i_ext().data();
              std::fill(iext + lo, iext + hi, 0.0);
              for (const Input* in : cur) in->add_current(s, lo, hi, iext);
            }
            for (const Input* in : event_inputs_[p]) in->deliver(s, pop, lo, hi);
            // A phase with nothing to do takes no lap: reading the clock costs more than
            // skipping it (the small benchmarks step 4000 neurons in a few microseconds).
            if (!cur.empty() || !event_inputs_[p].empty()) lap(tt.inputs);
            // Plastic projections deliver on arrival: the spikes emitted `delay` steps ago.
            for (Projection* pr : plastic_into_[p]) {
              const StepSpikes arriving{&spikes_[pr->pre], (s + history_ - pr->delay) % history_};
              pr->plasticity->arrive(*pr, s, static_cast<std::size_t>(b), arriving,
                                     pop.ring().slot(pr->port, pop.ring().slot_index(s)));
            }
            if (!plastic_into_[p].empty()) lap(tt.learn);
            auto& list = spikes_[p][b][par];
            list.clear();
            if (pop.integrate(s, lo, hi, list, check && s == last)) {
              const NonFinite here = find_non_finite(static_cast<int>(p), lo, hi);
              if (here.before(mine[static_cast<std::size_t>(tid)]))
                mine[static_cast<std::size_t>(tid)] = here;
            }
            lap(tt.integrate);
          }
          for (auto& r : state_records_) {
            if (r.modulator >= 0 || (s + 1) % r.every != 0) continue;
            const std::uint64_t base = sink_ ? flush_from / r.every : 0;
            const std::size_t row = (s + 1) / r.every - 1 - base;
            const double* v = pops[r.population]->state(r.variable) +
                              static_cast<std::size_t>(r.element) * pops[r.population]->size();
            double* out = r.rows.data() + row * r.neurons.size();
            for (const auto& [c, i] : r.per_block[b]) out[c] = v[i];
          }
          if (!state_records_.empty()) lap(tt.record);
        }
      }
      if (tid == 0) stop_vote[vote] = stop_poll_ && stop_poll_();
      sync();
      NonFinite bad;
      if (check)
        for (int t = 0; t < nth; ++t)
          if (mine[static_cast<std::size_t>(t)].before(bad))
            bad = mine[static_cast<std::size_t>(t)];
      const bool stop_now = stop_vote[vote] || bad.found();
      if (tid == 0) {
        if (bad.found()) {
          non_finite_ = bad;
          non_finite_.step = last;
        }
        for (std::uint64_t s = a; s < e; ++s) {
          const std::size_t par = static_cast<std::size_t>(s % history_);
          record_step(s, par);
          const std::uint64_t done = s + 1 - start;
          if (progress_ && (done & 31u) == 0) {
            const auto now = std::chrono::steady_clock::now();
            if (std::chrono::duration<double>(now - last_progress).count() >= progress_every_s_) {
              last_progress = now;
              std::uint64_t total = 0;
              for (const auto& st : stats_) total += st.total;
              progress_({done, n_steps, static_cast<double>(s + 1) * net_.dt(),
                         std::chrono::duration<double>(now - t0).count(), total});
            }
          }
          for (auto& sp : step_spikes_) sp.slot = par;
          for (StepObserver* o : observers_) o->observe(s, step_spikes_);
          lap(tt.record);
          if (!mods.empty()) { // spans are of one step with modulators
            const ModulatorContext ctx{s, net_.dt(), &step_spikes_, &net_};
            for (const auto& m : mods) m->update(ctx);
            for (auto& r : state_records_) {
              if (r.modulator < 0 || (s + 1) % r.every != 0) continue;
              const std::uint64_t base = sink_ ? flush_from / r.every : 0;
              const std::size_t row = (s + 1) / r.every - 1 - base;
              const Modulator& m = *mods[static_cast<std::size_t>(r.modulator)];
              double* out = r.rows.data() + row * r.neurons.size();
              for (std::size_t c = 0; c < r.neurons.size(); ++c)
                out[c] = m.read(r.variable, r.neurons[c]);
            }
            lap(tt.learn);
          }
        }
      }
      // Rules read the modulators in the learn phase of this step.
      if (!mods.empty()) sync();
      for (std::uint64_t s = a; s < e; ++s) {
        const std::size_t par = static_cast<std::size_t>(s % history_);
        // Phase 4: every spike of step s into the ring slots of this thread's targets.
        for (int b = tid; b < nblocks; b += nth)
          for (const auto& pr : projs)
            if (!pr.plasticity || !pr.plasticity->delivers_on_arrival())
              propagate(pr, static_cast<std::size_t>(b), s, par);
        lap(tt.propagate);
        // Phase 5 (spans of one step): plasticity on this step's spikes, for the synapses of
        // this thread's blocks: pre spikes (rules that do not act on arrival), post spikes,
        // then periodic work.
        for (int b = tid; b < nblocks; b += nth)
          for (auto& pr : net_.projections()) {
            if (!pr.plasticity) continue;
            const auto bb = static_cast<std::size_t>(b);
            if (!pr.plasticity->delivers_on_arrival())
              pr.plasticity->pre_spikes(pr, s, bb, StepSpikes{&spikes_[pr.pre], par});
            pr.plasticity->post_spikes(pr, s, bb, spikes_[pr.post][b][par]);
            if (pr.plasticity->wants_end_step()) pr.plasticity->end_step(pr, s, bb);
          }
        if (any_plastic) lap(tt.learn);
        // Weight monitors read the blocks this thread has just finished learning on.
        if (!weight_monitors_.empty()) {
          for (int b = tid; b < nblocks; b += nth)
            weight_monitors_.sample(s + 1, static_cast<std::size_t>(b), flush_from);
          lap(tt.record);
        }
      }
      // Checkpoints are taken at flushes, so that the output holds exactly what the
      // checkpoint says it holds; never of state that has gone non-finite.
      const bool checkpoint = checkpoint_ && !bad.found() && (stop_now || periodic_checkpoint);
      if ((last + 1) % flush_steps_ == 0 || last + 1 == end || stop_now || checkpoint) {
        sync();
        if (tid == 0) {
          try {
            for (auto& r : state_records_)
              if (!sink_) r.n_rows = (last + 1) / r.every;
            flush(flush_from, last + 1, checkpoint || stop_now || last + 1 == end);
            flush_from = last + 1;
            if (checkpoint) {
              step_ = last + 1;
              checkpoint_();
            }
          } catch (...) {
            error = std::current_exception();
            failed = true;
          }
          // A stop asked for at the last step comes too late to stop anything.
          if (stop_now && (bad.found() || last + 1 < end))
            how = bad.found() ? RunEnd::non_finite : RunEnd::stopped;
        }
        lap(tt.flush);
        sync();
        if (failed || stop_now) break;
      }
    }
    // Weights are read between runs (monitors, tests, checkpoints): bring them up to date.
    for (int b = tid; b < nblocks; b += nth)
      for (auto& pr : net_.projections())
        if (pr.plasticity) pr.plasticity->settle(pr, static_cast<std::size_t>(b));
  }
  thread_busy_.resize(std::max(thread_busy_.size(), times.size()), 0.0);
  for (std::size_t k = 0; k < times.size(); ++k) {
    const PhaseTimes& t = times[k].t;
    thread_busy_[k] += t.total() - t.wait;
    const double w = 1.0 / static_cast<double>(times.size());
    phase_times_.inputs += w * t.inputs;
    phase_times_.integrate += w * t.integrate;
    phase_times_.record += w * t.record;
    phase_times_.propagate += w * t.propagate;
    phase_times_.learn += w * t.learn;
    phase_times_.flush += w * t.flush;
    phase_times_.wait += w * t.wait;
  }
  step_ = flush_from;
  if (error) std::rethrow_exception(error);
  return how;
}

} // namespace glia
