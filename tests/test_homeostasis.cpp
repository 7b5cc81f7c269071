// Homeostatic inhibitory gain (plasticity/homeostasis.hpp) through the whole engine:
// after the adaptation phase, with the gains frozen, every neuron of an E population
// fires within 10 % of its own target rate, for one target for all and for targets
// drawn per neuron; the gains are frozen after adapt_until; runs are bitwise identical
// with 1 and 2 threads; rule state round-trips through a state archive; bad settings
// are reported with file, line and key.
//
// The network: 200 E neurons (lif_delta, tau_m 50 ms) with heterogeneous drive (a
// Poisson input plus a constant current drawn per neuron), 200 I neurons driven by
// Poisson input and by E, and I->E (200 inputs per E neuron) carrying the gains. The
// E neurons fire in the mean-driven regime, so a rate measured over 20 s is precise
// to about 1-2 % (the test measures it, and prints the figures).
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/homeostasis.hpp"
#include "plasticity_checks.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

using namespace glia;
using namespace glia::test;

namespace {

constexpr double kAdaptMs = 30000.0, kTestMs = 20000.0;

// `rule`: the keys of [projection.plasticity] after rule = "homeostasis".
std::string homeostasis_experiment(const std::string& rule, double duration = kAdaptMs + kTestMs) {
  std::ostringstream s;
  s << "[run]\nduration = " << duration << R"(
dt = 0.1
seed = 7

[[population]]
name = "E"
model = "lif_delta"
size = 200
[population.params]
tau_m = 50.0
t_ref = 2.0
E_L = 0.0
V_th = 20.0
V_reset = 0.0
I_e = { dist = "uniform", low = 125.0, high = 275.0 }
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[population]]
name = "I"
model = "lif_delta"
size = 200
[population.params]
tau_m = 20.0
t_ref = 2.0
E_L = 0.0
V_th = 20.0
V_reset = 10.0
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[projection]]
pre = "E"
post = "I"
weight = 0.1
delay = 1.5
[projection.connect]
rule = "fixed_indegree"
indegree = 50

[[projection]]
name = "inh"
pre = "I"
post = "E"
weight = -0.05
delay = 1.5
[projection.connect]
rule = "fixed_indegree"
indegree = 200
[projection.plasticity]
rule = "homeostasis"
)" << rule
    << R"(
[[input]]
type = "poisson"
target = "E"
rate = 5000.0
weight = 0.1

[[input]]
type = "poisson"
target = "I"
rate = 12000.0
weight = 0.1
)";
  return s.str();
}

struct Outcome {
  double within = 0, mean_err = 0, max_err = 0; // fraction within 10 %, relative errors
  std::vector<double> gains;
  std::vector<std::uint64_t> spikes;
};

// Runs the adaptation phase, then measures each E neuron's rate over the test phase.
Outcome adapt_and_measure(const std::string& rule, int threads = 1, double adapt = kAdaptMs,
                          double test = kTestMs) {
  const Experiment ex = parse_experiment(homeostasis_experiment(rule), "homeo.toml");
  auto net = build_network(ex, threads);
  auto& engine = dynamic_cast<HomeostasisEngine&>(*net->projections()[1].plasticity);
  Simulator sim(*net);
  sim.run(static_cast<std::uint64_t>(std::llround(adapt / 0.1)));
  const std::vector<std::uint64_t> before = sim.stats(0).count;
  const std::vector<double> frozen = engine.gains();
  sim.run(static_cast<std::uint64_t>(std::llround(test / 0.1)));
  Outcome o;
  o.gains = engine.gains();
  REQUIRE(o.gains == frozen); // no change after adapt_until
  const auto& targets = engine.targets();
  std::size_t ok = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const double rate = static_cast<double>(sim.stats(0).count[i] - before[i]) / (test * 1e-3);
    const double err = std::abs(rate - targets[i]) / targets[i];
    ok += err <= 0.10;
    o.mean_err += err / static_cast<double>(targets.size());
    o.max_err = std::max(o.max_err, err);
  }
  o.within = static_cast<double>(ok) / static_cast<double>(targets.size());
  o.spikes = sim.stats(0).count;
  return o;
}

} // namespace

