// Tests of synaptic delays through the whole step loop: a source neuron fires at known
// steps, and every synapse's weight must show up in its target's V_m exactly `delay`
// steps later (a spike of step s lands in the ring slot of step s + d and is read by
// the update of that step). Covered: the shortest delay (one step), a constant 1.5 ms
// delay, heterogeneous delays from an explicit list (several synapses per target, the
// projection's maximum 20 ms, delays that must be rounded to steps) and drawn delays;
// the source fires often enough for the ring buffers to wrap many times. The same
// convention is then checked end to end from an experiment file, and on a recurrent
// E/I network against a plain loop over its synapses.
#include "ei_network.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/connectivity.hpp"
#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

const glia::ModelInfo& lif_delta() {
  const glia::ModelInfo* m = glia::Registry::global().find("lif_delta");
  REQUIRE(m != nullptr);
  return *m;
}

int param(const std::string& name) {
  const int k = glia::find_spec(lif_delta().params, name);
  REQUIRE(k >= 0);
  return k;
}

int v_m() {
  const int k = glia::find_spec(lif_delta().state, "V_m");
  REQUIRE(k >= 0);
  return k;
}

// A population that only sums its input: no threshold in reach, no leak worth the name
// (tau_m = 1e12 ms), rest and start at 0, so V_m is the running sum of arrived weights.
int add_counters(glia::Network& net, const std::string& name, std::uint32_t n) {
  glia::PopulationSetup setup;
  setup.name = name;
  setup.size = n;
  glia::Population& pop = net.add_population(lif_delta(), setup);
  pop.set_param(param("E_L"), {0.0});
  pop.set_param(param("V_reset"), {0.0});
  pop.set_param(param("V_th"), {1e9});
  pop.set_param(param("tau_m"), {1e12});
  std::fill_n(pop.state(v_m()), n, 0.0);
  return pop.index();
}

struct Planned {
  std::string target;
  std::uint32_t n_targets;
  glia::ConnectSpec spec;
  glia::Distribution weight, delay;
};

// Steps at which the source is made to fire: more than its 2 ms refractory period
// apart, some closer together than the longest delay (several spikes in flight), the
// last one late enough that its slowest synapse still arrives within the run.
const std::vector<std::uint64_t> kSpikeSteps = {4, 30, 61, 205, 240, 600, 777, 1201};
constexpr std::uint64_t kSteps = 1450;
constexpr double kDt = 0.1;

