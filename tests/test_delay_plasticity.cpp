// Delay plasticity (plasticity/delay_plasticity.hpp) through the whole engine:
//  - a spike in flight when its synapse's delay changes still arrives at its original
//    time, the next one with the new delay; delays stay within [1 step, max_delay];
//  - post neurons that receive a fixed spatio-temporal pattern from 20 inputs, through
//    random initial delays, learn delays that make the pattern's spikes arrive within
//    one step of each other, and then respond more to the pattern than to shuffled
//    versions of it (peak PSP of a non-firing copy with the learnt delays);
//  - plastic runs are bitwise identical with 1, 2 and 3 threads; rule state round-trips
//    through a state archive.
//
// Timing (as in test_stdp.cpp): a spike_times input at t makes a relay neuron fire in
// step round(t / dt); its spike arrives at step emission + delay, where the post neuron
// reads it in the same step.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/delay_plasticity.hpp"
#include "plasticity_checks.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace glia;
using namespace glia::test;

namespace {

constexpr double kDt = 0.1;

std::uint64_t step_of(double ms) {
  return static_cast<std::uint64_t>(std::llround(ms / kDt));
}

// One source "a" and one target "b" (a->b: 1 mV, 5 ms, max_delay 8 ms, eta = 1); both
// fire at given times from their own inputs.
std::string flight_experiment(const std::string& a_times, const std::string& b_times) {
  return "[run]\nduration = 300.0\ndt = 0.1\nseed = 1\n" + lif_population("a", 1) +
         lif_population("b", 1, "t_ref = 2.0\n") + R"(
[[projection]]
pre = "a"
post = "b"
weight = 1.0
delay = 5.0
max_delay = 8.0
[projection.connect]
rule = "one_to_one"
[projection.plasticity]
rule = "delay_plasticity"
eta = 1.0
window = 10.0

[[input]]
type = "spike_times"
target = "a"
weight = 100.0
times = [)" +
         a_times +
         R"(]

[[input]]
type = "spike_times"
target = "b"
weight = 100.0
times = [)" +
         b_times + "]\n";
}

} // namespace

TEST_CASE("delay plasticity: spikes in flight keep their delay, delays stay within one step and "
          "max_delay",
          "[plasticity][delay]") {
  // a fires at steps 100, 300, 1000, 1500, 2000, 2500; b at 110, 1090 and 2000.
  const Experiment ex = parse_experiment(
      flight_experiment("10.0, 30.0, 100.0, 150.0, 200.0, 250.0", "11.0, 109.0, 200.0"), "f.toml");
  auto net = build_network(ex, 1);
  const Projection& pr = net->projections()[0];
  REQUIRE(pr.max_delay == 80);
  REQUIRE(net->populations()[1]->ring().slots() >= 81u);
  Simulator sim(*net);
  sim.record_state(1, 0, 0, {0}, 1, "V_m");
  auto delay = [&] { return pr.blocks[0].delay[0]; };

  sim.run(111); // through b's spike at step 110: a's spike of step 100 is in flight
  // lag = 110 - (100 + 50) = -40 steps: the delay shortens to 10 steps.
  CHECK(delay() == 10);
  sim.run(1200 - 111);
  // b's spike at 1090 pairs with a's spike of 1000 (arrived at 1010): lag +80, delay
  // 10 + 80 = 90 steps would exceed max_delay: held at 80.
  CHECK(delay() == 80);
  sim.run(2001 - 1200);
  // b fires in step 2000 with a's spike of the same step, which arrives at 2080:
  // lag -80, 80 - 80 = 0 steps is below one step: held at 1.
  CHECK(delay() == 1);
  sim.run(3000 - 2001);

  // Where a's spikes arrived: the steps in which b's V_m jumped by the weight (b is at
  // rest at 0 mV and not refractory then, so V_m is exactly 0 before and 1 after).
  const auto& rec = sim.state_records()[0];
  std::vector<std::uint64_t> arrivals;
  for (std::size_t k = 1; k < rec.n_rows; ++k)
    if (rec.rows[k] - rec.rows[k - 1] > 0.5 && rec.rows[k] < 5.0) arrivals.push_back(k);
  std::ostringstream got;
  for (auto k : arrivals) got << k << " ";
  INFO("arrival steps: " << got.str());
  // 100 + 50: in flight while the delay became 10; 300 + 10; 1000 + 10; 1500 + 80
  // (after the change at 1090, while nothing was in flight); 2000 + 80: sent with 80
  // before the change to 1 in the same step; 2500 + 1.
  // The arrival at 1010 comes while b rests; 2080 while b (fired at 2000) is past its
  // refractory period.
  CHECK(arrivals == std::vector<std::uint64_t>{150, 310, 1010, 1580, 2080, 2501});
}