TEST_CASE("homeostasis: every neuron reaches its target rate within 10 %",
          "[plasticity][homeostasis]") {
  const std::string adapt =
      "eta = 0.001\ninterval = 100.0\nwindow = 100.0\nadapt_until = " + std::to_string(kAdaptMs) +
      "\n";
  struct Case {
    const char* name;
    std::string targets;
  };
  for (const Case& c : {Case{"homogeneous 20 Hz", "target = 20.0\n"},
                        Case{"heterogeneous 10-30 Hz", "target = 20.0\ntarget_spread = 10.0\n"}}) {
    // The same network without adaptation (gains stay at g0 = 1) misses the targets.
    const Outcome fixed =
        adapt_and_measure(c.targets + "eta = 0.001\nadapt_until = 0.0\n", 1, 1000.0, 5000.0);
    const Outcome o = adapt_and_measure(c.targets + adapt);
    double g_lo = 1e9, g_hi = 0;
    for (double g : o.gains) {
      g_lo = std::min(g_lo, g);
      g_hi = std::max(g_hi, g);
    }
    std::printf("homeostasis %s, rates over %.0f s after %.0f s of adaptation: %.1f %% of 200 "
                "neurons within 10 %% of target, mean |error| %.2f %%, max %.2f %%, gains "
                "%.3f..%.3f (gains fixed at 1: %.1f %% within, mean |error| %.1f %%)\n",
                c.name, kTestMs * 1e-3, kAdaptMs * 1e-3, 100 * o.within, 100 * o.mean_err,
                100 * o.max_err, g_lo, g_hi, 100 * fixed.within, 100 * fixed.mean_err);
    CHECK(o.within == 1.0);
    CHECK(o.mean_err < 0.03);
    CHECK(fixed.mean_err > 0.2); // the task is not solved by the initial gains
  }
}

namespace {

// Two post neurons made to fire at given times; one pre neuron; the gains of I->post.
std::string update_experiment(const std::string& post_times, const std::string& post_ids) {
  return R"([run]
duration = 500.0
dt = 0.1
seed = 1

[[population]]
name = "I"
model = "lif_delta"
size = 1

[[population]]
name = "post"
model = "lif_delta"
size = 2
[population.params]
E_L = 0.0
V_reset = 0.0
V_th = 20.0

[[projection]]
pre = "I"
post = "post"
weight = -1.5
delay = 1.0
[projection.connect]
rule = "all_to_all"
[projection.plasticity]
rule = "homeostasis"
target = 20.0
eta = 0.01
interval = 100.0
window = 200.0
adapt_until = 400.0

[[input]]
type = "spike_times"
target = "post"
weight = 100.0
times = [)" +
         post_times + "]\nids = [" + post_ids + "]\n";
}

} // namespace

TEST_CASE("homeostasis: every gain update is exactly the rule, with a box rate window",
          "[plasticity][homeostasis]") {
  // Neuron 0: 5 spikes in [0, 100) ms, 1 in [100, 200), none later. Neuron 1: none.
  const Experiment ex = parse_experiment(
      update_experiment("10.0, 20.0, 30.0, 40.0, 50.0, 150.0", "0, 0, 0, 0, 0, 0"), "upd.toml");
  auto net = build_network(ex, 2);
  auto& engine = dynamic_cast<HomeostasisEngine&>(*net->projections()[0].plasticity);
  Simulator sim(*net);
  // Window 200 ms, with fewer than 200 ms elapsed the rate is over the time elapsed.
  // (t, expected g of neuron 0, of neuron 1): rho = 20 Hz, eta = 0.01 / Hz.
  const double expect[][3] = {
      {100, 1.0 + 0.01 * (50 - 20), 1.0 - 0.2}, // 5 spikes / 0.1 s
      {200, 1.3 + 0.01 * (30 - 20), 0.8 - 0.2}, // 6 spikes / 0.2 s
      {300, 1.4 + 0.01 * (5 - 20), 0.6 - 0.2},  // 1 spike / 0.2 s (the first 100 ms left)
      {400, 1.25 + 0.01 * (0 - 20), 0.4 - 0.2}, // last update: t = adapt_until
      {500, 1.05, 0.2},                         // frozen
  };
  for (const auto& e : expect) {
    sim.run(1000);
    INFO("t = " << e[0] << " ms");
    CHECK(engine.gains()[0] == Approx(e[1]).epsilon(1e-12));
    CHECK(engine.gains()[1] == Approx(e[2]).epsilon(1e-12));
    // Delivered weights are g_i * w0.
    const Projection& pr = net->projections()[0];
    for (const auto& b : pr.blocks)
      for (std::size_t s = 0; s < b.size(); ++s)
        CHECK(pr.weight_of(b, s) == Approx(-1.5 * engine.gains()[b.target[s]]).epsilon(1e-6));
  }
  CHECK(engine.targets()[0] == 20.0);
}