void check_arrivals(int threads) {
  CAPTURE(threads);
  glia::Network net(kDt, 11, threads);
  glia::PopulationSetup src_setup;
  src_setup.name = "src";
  src_setup.size = 1;
  net.add_population(lif_delta(), src_setup); // defaults: rest -70, threshold -55
  // Each step in kSpikeSteps pushes the source 100 mV past rest: it fires in that step.
  auto drive = std::make_unique<glia::SpikeTimesInput>(
      kSpikeSteps, std::vector<std::uint32_t>(kSpikeSteps.size(), 0), 100.0, 0);
  drive->target = 0;
  net.add_input(std::move(drive));

  std::vector<Planned> plan;
  {
    Planned p{"one_step",
              1,
              {},
              glia::Distribution::constant_of(1.0),
              glia::Distribution::constant_of(kDt)};
    plan.push_back(p);
  }
  {
    Planned p{"brunel",
              3,
              {},
              glia::Distribution::constant_of(1.0),
              glia::Distribution::constant_of(1.5)};
    plan.push_back(p);
  }
  {
    // Weights are distinct powers of two, so each step's jump says which synapses arrived.
    Planned p{"listed", 6, {}, {}, {}};
    p.spec.rule = glia::ConnectSpec::Rule::explicit_list;
    p.spec.sources = {0, 0, 0, 0, 0, 0, 0, 0};
    p.spec.targets = {0, 1, 2, 3, 4, 5, 2, 5};
    p.spec.delays = {0.1, 0.2, 1.5, 3.0, 7.7, 20.0, 12.3, 0.1};
    p.spec.weights = {1, 2, 4, 8, 16, 32, 64, 128};
    plan.push_back(p);
  }
  {
    Planned p{"drawn", 40, {}, glia::Distribution::constant_of(1.0), {}};
    p.delay.kind = glia::Distribution::Kind::uniform;
    p.delay.low = kDt;
    p.delay.high = 20.0;
    plan.push_back(p);
  }
  std::vector<int> pops;
  for (std::size_t j = 0; j < plan.size(); ++j) {
    const int post = add_counters(net, plan[j].target, plan[j].n_targets);
    pops.push_back(post);
    glia::Projection proj;
    proj.name = "src->" + plan[j].target;
    proj.pre = 0;
    proj.post = post;
    glia::ConnectRequest req;
    req.spec = &plan[j].spec;
    req.weight = plan[j].weight;
    req.delay = plan[j].delay;
    req.n_pre = 1;
    req.n_post = plan[j].n_targets;
    req.dt = kDt;
    req.seed = 11;
    req.index = static_cast<std::uint32_t>(j);
    glia::connect(proj, req, net.blocks(post));
    net.add_projection(std::move(proj));
  }
  // Delays in steps, written out independently of the engine for the fixed cases.
  const auto& projs = net.projections();
  REQUIRE(projs[0].constant_delay);
  CHECK(projs[0].delay == 1);
  REQUIRE(projs[1].constant_delay);
  CHECK(projs[1].delay == 15);
  CHECK(projs[2].max_delay == 200);
  const std::vector<std::uint16_t> listed_steps = {1, 2, 15, 30, 77, 200, 123, 1};

  // Expected arrivals: expected[population][neuron * kSteps + step] = summed weight.
  std::vector<std::vector<double>> expected(plan.size());
  std::uint16_t drawn_max = 0, drawn_min = 65535;
  for (std::size_t j = 0; j < plan.size(); ++j) {
    expected[j].assign(static_cast<std::size_t>(plan[j].n_targets) * kSteps, 0.0);
    const glia::Projection& pr = projs[j];
    std::size_t count = 0;
    for (const auto& blk : pr.blocks)
      for (std::uint64_t k = blk.row[0]; k < blk.row[1]; ++k) {
        const std::uint32_t t = blk.target[k];
        const double w = pr.weight_of(blk, k);
        std::uint16_t d = pr.delay_of(blk, k);
        if (j == 2) {
          // Which listed synapse this is: its weight is 2^index.
          const auto idx = static_cast<std::size_t>(std::llround(std::log2(w)));
          REQUIRE(plan[j].spec.targets[idx] == t);
          CHECK(d == listed_steps[idx]);
          d = listed_steps[idx];
        }
        if (j == 3) {
          drawn_max = std::max(drawn_max, d);
          drawn_min = std::min(drawn_min, d);
        }
        for (std::uint64_t s : kSpikeSteps)
          if (s + d < kSteps) expected[j][t * kSteps + s + d] += w;
        ++count;
      }
    CHECK(count == (j == 2 ? 8u : plan[j].n_targets));
  }
  CHECK(drawn_min >= 1);
  CHECK(drawn_max <= 200);
  CHECK(projs[3].max_delay == drawn_max);
  CHECK(drawn_max > drawn_min); // the drawn delays really differ

  net.prepare();
  glia::Simulator sim(net);
  sim.record_spikes(0);
  for (std::size_t j = 0; j < plan.size(); ++j) {
    std::vector<std::uint32_t> all(plan[j].n_targets);
    for (std::uint32_t i = 0; i < plan[j].n_targets; ++i) all[i] = i;
    sim.record_state(pops[j], v_m(), 0, all, 1, "V_m");
  }
  sim.run(kSteps);

  // The source fired in exactly the driven steps (spike times are step ends).
  const auto& spikes = sim.spike_records().at(0);
  REQUIRE(spikes.times.size() == kSpikeSteps.size());
  for (std::size_t k = 0; k < kSpikeSteps.size(); ++k)
    CHECK(std::llround(spikes.times[k] / kDt) - 1 == static_cast<long long>(kSpikeSteps[k]));

  for (std::size_t j = 0; j < plan.size(); ++j) {
    const auto& rec = sim.state_records().at(j);
    const std::uint32_t n = plan[j].n_targets;
    REQUIRE(rec.n_rows == kSteps);
    std::size_t mismatches = 0, arrivals = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      double prev = 0.0;
      for (std::uint64_t s = 0; s < kSteps; ++s) {
        const double v = rec.rows[s * n + i];
        const double jump = v - prev, want = expected[j][i * kSteps + s];
        prev = v;
        if (want != 0.0) ++arrivals;
        // Whole-weight jumps against a drift of 1e-13 per step: a miss by a step shows.
        if (std::abs(jump - want) > 1e-6) {
          if (mismatches++ < 5)
            UNSCOPED_INFO(plan[j].target << "[" << i << "] step " << s << ": jump " << jump
                                         << ", expected " << want);
        }
      }
    }
    CAPTURE(plan[j].target, arrivals);
    CHECK(arrivals > 0);
    CHECK(mismatches == 0);
  }
}

} // namespace