namespace {

constexpr int kInputs = 20, kPost = 4;
constexpr double kPeriod = 60.0; // ms between pattern presentations

// Pattern: input j fires at pattern_time[j] (ms, in [0, 20)) of each presentation.
std::vector<double> pattern_times() {
  std::mt19937 g(2024);
  std::vector<double> t(kInputs);
  for (auto& v : t) v = 0.1 * static_cast<double>(g() % 200);
  return t;
}

// The pattern with its times dealt to the inputs in another order.
std::vector<double> shuffled(const std::vector<double>& t, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<double> s = t;
  for (std::size_t i = s.size() - 1; i > 0; --i) std::swap(s[i], s[g() % (i + 1)]);
  return s;
}

// `inputs`: spike_times entries (times, ids) for the relays; `v_th`: the outputs'
// threshold (mV); `plastic`: whether in->out learns.
std::string pattern_experiment(const std::string& inputs, double duration, double v_th,
                               bool plastic, const std::string& extra = "") {
  std::ostringstream s;
  s << "[run]\nduration = " << duration << "\ndt = 0.1\nseed = 5\n"
    << lif_population("in", kInputs)
    << lif_population("out", kPost, "tau_m = 20.0\nt_ref = 2.0\n", v_th) << R"(
[[projection]]
pre = "in"
post = "out"
weight = 2.0
delay = { dist = "uniform", low = 1.0, high = 10.0 }
max_delay = 40.0
[projection.connect]
rule = "all_to_all"
)";
  if (plastic)
    s << "[projection.plasticity]\nrule = \"delay_plasticity\"\neta = 0.5\nwindow = 30.0\n";
  s << extra << inputs;
  return s.str();
}

std::string spike_times_input(const std::vector<double>& t, double start, double period) {
  std::ostringstream s;
  s << "\n[[input]]\ntype = \"spike_times\"\ntarget = \"in\"\nweight = 100.0\nstart = " << start
    << "\nperiod = " << period << "\ntimes = [";
  // Times must be non-decreasing: list the inputs in time order.
  std::vector<int> order(t.size());
  for (int j = 0; j < kInputs; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return t[a] < t[b]; });
  for (int k = 0; k < kInputs; ++k) s << (k ? ", " : "") << t[order[k]];
  s << "]\nids = [";
  for (int k = 0; k < kInputs; ++k) s << (k ? ", " : "") << order[k];
  s << "]\n";
  return s.str();
}

// delay[post][input], in steps.
using Delays = std::vector<std::vector<int>>;
Delays delays_of(const Projection& pr) {
  Delays d(kPost, std::vector<int>(kInputs, 0));
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s) d[b.target[s]][j] = pr.delay_of(b, s);
  return d;
}