TEST_CASE("homeostasis: a gain never goes below 0", "[plasticity][homeostasis]") {
  const Experiment ex = parse_experiment(update_experiment("10.0", "0"), "upd.toml");
  auto net = build_network(ex, 1);
  auto& engine = dynamic_cast<HomeostasisEngine&>(*net->projections()[0].plasticity);
  Simulator sim(*net);
  sim.run(4000); // neuron 1 never fires: 1, 0.8, 0.6, 0.4, 0.2 would be next ...
  CHECK(engine.gains()[1] == Approx(0.2).epsilon(1e-12));
  std::string text = update_experiment("10.0", "0");
  text.replace(text.find("eta = 0.01"), 10, "eta = 0.03"); // 1 - 4 * 0.6 < 0
  const Experiment ex2 = parse_experiment(text, "upd.toml");
  auto net2 = build_network(ex2, 1);
  auto& engine2 = dynamic_cast<HomeostasisEngine&>(*net2->projections()[0].plasticity);
  Simulator sim2(*net2);
  sim2.run(4000);
  CHECK(engine2.gains()[1] == 0.0);
}

TEST_CASE("homeostasis: heterogeneous targets are drawn per neuron from the seed",
          "[plasticity][homeostasis]") {
  const std::string rule = "target = 20.0\ntarget_spread = 10.0\neta = 0.001\n";
  const Experiment ex = parse_experiment(homeostasis_experiment(rule, 10.0), "homeo.toml");
  auto a = build_network(ex, 1), b = build_network(ex, 2);
  const auto& ta = dynamic_cast<HomeostasisEngine&>(*a->projections()[1].plasticity).targets();
  const auto& tb = dynamic_cast<HomeostasisEngine&>(*b->projections()[1].plasticity).targets();
  CHECK(ta == tb);
  double lo = 1e9, hi = 0, mean = 0;
  for (double t : ta) {
    lo = std::min(lo, t);
    hi = std::max(hi, t);
    mean += t / static_cast<double>(ta.size());
  }
  CHECK(lo >= 10.0);
  CHECK(hi <= 30.0);
  CHECK(hi - lo > 18.0);                   // 200 uniform draws span nearly the interval
  CHECK(mean == Approx(20.0).margin(1.5)); // 3 standard errors of 200 draws (std 5.8 Hz)
}