TEST_CASE("every synapse's input arrives exactly its delay after the spike", "[engine][delays]") {
  SECTION("one thread") {
    check_arrivals(1);
  }
  // Three blocks, so targets split unevenly (one block of the 1-neuron population is
  // empty). More threads than a small machine's cores also keeps this quick under load:
  // libgomp then yields at barriers instead of spinning.
  SECTION("three threads") {
    check_arrivals(3);
  }
}

TEST_CASE("spike_times input and projection delays in an experiment file", "[engine][delays]") {
  // A spike at 1.0 ms with the default input delay (dt) reaches the source at 1.1 ms,
  // which fires then; its 1.5 ms projection makes the target's V_m move at 2.6 ms.
  const std::string text = R"(
[run]
duration = 5.0
dt = 0.1
seed = 1

[[population]]
name = "src"
model = "lif_delta"
size = 1

[[population]]
name = "tgt"
model = "lif_delta"
size = 2
[population.params]
V_th = 1000.0

[[projection]]
pre = "src"
post = "tgt"
weight = 2.0
delay = 1.5
[projection.connect]
rule = "all_to_all"

[[input]]
type = "spike_times"
target = "src"
times = [1.0, 3.3]
weight = 100.0

[[record]]
type = "spikes"
population = "src"

[[record]]
type = "state"
population = "tgt"
neurons = [1]
variables = ["V_m"]
)";
  const glia::Experiment ex = glia::parse_experiment(text, "delays.toml");
  auto net = glia::build_network(ex);
  glia::Simulator sim(*net);
  glia::attach_records(ex, sim);
  sim.run(50);

  const auto& spikes = sim.spike_records().at(0);
  REQUIRE(spikes.times.size() == 2);
  CHECK(spikes.times[0] == Approx(1.1).margin(1e-12));
  CHECK(spikes.times[1] == Approx(3.4).margin(1e-12));

  // Row r of a state record holds V_m at the end of step r, time (r + 1) dt.
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.n_rows == 50);
  std::vector<std::size_t> moved;
  for (std::size_t r = 1; r < 50; ++r) {
    const double rise = rec.rows[r] - rec.rows[r - 1];
    if (rise > 1.0) moved.push_back(r);
  }
  REQUIRE(rec.rows[0] == -70.0);
  REQUIRE(moved.size() == 2);
  CHECK(moved[0] == 25); // 2.6 ms = 1.1 + 1.5
  CHECK(moved[1] == 48); // 4.9 ms = 3.4 + 1.5
  CHECK(rec.rows[24] == -70.0);
  CHECK(rec.rows[25] == Approx(-68.0).margin(1e-12));
}