// Spread (steps) of the pattern's arrival steps at post neuron i.
int arrival_spread(const Delays& d, const std::vector<double>& t, int i) {
  int lo = 1 << 30, hi = -(1 << 30);
  for (int j = 0; j < kInputs; ++j) {
    const int a = static_cast<int>(step_of(t[j])) + d[i][j];
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  return hi - lo;
}

// Peak PSP of each post neuron (no threshold) for each of the given patterns, through
// a static projection with delays d: one presentation every 200 ms.
std::vector<std::vector<double>> peak_psp(const Delays& d,
                                          const std::vector<std::vector<double>>& patterns) {
  std::string inputs;
  const double spacing = 200.0, every = spacing * static_cast<double>(patterns.size());
  for (std::size_t k = 0; k < patterns.size(); ++k)
    inputs += spike_times_input(patterns[k], spacing * static_cast<double>(k), every);
  const Experiment ex =
      parse_experiment(pattern_experiment(inputs, every, 1e6, false), "probe.toml");
  auto net = build_network(ex, 1);
  Projection& pr = net->projections()[0];
  for (auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
        b.delay[s] = static_cast<std::uint16_t>(d[b.target[s]][j]);
  Simulator sim(*net);
  std::vector<std::uint32_t> all;
  for (std::uint32_t i = 0; i < kPost; ++i) all.push_back(i);
  sim.record_state(1, 0, 0, all, 1, "V_m");
  sim.run(step_of(every));
  const auto& rec = sim.state_records()[0];
  std::vector<std::vector<double>> peak(kPost, std::vector<double>(patterns.size(), 0.0));
  for (std::size_t k = 0; k < rec.n_rows; ++k) {
    const std::size_t p = k / step_of(spacing);
    for (int i = 0; i < kPost; ++i) peak[i][p] = std::max(peak[i][p], rec.rows[k * kPost + i]);
  }
  return peak;
}

} // namespace

TEST_CASE("delay plasticity: a repeated pattern's spikes come to arrive within one step",
          "[plasticity][delay]") {
  const std::vector<double> t = pattern_times();
  const double learn_ms = 100 * kPeriod; // 100 presentations
  const Experiment ex = parse_experiment(
      pattern_experiment(spike_times_input(t, 0.0, kPeriod), learn_ms, 20.0, true), "learn.toml");
  auto net = build_network(ex, 1);
  const Delays before = delays_of(net->projections()[0]);
  Simulator sim(*net);
  sim.record_spikes(0);
  sim.run(step_of(learn_ms));
  const Delays after = delays_of(net->projections()[0]);
  // The relays fired the pattern: input j in step round(t_j / dt) of each presentation.
  const auto& relay = sim.spike_records()[0];
  REQUIRE(relay.ids.size() == 100u * kInputs);
  for (std::size_t k = 0; k < relay.ids.size(); ++k) {
    const auto emitted = static_cast<std::uint64_t>(std::llround(relay.times[k] / kDt)) - 1;
    REQUIRE(emitted % step_of(kPeriod) == step_of(t[relay.ids[k]]));
  }

  std::vector<std::vector<double>> patterns{t};
  for (std::uint32_t k = 0; k < 20; ++k) patterns.push_back(shuffled(t, 100 + k));
  const auto psp_before = peak_psp(before, patterns);
  const auto psp_after = peak_psp(after, patterns);
  for (int i = 0; i < kPost; ++i) {
    const int spread0 = arrival_spread(before, t, i), spread1 = arrival_spread(after, t, i);
    auto best_shuffle = [&](const std::vector<double>& v) {
      return *std::max_element(v.begin() + 1, v.end());
    };
    auto mean_shuffle = [&](const std::vector<double>& v) {
      double m = 0;
      for (std::size_t k = 1; k < v.size(); ++k) m += v[k] / static_cast<double>(v.size() - 1);
      return m;
    };
    std::printf("delay learning, post neuron %d: arrival spread %d -> %d steps; peak PSP to the "
                "pattern %.2f -> %.2f mV, to 20 shuffled patterns mean %.2f -> %.2f, best %.2f "
                "-> %.2f mV; %llu post spikes in %d presentations\n",
                i, spread0, spread1, psp_before[i][0], psp_after[i][0], mean_shuffle(psp_before[i]),
                mean_shuffle(psp_after[i]), best_shuffle(psp_before[i]), best_shuffle(psp_after[i]),
                static_cast<unsigned long long>(sim.stats(1).count[i]), 100);
    CHECK(spread0 > 50);
    CHECK(spread1 <= 1);
    CHECK(psp_after[i][0] > best_shuffle(psp_after[i]));
    CHECK(psp_after[i][0] > psp_before[i][0]);
    for (int j = 0; j < kInputs; ++j) {
      CHECK(after[i][j] >= 1);
      CHECK(after[i][j] <= 400);
    }
  }
}

TEST_CASE("delay plasticity: runs are bitwise identical with 1, 2 and 3 threads",
          "[plasticity][delay][determinism]") {
  const std::vector<double> t = pattern_times();
  // Background input makes the post spikes irregular: pairings in both orders, in flight.
  const std::string noise = R"(
[[input]]
type = "poisson"
target = "out"
rate = 800.0
weight = 5.0
)";
  std::vector<Delays> delays;
  std::vector<std::vector<std::uint64_t>> ids;
  std::vector<std::vector<double>> times;
  for (int threads : {1, 2, 3}) {
    const Experiment ex = parse_experiment(
        pattern_experiment(spike_times_input(t, 0.0, kPeriod), 3000.0, 20.0, true, noise),
        "det.toml");
    auto net = build_network(ex, threads);
    Simulator sim(*net);
    sim.record_spikes(1);
    sim.run(15000);
    sim.run(15000);
    delays.push_back(delays_of(net->projections()[0]));
    ids.push_back(sim.spike_records()[0].ids);
    times.push_back(sim.spike_records()[0].times);
  }
  REQUIRE(ids[0].size() > 1000);
  for (int k : {1, 2}) {
    CHECK(ids[0] == ids[k]);
    CHECK(std::memcmp(times[0].data(), times[k].data(), times[0].size() * sizeof(double)) == 0);
    CHECK(delays[0] == delays[k]);
  }
}

