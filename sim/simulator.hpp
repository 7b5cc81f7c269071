// The step loop. Each step, in this order (the contract the README documents):
//   1. deliver:   each population reads what arrives now (its ring slot of this step,
//                 plus event inputs drawn for this step; current inputs set i_ext);
//   2. integrate: each population advances by dt and lists its spikes;
//   3. record:    sampled state (by the thread that owns the neurons), spikes;
//   4. propagate: every spike walks its row of each outgoing projection and adds the
//                 weight into the target's ring slot at now + delay;
//   5. learn:     modulators update from this step's spikes (thread 0, then a barrier);
//                 plasticity rules act on this step's pre- and post-synaptic spikes (the
//                 pre-synaptic events of most rules were handled on arrival, in phase 1);
//                 then weight monitors read the blocks just learned on (weight_monitor.hpp).
// One OpenMP parallel region spans the whole run. Thread t owns block t of every
// population: it integrates those neurons and writes every synapse that lands on them,
// so propagation needs no locks and every sum is taken in one fixed order (projection,
// then source neuron, then synapse). The results are bitwise the same for any number
// of threads. With several threads, they meet at one barrier per span of steps: as
// many steps as the shortest delay, so that no spike of a span lands in a slot read
// within it (at most kMaxSpan, cut at flushes and state checks; one step in networks
// that learn). A thread runs phases 1-3 for every step of the span, then phases 4-5 for
// each of them in step order, which adds into every ring slot in the order of the list
// above. Spike lists are kept for the last H steps (a ring, H >= 2 spans), so plastic
// projections can process a spike when it arrives.
#pragma once

#include "sim/network.hpp"
#include "sim/recording_sink.hpp"
#include "sim/state_archive.hpp"
#include "sim/step_engine.hpp"
#include "sim/step_observer.hpp"
#include "sim/step_spikes.hpp"
#include "sim/weight_monitor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace glia {

struct ProgressInfo {
  std::uint64_t step = 0;   // steps done in this run() call
  std::uint64_t total = 0;  // steps requested in this run() call
  double model_ms = 0.0;    // simulated time reached (since t = 0)
  double wall_s = 0.0;      // wall time of this run() call so far
  std::uint64_t spikes = 0; // spikes so far (all populations)
};

// Wall time spent in each phase of the step loop, summed over steps and averaged over
// threads (seconds). `wait` is time at barriers: load imbalance and thread 0's recording.
struct PhaseTimes {
  double inputs = 0, integrate = 0, record = 0, propagate = 0, learn = 0, flush = 0, wait = 0;
  double total() const { return inputs + integrate + record + propagate + learn + flush + wait; }
};

// How a run() call ended: all steps done, stopped early at a step boundary because the
// stop poll asked for it (a signal, a wall-time limit), or stopped because some state
// became NaN or infinite (see Simulator::non_finite()).
enum class RunEnd { completed, stopped, non_finite };

// The first non-finite state value found by the guard: the smallest (population,
// neuron, variable, element) among those non-finite at the check, whatever the thread count.
struct NonFinite {
  int population = -1; // -1: none found
  std::uint32_t neuron = 0;
  int variable = 0, element = 0;
  double value = 0.0;
  std::uint64_t step = 0; // the state after this step (at time (step + 1) dt) was checked
  bool found() const { return population >= 0; }
  bool before(const NonFinite& o) const;
};

// Per-neuron spike statistics, kept for every population whether recorded or not.
struct SpikeStats {
  std::vector<std::uint64_t> count;
  std::vector<std::int64_t> last_step; // -1: no spike yet
  std::vector<std::uint32_t> n_isi;
  std::vector<double> isi_sum, isi_sumsq; // in steps
  std::uint64_t total = 0;
};

class Simulator {
public:
  explicit Simulator(Network& net, RecordingSink* sink = nullptr);

  // Records spikes of population `pop` (all neurons when `neurons` is empty).
  void record_spikes(int pop, const std::vector<std::uint32_t>& neurons = {});
  // Records element `element` of state variable `var` of the given neurons every
  // `every` steps (after steps every-1, 2 every-1, ...: times every*dt, 2 every*dt, ...).
  int record_state(int pop, int var, int element, std::vector<std::uint32_t> neurons,
                   std::uint64_t every, const std::string& name);
  // Records variable `var` of modulator `mod` (the given elements; {0} for a scalar) every
  // `every` steps, after the modulator's update of those steps. Written like a state report
  // under the modulator's name.
  int record_modulator(int mod, int var, std::vector<std::uint32_t> elements, std::uint64_t every,
                       const std::string& name);

  // Records a synapse variable of a projection (chosen synapses or a histogram of all) on
  // a schedule (sim/weight_monitor.hpp). Throws std::invalid_argument for unconnected pairs.
  int record_weights(const WeightMonitorRequest& request) {
    return weight_monitors_.add(request, sink_);
  }
  const WeightMonitors& weight_monitors() const { return weight_monitors_; }
  // Adds a monitor that sees every step's spikes (it must outlive the runs).
  void add_observer(StepObserver* o) { observers_.push_back(o); }

  void set_flush_interval(std::uint64_t steps) { flush_steps_ = steps > 0 ? steps : 1; }
  void set_progress(std::function<void(const ProgressInfo&)> fn, double every_s) {
    progress_ = std::move(fn);
    progress_every_s_ = every_s;
  }