TEST_CASE("a recurrent E/I network steps as a plain loop over its synapses", "[engine][delays]") {
  // Brunel's network at a fifth of its size with a DC drive instead of Poisson input, so
  // that a loop of a few lines over the synapses glia built (every spike of step k adds its
  // weight to its targets in step k + 15, input during the refractory period discarded)
  // must give the same spikes in every step: no delivery that favours one population,
  // projection, block or source, with 1 and 2 threads.
  constexpr std::uint32_t kN[2] = {2000, 500};
  constexpr int kSteps = 60, kDelay = 15, kRefSteps = 20;
  constexpr double kIe = 501.25, kCm = 250.0, kTau = 20.0; // drive 0.2 mV per step
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    glia::Network net(kDt, 5, threads);
    std::vector<std::vector<double>> v(2);
    for (std::uint32_t p = 0; p < 2; ++p) {
      glia::PopulationSetup setup;
      setup.name = std::string(1, "EI"[p]);
      setup.size = kN[p];
      glia::Population& pop = net.add_population(lif_delta(), setup);
      for (auto [k, x] : {std::pair{"tau_m", kTau},
                          {"t_ref", 2.0},
                          {"E_L", 0.0},
                          {"V_th", 20.0},
                          {"V_reset", 10.0},
                          {"I_e", kIe},
                          {"C_m", kCm}})
        pop.set_param(param(k), {x});
      for (std::uint32_t i = 0; i < kN[p]; ++i) // spread over [0, 20) mV
        v[p].push_back(20.0 * std::fmod(0.6180339887 * (i + 1 + 7919 * p), 1.0));
      std::copy(v[p].begin(), v[p].end(), pop.state(glia::find_spec(lif_delta().state, "V_m")));
    }
    glia::ConnectSpec spec[2];
    for (int pre = 0; pre < 2; ++pre) {
      spec[pre].rule = glia::ConnectSpec::Rule::fixed_indegree;
      spec[pre].degree = pre == 0 ? 1000 : 250;
    }
    glia::test::connect_ei(
        net, spec, {glia::Distribution::constant_of(0.1), glia::Distribution::constant_of(-0.5)},
        kDelay * kDt, 5);
    const auto inputs = glia::test::synapses_into(net);
    net.prepare();
    glia::Simulator sim(net);
    sim.record_spikes(0);
    sim.record_spikes(1);
    sim.run(kSteps);

    const double p22 = std::exp(-kDt / kTau), p20 = kTau / kCm * -std::expm1(-kDt / kTau);
    std::vector<std::vector<std::vector<char>>> fired(kSteps, std::vector<std::vector<char>>(2));
    std::vector<std::vector<int>> ref(2);
    for (int p = 0; p < 2; ++p) ref[p].assign(kN[p], 0);
    for (int s = 0; s < kSteps; ++s)
      for (int p = 0; p < 2; ++p) {
        fired[s][p].assign(kN[p], 0);
        for (std::uint32_t i = 0; i < kN[p]; ++i) {
          double in = 0.0;
          if (s >= kDelay)
            for (const auto& x : inputs[p][i])
              in += fired[s - kDelay][x.pre][x.source] ? x.weight : 0.0;
          const double v_free = v[p][i] * p22 + kIe * p20 + in;
          if (ref[p][i] > 0) {
            --ref[p][i];
          } else if (v_free >= 20.0) {
            fired[s][p][i] = 1;
            v[p][i] = 10.0;
            ref[p][i] = kRefSteps;
          } else {
            v[p][i] = v_free;
          }
        }
      }
    std::size_t total = 0, late = 0;
    for (int p = 0; p < 2; ++p) {
      const auto& rec = sim.spike_records().at(static_cast<std::size_t>(p));
      std::vector<std::vector<char>> got(kSteps, std::vector<char>(kN[p], 0));
      for (std::size_t k = 0; k < rec.ids.size(); ++k)
        got[static_cast<std::size_t>(std::lround(rec.times[k] / kDt)) - 1][rec.ids[k]] = 1;
      for (int s = 0; s < kSteps; ++s) {
        INFO("population "
             << "EI"[p] << ", step " << s);
        CHECK(got[s] == fired[s][p]);
        const auto n = static_cast<std::size_t>(std::count(got[s].begin(), got[s].end(), 1));
        total += n;
        late += s >= kDelay ? n : 0;
      }
    }
    // The recurrent input shapes the steps after the first arrivals.
    CHECK(total > 300);
    CHECK(late > 100);
  }
}