TEST_CASE("delay plasticity: rule state round-trips through a state archive",
          "[plasticity][delay]") {
  const std::vector<double> t = pattern_times();
  const Experiment ex = parse_experiment(
      pattern_experiment(spike_times_input(t, 0.0, kPeriod), 600.0, 20.0, true), "rt.toml");
  auto net = build_network(ex, 2);
  Simulator sim(*net);
  sim.run(3015); // mid-presentation: spikes in flight, fractional remainders
  auto net2 = build_network(ex, 1);
  check_round_trip(*net->projections()[0].plasticity, *net2->projections()[0].plasticity);
}

TEST_CASE("bad delay plasticity settings: exit 2 with file, line and key",
          "[plasticity][delay][cli]") {
  const std::string ok = flight_experiment("10.0", "11.0");
  expect_accepted(ok);
  const int plastic_line = line_of(ok, "[projection.plasticity]");
  // max_delay below the initial delays.
  std::string t = replaced(ok, "max_delay = 8.0", "max_delay = 4.0");
  expect_refused(t, line_of(t, "max_delay"),
                 {"projection 'a->b'.max_delay", "below the longest delay (5 ms)"});
  // The same with delays from a connection file.
  t = replaced(
      ok, "weight = 1.0\ndelay = 5.0\nmax_delay = 8.0\n[projection.connect]\nrule = \"one_to_one\"",
      "max_delay = 2.0\n[projection.connect]\nrule = \"explicit\"\nfile = \"conn.csv\"");
  expect_refused(t, line_of(t, "max_delay"),
                 {"projection 'a->b'.max_delay: max_delay 2 ms is below the longest delay (2.5 ms "
                  "in the connection file)"},
                 "source,target,weight,delay\n0,0,1.0,2.5\n");
  // No max_delay: the rule cannot know how far delays may grow.
  t = replaced(ok, "max_delay = 8.0\n", "");
  expect_refused(t, plastic_line - 1,
                 {"projection 'a->b'.plasticity", "needs the projection's "
                                                  "'max_delay'"});
  // Negative and missing learning rate.
  t = replaced(ok, "eta = 1.0", "eta = -0.5");
  expect_refused(t, line_of(t, "eta = "), {"projection 'a->b'.plasticity.eta", "> 0"});
  t = replaced(ok, "eta = 1.0\n", "");
  expect_refused(t, plastic_line, {"projection 'a->b'.plasticity.eta", "required key missing"});
  // Unknown key, with a suggestion.
  t = replaced(ok, "window = 10.0", "windw = 10.0");
  expect_refused(t, line_of(t, "windw"), {"plasticity.windw", "did you mean 'window'"});
}