TEST_CASE("homeostasis: runs are bitwise identical with 1 and 2 threads",
          "[plasticity][homeostasis][determinism]") {
  const std::string rule = "target = 20.0\ntarget_spread = 10.0\neta = 0.001\nadapt_until = "
                           "1500.0\n";
  std::vector<std::vector<double>> gains;
  std::vector<std::vector<std::uint64_t>> ids;
  std::vector<std::vector<float>> weights;
  for (int threads : {1, 2}) {
    const Experiment ex = parse_experiment(homeostasis_experiment(rule, 2000.0), "homeo.toml");
    auto net = build_network(ex, threads);
    Simulator sim(*net);
    sim.record_spikes(0);
    sim.run(20000);
    gains.push_back(dynamic_cast<HomeostasisEngine&>(*net->projections()[1].plasticity).gains());
    ids.push_back(sim.spike_records()[0].ids);
    // Weights by (source, target), independent of the block split.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<float>> by_pair;
    const Projection& pr = net->projections()[1];
    for (const auto& b : pr.blocks)
      for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
        for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
          by_pair[{j, b.target[s]}].push_back(b.weight[s]);
    std::vector<float> w;
    for (const auto& [k, v] : by_pair) w.insert(w.end(), v.begin(), v.end());
    weights.push_back(w);
  }
  REQUIRE(ids[0].size() > 4000);
  CHECK(ids[0] == ids[1]);
  CHECK(std::memcmp(gains[0].data(), gains[1].data(), gains[0].size() * sizeof(double)) == 0);
  CHECK(weights[0] == weights[1]);
}

TEST_CASE("homeostasis: rule state round-trips through a state archive",
          "[plasticity][homeostasis]") {
  const std::string rule = "target = 20.0\neta = 0.001\nwindow = 300.0\n";
  const Experiment ex = parse_experiment(homeostasis_experiment(rule, 1000.0), "homeo.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.run(2500); // mid-window: counts pending in the current interval
  auto net2 = build_network(ex, 2);
  check_round_trip(*net->projections()[1].plasticity, *net2->projections()[1].plasticity);
  const auto& g = dynamic_cast<HomeostasisEngine&>(*net2->projections()[1].plasticity).gains();
  CHECK(g == dynamic_cast<HomeostasisEngine&>(*net->projections()[1].plasticity).gains());
  CHECK(g[0] != 1.0); // something was learnt before the save
}

TEST_CASE("experiments/homeostasis.toml: every E neuron ends within 10 % of 20 Hz",
          "[plasticity][homeostasis][cli]") {
  const auto [t, id] = run_experiment_file("homeostasis.toml", "E");
  std::vector<double> count(200, 0.0);
  for (std::size_t k = 0; k < t.size(); ++k)
    if (t[k] > 30000.0) ++count[id[k]]; // after adapt_until: 20 s with frozen gains
  double worst = 0;
  for (double c : count) worst = std::max(worst, std::abs(c / 20.0 - 20.0) / 20.0);
  std::printf("experiments/homeostasis.toml: worst E neuron %.2f %% from 20 Hz\n", 100 * worst);
  CHECK(worst <= 0.10);
}

TEST_CASE("bad homeostasis settings: exit 2 with file, line and key",
          "[plasticity][homeostasis][cli]") {
  const std::string ok = update_experiment("10.0", "0");
  expect_accepted(ok);
  const int plastic_line = line_of(ok, "[projection.plasticity]");
  std::string t = replaced(ok, "target = 20.0\n", "");
  expect_refused(t, plastic_line,
                 {"projection 'I->post'.plasticity.target", "required key missing"});
  t = replaced(ok, "eta = 0.01\n", "");
  expect_refused(t, plastic_line, {"projection 'I->post'.plasticity.eta", "required key missing"});
  t = replaced(ok, "window = 200.0", "window = 250.0");
  expect_refused(t, plastic_line,
                 {"projection 'I->post'.plasticity", "'window' (250 ms) must be a whole number "
                                                     "of intervals (100 ms)"});
  t = replaced(ok, "interval = 100.0", "interval = 100.05");
  expect_refused(t, plastic_line, {"'interval' (100.05 ms) must be a multiple of the time step"});
  t = replaced(ok, "eta = 0.01", "eta = 0.01\ntarget_spread = 25.0");
  expect_refused(t, plastic_line, {"'target_spread' (25 Hz) must not exceed 'target' (20 Hz)"});
  t = replaced(ok, "target = 20.0", "target = -5.0");
  expect_refused(t, line_of(t, "target = "), {"plasticity.target", ">= 0"});
  t = replaced(ok, "eta = 0.01", "eta = -0.01");
  expect_refused(t, line_of(t, "eta = "), {"plasticity.eta", "> 0"});
}