// Spans: with several threads the threads meet once per span of steps up to the shortest
// delay (here 15), spans cut short at flushes (every 23 steps) and state checks (every 37).
// Drawn delays and weights, two populations, sampled state: every thread count, in spans
// or with one barrier per step, gives the same spikes and state, bit for bit.
TEST_CASE("spans of steps between barriers give the bits of one barrier per step",
          "[engine][delays][determinism]") {
  const std::string text = R"([run]
duration = 300.0
dt = 0.1
seed = 3

[[population]]
name = "E"
model = "lif_delta"
size = 300
[population.params]
tau_m = 20.0
E_L = 0.0
V_reset = 10.0
V_th = 20.0
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[population]]
name = "I"
model = "lif_delta"
size = 97
[population.params]
tau_m = 10.0
E_L = 0.0
V_reset = 0.0
V_th = 15.0

[[projection]]
pre = "E"
post = "E"
weight = { dist = "uniform", low = 0.1, high = 0.6 }
delay = { dist = "uniform", low = 1.5, high = 4.0 }
[projection.connect]
rule = "fixed_probability"
p = 0.1

[[projection]]
pre = "E"
post = "I"
weight = 0.4
delay = 1.5
[projection.connect]
rule = "fixed_indegree"
indegree = 40

[[projection]]
pre = "I"
post = "E"
weight = -1.5
delay = 2.3
[projection.connect]
rule = "fixed_indegree"
indegree = 20

[[input]]
type = "poisson"
target = "E"
rate = 9000.0
weight = 0.2
)";
  const glia::Experiment ex = glia::parse_experiment(text, "spans.toml");
  struct Result {
    std::vector<std::uint64_t> ids[2];
    std::vector<double> times[2], v;
  };
  std::vector<Result> results;
  for (int threads : {1, 2, 3})
    for (bool lockstep : {true, false}) {
      auto net = glia::build_network(ex, threads);
      glia::Simulator sim(*net);
      CHECK(sim.span() == 15);
      if (lockstep) sim.limit_span(1);
      sim.set_flush_interval(23);
      sim.set_finite_check(37);
      sim.record_spikes(0);
      sim.record_spikes(1);
      sim.record_state(0, 0, 0, {0, 101, 150, 299}, 3, "V_m");
      const auto t0 = std::chrono::steady_clock::now();
      sim.run(1700);
      const std::vector<double> busy_first = sim.thread_busy();
      sim.run(1300);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Each thread's time at work, over both runs: none longer than the runs took.
      const std::vector<double>& busy = sim.thread_busy();
      REQUIRE(busy.size() == static_cast<std::size_t>(threads));
      for (std::size_t t = 0; t < busy.size(); ++t) {
        CHECK(busy_first[t] > 0.0);
        CHECK(busy[t] > busy_first[t]);
        CHECK(busy[t] <= wall);
      }
      Result r;
      for (int p = 0; p < 2; ++p) {
        r.ids[p] = sim.spike_records()[static_cast<std::size_t>(p)].ids;
        r.times[p] = sim.spike_records()[static_cast<std::size_t>(p)].times;
      }
      const auto& rec = sim.state_records()[0];
      r.v.assign(rec.rows.begin(),
                 rec.rows.begin() + static_cast<std::ptrdiff_t>(rec.n_rows * rec.neurons.size()));
      results.push_back(std::move(r));
    }
  const Result& ref = results[0]; // 1 thread, one barrier per step
  REQUIRE(ref.ids[0].size() > 1000);
  REQUIRE(ref.ids[1].size() > 100);
  REQUIRE(ref.v.size() == 1000 * 4);
  for (std::size_t k = 1; k < results.size(); ++k) {
    INFO((1 + k / 2) << " thread(s), " << (k % 2 ? "spans" : "one barrier per step"));
    for (int p = 0; p < 2; ++p) {
      CHECK(results[k].ids[p] == ref.ids[p]);
      CHECK(results[k].times[p] == ref.times[p]);
    }
    CHECK(results[k].v.size() == ref.v.size());
    CHECK(std::memcmp(results[k].v.data(), ref.v.data(), ref.v.size() * sizeof(double)) == 0);
  }
}