TEST_CASE("experiments/delay_learning.toml: the learnt pattern fires the outputs, the shuffled "
          "one does not",
          "[plasticity][delay][cli]") {
  const auto [t, id] = run_experiment_file("delay_learning.toml", "out");
  // Test phase: pattern at 6000 + 400 k, shuffled at 6200 + 400 k (k < 10).
  std::vector<std::vector<int>> pattern(10, std::vector<int>(4, 0)),
      shuffle(10, std::vector<int>(4, 0));
  std::size_t learning = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t[k] < 6000.0) {
      ++learning;
      continue;
    }
    const int p = static_cast<int>((t[k] - 6000.0) / 400.0);
    const bool shuffled = std::fmod(t[k] - 6000.0, 400.0) >= 200.0;
    ++(shuffled ? shuffle : pattern)[p][id[k]];
  }
  CHECK(learning >= 400); // every output fired in every learning presentation
  for (int p = 0; p < 10; ++p)
    for (int i = 0; i < 4; ++i) {
      INFO("presentation " << p << ", output " << i);
      CHECK(pattern[p][i] == 1);
      CHECK(shuffle[p][i] == 0);
    }
}

TEST_CASE("spike_times with a period repeats its times from start until stop", "[io][inputs]") {
  const std::string text = "[run]\nduration = 100.0\ndt = 0.1\n" + lif_population("in", 2) + R"(
[[input]]
type = "spike_times"
target = "in"
weight = 100.0
start = 10.0
period = 25.0
stop = 70.0
times = [0.0, 3.5]
ids = [1, 0]
)";
  const Experiment ex = parse_experiment(text, "period.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.record_spikes(0);
  sim.run(1000);
  const auto& rec = sim.spike_records()[0];
  // 10 + 25 k + {0, 3.5} below 70: 10, 13.5, 35, 38.5, 60, 63.5 (recorded one step later).
  const std::vector<double> want_t{10.1, 13.6, 35.1, 38.6, 60.1, 63.6};
  const std::vector<std::uint64_t> want_id{1, 0, 1, 0, 1, 0};
  REQUIRE(rec.times.size() == want_t.size());
  for (std::size_t k = 0; k < want_t.size(); ++k) {
    CHECK(rec.times[k] == Approx(want_t[k]));
    CHECK(rec.ids[k] == want_id[k]);
  }
  // Without stop, the pattern fills the run.
  std::string open = text;
  open.replace(open.find("stop = 70.0\n"), 12, "");
  auto net2 = build_network(parse_experiment(open, "period.toml"), 1);
  Simulator sim2(*net2);
  sim2.record_spikes(0);
  sim2.run(1000);
  CHECK(sim2.spike_records()[0].times.size() == 8); // 10, 35, 60, 85 (+3.5 each)

  std::string bad = text;
  bad.replace(bad.find("times = [0.0, 3.5]"), 18, "times = [0.0, 25.0]");
  try {
    parse_experiment(bad, "period.toml");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("period.toml:" + std::to_string(line_of(bad, "period")) + ":") &&
                   Catch::Contains("input #0.period: every time must be below the "
                                   "period (25 ms), got 25"));
  }
}