  // Stops the run early, at the end of a step: `poll` is called by one thread once per
  // span of steps (at most 16 steps, 1.6 ms at dt = 0.1) and returns true to stop (it
  // must be cheap). The checkpoint writer, if set, is called at that step.
  void set_stop_poll(std::function<bool()> poll) { stop_poll_ = std::move(poll); }
  // Calls `write` (on one thread, all others waiting, output flushed just before) at the
  // end of every step that is a multiple of `every` steps, at the end of each run() call
  // (every > 0) and when the stop poll stops a run. every == 0: only at such stops.
  void set_checkpoint(std::uint64_t every, std::function<void()> write) {
    checkpoint_every_ = every;
    checkpoint_ = std::move(write);
  }
  // The most steps the threads run between two barriers (see spans in simulator.cpp;
  // with one thread there is no barrier, and the steps run one by one);
  // limit_span(1) gives one barrier per step (tests compare the two).
  std::uint64_t span() const { return span_; }
  void limit_span(std::uint64_t steps) { span_ = std::clamp<std::uint64_t>(steps, 1, span_); }
  // Every `every` steps (0: never) the state of every neuron is checked for NaN and
  // infinity, each thread on its own blocks; a run with such state stops after that step.
  void set_finite_check(std::uint64_t every) { finite_every_ = every; }
  std::uint64_t finite_check_interval() const { return finite_every_; }
  const NonFinite& non_finite() const { return non_finite_; }

  // Advances the network by n steps (fewer when stopped early; current_step() tells).
  RunEnd run(std::uint64_t n_steps);

  // Runs on `engine` instead of the CPU loop (nullptr: the CPU again). An engine advances
  // in blocks of steps, so the stop poll is asked once per block; it writes no
  // checkpoints and supports no modulators, weight monitors or plasticity (the caller
  // checks: gpu/backend.hpp). The engine must outlive the runs.
  void set_engine(StepEngine* engine) { engine_ = engine; }
  StepEngine* engine() const { return engine_; }

  // Checkpoints: everything that evolves (the step, spikes still to arrive at plastic
  // projections, statistics, buffered records, and the network's state) under keys that
  // do not depend on the thread count. load() takes a simulator set up like the saved one
  // (same experiment and records; any thread count) before its first run().
  void save(StateArchive& ar) const;
  void load(const StateArchive& ar);
  std::uint64_t current_step() const { return step_; }
  Network& network() { return net_; }
  const Network& network() const { return net_; }
  double time_ms() const { return static_cast<double>(step_) * net_.dt(); }

  const SpikeStats& stats(int pop) const { return stats_[pop]; }
  const PhaseTimes& phase_times() const { return phase_times_; }
  // Each thread's time at work (all phases but the barrier wait) over every run so far, by
  // thread number: how evenly the blocks share the work, or how evenly the cores run.
  const std::vector<double>& thread_busy() const { return thread_busy_; }
  double mean_rate_hz(int pop) const;
  // Mean over neurons with at least two ISIs of each neuron's ISI coefficient of variation.
  double mean_cv_isi(int pop) const;

  // Spikes held in memory (without a sink: everything recorded; with one: since the last flush).
  struct SpikeRecord {
    int population = 0;
    std::vector<char> selected; // empty: all
    std::vector<double> times;
    std::vector<std::uint64_t> ids;
  };
  const std::vector<SpikeRecord>& spike_records() const { return spike_records_; }
  struct StateRecord {
    int population = 0, variable = 0, element = 0;
    int modulator = -1; // >= 0: a modulator's variable (population unused)
    std::vector<std::uint32_t> neurons;
    std::uint64_t every = 1;
    std::vector<double> rows; // row-major; without a sink, all rows so far
    std::size_t n_rows = 0;
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> per_block; // (column, neuron)
  };
  const std::vector<StateRecord>& state_records() const { return state_records_; }

private:
  void record_step(std::uint64_t step, std::size_t slot);
  RunEnd run_engine(std::uint64_t n_steps);
  // Hands the records of [flush_from_step, next_step) to the sink; `durable` as in
  // RecordingSink::flush.
  void flush(std::uint64_t flush_from_step, std::uint64_t next_step, bool durable);
  void propagate(const Projection& proj, std::size_t block, std::uint64_t step, std::size_t slot);
  // The first non-finite state value of neurons [lo, hi) of population p, if any.
  NonFinite find_non_finite(int p, std::uint32_t lo, std::uint32_t hi) const;

  Network& net_;
  RecordingSink* sink_;
  std::uint64_t step_ = 0;
  std::uint64_t flush_steps_ = 1000;
  std::function<void(const ProgressInfo&)> progress_;
  double progress_every_s_ = 1.0;
  // spikes_[pop][block][step % history_]
  std::vector<std::vector<std::vector<std::vector<std::uint32_t>>>> spikes_;
  std::size_t history_ = 2;
  // Steps the threads run between barriers (at most); set by the constructor.
  static constexpr std::uint64_t kMaxSpan = 16;
  std::uint64_t span_ = 1;
  std::vector<std::vector<Projection*>> plastic_into_; // per post population
  std::vector<SpikeStats> stats_;
  PhaseTimes phase_times_;
  std::vector<double> thread_busy_;
  std::vector<SpikeRecord> spike_records_;
  std::vector<StateRecord> state_records_;
  std::vector<std::vector<const Input*>> event_inputs_, current_inputs_;
  WeightMonitors weight_monitors_{net_};
  std::vector<StepSpikes> step_spikes_; // per population, for modulators and observers
  std::vector<StepObserver*> observers_;
  std::function<bool()> stop_poll_;
  std::uint64_t checkpoint_every_ = 0;
  std::function<void()> checkpoint_;
  std::uint64_t finite_every_ = 10;
  NonFinite non_finite_;
  StepEngine* engine_ = nullptr;
};

} // namespace glia
