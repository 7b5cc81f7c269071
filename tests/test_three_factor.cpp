// The three-factor rule and its modulators through the whole engine: the eligibility
// trace and the weight of single synapses equal the closed form for given spike trains,
// modulator pulses and gate schedule (STDP, Hebbian and pre-only terms, global and
// per-neuron signals); the reward task schedules one delayed reward per pairing inside
// the window and none outside it; the error modulator follows its closed form; runs are
// bitwise identical across thread counts; bad input names file, line and key.
//
// Timing (sim/plasticity.hpp): a spike emitted in step s arrives in step s + delay and
// is handled before the post spikes of that step; modulators see the spikes of step s
// at the end of step s, and weights change at the end of steps u with (u + 1) % K == 0.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/error_signal.hpp"
#include "plasticity/reward.hpp"
#include "plasticity/three_factor.hpp"
#include "run_glia.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace glia;

namespace {

// Steps of the recorded spikes of population `pop` (neuron `i`), in time order.
std::vector<std::int64_t> spike_steps(const Simulator& sim, int pop, std::uint32_t i, double dt) {
  std::vector<std::int64_t> out;
  for (const auto& r : sim.spike_records())
    if (r.population == pop)
      for (std::size_t k = 0; k < r.ids.size(); ++k)
        if (r.ids[k] == i) out.push_back(std::llround(r.times[k] / dt) - 1);
  return out;
}

std::string list(const std::vector<double>& v) {
  std::ostringstream s;
  for (std::size_t k = 0; k < v.size(); ++k) s << (k ? ", " : "") << v[k];
  return s.str();
}

// Two populations of `n` lif_delta neurons that fire exactly when a 100 mV input
// arrives, spike_times inputs for each, one plastic projection pre -> post.
std::string pair_experiment(int n, const std::string& connect, double delay,
                            const std::vector<double>& pre_t, const std::vector<double>& pre_ids,
                            const std::vector<double>& post_t, const std::vector<double>& post_ids,
                            const std::string& plasticity, const std::string& modulators) {
  std::ostringstream s;
  s << "[run]\nduration = 1000.0\ndt = 1.0\nseed = 7\n";
  for (const char* name : {"pre", "post"})
    s << "\n[[population]]\nname = \"" << name << "\"\nmodel = \"lif_delta\"\nsize = " << n
      << "\n[population.params]\nE_L = 0.0\nV_reset = 0.0\nV_th = 20.0\nt_ref = 0.0\n";
  s << "\n[[projection]]\nname = \"pp\"\npre = \"pre\"\npost = \"post\"\nweight = 0.0\ndelay = "
    << delay << "\n[projection.connect]\nrule = \"" << connect
    << "\"\n[projection.plasticity]\nrule = \"three_factor\"\n"
    << plasticity << "\n"
    << modulators
    << "\n[[input]]\ntype = \"spike_times\"\ntarget = \"pre\"\nweight = 100.0\ntimes = ["
    << list(pre_t) << "]\nids = [" << list(pre_ids)
    << "]\n\n[[input]]\ntype = \"spike_times\"\ntarget = \"post\"\nweight = 100.0\ntimes = ["
    << list(post_t) << "]\nids = [" << list(post_ids) << "]\n";
  return s.str();
}

// Closed-form STDP increments of one synapse: arrivals at steps `arr`, post spikes at
// `post`; returns (step, increment) for the eligibility trace.
std::vector<std::pair<std::int64_t, double>> stdp_increments(const std::vector<std::int64_t>& arr,
                                                             const std::vector<std::int64_t>& post,
                                                             double a_plus, double a_minus,
                                                             double tau_plus, double tau_minus,
                                                             bool hebbian, bool nearest) {
  std::vector<std::pair<std::int64_t, double>> inc;
  for (std::int64_t a : arr) { // post spikes strictly before the arrival
    double y = 0.0;
    for (std::int64_t p : post)
      if (p < a) y = nearest ? std::exp(-(a - p) / tau_minus) : y + std::exp(-(a - p) / tau_minus);
    inc.emplace_back(a, (hebbian ? a_minus : -a_minus) * y);
  }
  for (std::int64_t p : post) { // arrivals up to and including the post spike's step
    double x = 0.0;
    for (std::int64_t a : arr)
      if (a <= p) x = nearest ? std::exp(-(p - a) / tau_plus) : x + std::exp(-(p - a) / tau_plus);
    inc.emplace_back(p, a_plus * x);
  }
  return inc;
}

double trace_at(const std::vector<std::pair<std::int64_t, double>>& inc, std::int64_t u,
                double tau) {
  double e = 0.0;
  for (const auto& [s, a] : inc)
    if (s <= u) e += a * std::exp(-static_cast<double>(u - s) / tau);
  return e;
}

ThreeFactorEngine& engine(Network& net, int proj) {
  return dynamic_cast<ThreeFactorEngine&>(*net.projections()[proj].plasticity);
}

// A reward modulator "da" watching pp's synapse 0 -> `post`, delays of 100..300 ms, its
// counters recorded every step.
std::string task_modulator(const std::string& extra) {
  return "[[modulator]]\nname = \"da\"\ntype = \"reward\"\nprojection = \"pp\"\npre = 0\n"
         "delay_min = 100.0\ndelay_max = 300.0\n" +
         extra +
         "\n[[record]]\ntype = \"modulator\"\nmodulator = \"da\"\nvariables = [\"rewards\", "
         "\"pairings\"]\n";
}

// The steps at which the recorded counters (rewards, pairings) went up, once per count.
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>
counter_steps(const Simulator& sim) {
  std::vector<std::int64_t> up[2];
  for (int c = 0; c < 2; ++c) {
    const auto& rec = sim.state_records().at(static_cast<std::size_t>(c));
    double last = 0;
    for (std::size_t u = 0; u < rec.n_rows; ++u)
      for (; last < rec.rows[u]; ++last) up[c].push_back(static_cast<std::int64_t>(u));
  }
  return {up[0], up[1]};
}

} // namespace

TEST_CASE("three-factor eligibility and weight equal the closed form",
          "[plasticity][three_factor]") {
  const std::string term = GENERATE(std::string("stdp"), std::string("hebbian"));
  const std::string pairing = GENERATE(std::string("all_to_all"), std::string("nearest"));
  const int every = GENERATE(1, 3, 10); // update interval in steps (dt = 1 ms)
  constexpr double kAPlus = 0.7, kAMinus = 0.9, kTauPlus = 15.0, kTauMinus = 25.0;
  constexpr double kTauE = 120.0, kEta = 0.05, kTauD = 50.0, kTonic = 0.1, kBaseline = 0.05;
  // Input at time t makes the neuron fire in step t (its arrival step is t / dt).
  const std::vector<double> pre_t = {20, 31, 35, 60, 101, 140, 170, 171};
  const std::vector<double> post_t = {24, 33, 35, 58, 62, 105, 150, 172, 190};
  std::ostringstream rule;
  rule << "modulator = \"da\"\ngate = \"g\"\nterm = \"" << term << "\"\npairing = \"" << pairing
       << "\"\nA_plus = " << kAPlus << "\nA_minus = " << kAMinus << "\ntau_plus = " << kTauPlus
       << "\ntau_minus = " << kTauMinus << "\ntau_e = " << kTauE << "\neta = " << kEta
       << "\nupdate_interval = " << every << ".0\nw_min = -100.0\nw_max = 100.0\n";
  std::ostringstream mods;
  mods << "[[modulator]]\nname = \"da\"\ntype = \"reward\"\ntau_d = " << kTauD
       << "\ntonic = " << kTonic << "\nbaseline = " << kBaseline
       << "\ntimes = [30.0, 90.0, 160.0]\namounts = [1.0, -0.5, 2.0]\n\n"
       << "[[modulator]]\nname = \"g\"\ntype = \"attention\"\ninitial = 0.5\ntimes = [70.0, "
          "150.0]\nvalues = [1.0, 0.25]\n";
  const Experiment ex =
      parse_experiment(pair_experiment(1, "one_to_one", 2.0, pre_t, std::vector<double>(8, 0),
                                       post_t, std::vector<double>(9, 0), rule.str(), mods.str()),
                       "tf.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.record_spikes(0);
  sim.record_spikes(1);
  const std::int64_t n_steps = 230;
  sim.run(static_cast<std::uint64_t>(n_steps));

  std::vector<std::int64_t> arr = spike_steps(sim, 0, 0, 1.0), post = spike_steps(sim, 1, 0, 1.0);
  REQUIRE(arr.size() == pre_t.size());
  REQUIRE(post.size() == post_t.size());
  for (auto& a : arr) a += 2; // delay 2 steps
  const auto inc = stdp_increments(arr, post, kAPlus, kAMinus, kTauPlus, kTauMinus,
                                   term == "hebbian", pairing == "nearest");
  auto dopamine = [&](std::int64_t u) {
    double d = kTonic;
    const std::int64_t at[] = {30, 90, 160};
    const double amount[] = {1.0, -0.5, 2.0};
    for (int k = 0; k < 3; ++k)
      if (at[k] <= u) d += amount[k] * std::exp(-static_cast<double>(u - at[k]) / kTauD);
    return d - kBaseline;
  };
  auto gate = [](std::int64_t u) { return u < 70 ? 0.5 : (u < 150 ? 1.0 : 0.25); };
  double w = 0.0;
  for (std::int64_t u = every - 1; u < n_steps; u += every)
    w += kEta * every * dopamine(u) * gate(u) * trace_at(inc, u, kTauE);
  const double e_end = trace_at(inc, n_steps - 1, kTauE);
  const double w_sim = net->projections()[0].weight_of(net->projections()[0].blocks[0], 0);
  const double e_sim = engine(*net, 0).eligibility(0, 0, n_steps - 1);
  INFO(term << " " << pairing << " every " << every << ": w " << w_sim << " vs " << w << ", e "
            << e_sim << " vs " << e_end);
  REQUIRE(std::fabs(w) > 0.05);
  REQUIRE(std::fabs(e_end) > 1e-3);
  CHECK(std::fabs(w_sim - w) <= 1e-9 * std::fabs(w));
  CHECK(std::fabs(e_sim - e_end) <= 1e-9 * std::fabs(e_end));
}

TEST_CASE("error-modulated pre-only rule is the delta rule in closed form",
          "[plasticity][three_factor][modulator]") {
  constexpr double kAPlus = 1.0, kTauE = 40.0, kEta = 0.002, kTau = 30.0;
  // Pre neurons 0 and 1, post neurons 0 and 1; targets per post neuron, period 100 ms.
  const std::vector<double> pre_t = {5, 12, 40, 41, 77, 120, 133, 180};
  const std::vector<double> pre_id = {0, 1, 0, 1, 0, 1, 1, 0};
  const std::vector<double> post_t = {8, 30, 50, 52, 90, 110, 150, 151};
  const std::vector<double> post_id = {0, 1, 0, 0, 1, 0, 1, 0};
  std::ostringstream rule;
  rule << "modulator = \"err\"\nterm = \"pre\"\nA_plus = " << kAPlus << "\ntau_e = " << kTauE
       << "\neta = " << kEta << "\nw_min = -100.0\nw_max = 100.0\n";
  std::ostringstream mods;
  mods << "[[modulator]]\nname = \"err\"\ntype = \"error\"\npopulation = \"post\"\ntau = " << kTau
       << "\nperiod = 100.0\ninitial = 3.0\ntimes = [20.0, 60.0]\nvalues = [10.0, 20.0, 40.0, "
          "5.0]\n\n[[record]]\ntype = \"modulator\"\nmodulator = \"err\"\nvariables = [\"E\"]\n"
          "neurons = [0, 1]\n";
  const Experiment ex = parse_experiment(
      pair_experiment(2, "all_to_all", 1.0, pre_t, pre_id, post_t, post_id, rule.str(), mods.str()),
      "delta.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.record_spikes(0);
  sim.record_spikes(1);
  const std::int64_t n_steps = 200;
  sim.run(static_cast<std::uint64_t>(n_steps));

  auto target = [](std::uint32_t i, std::int64_t u) {
    const std::int64_t k = u % 100;
    if (k < 20) return 3.0;
    return k < 60 ? (i == 0 ? 10.0 : 20.0) : (i == 0 ? 40.0 : 5.0);
  };
  std::vector<std::vector<std::int64_t>> post(2), arr(2);
  for (std::uint32_t i = 0; i < 2; ++i) {
    post[i] = spike_steps(sim, 1, i, 1.0);
    arr[i] = spike_steps(sim, 0, i, 1.0);
    for (auto& a : arr[i]) a += 1;
  }
  auto y = [&](std::uint32_t i, std::int64_t u) {
    double v = 0.0;
    for (std::int64_t p : post[i])
      if (p <= u) v += 1000.0 / kTau * std::exp(-static_cast<double>(u - p) / kTau);
    return v;
  };
  // The recorded error, every step.
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.n_rows == static_cast<std::size_t>(n_steps));
  for (std::int64_t u = 0; u < n_steps; ++u)
    for (std::uint32_t i = 0; i < 2; ++i) {
      const double expect = target(i, u) - y(i, u);
      INFO("step " << u << " neuron " << i);
      CHECK(std::fabs(rec.rows[static_cast<std::size_t>(u) * 2 + i] - expect) <=
            1e-12 * (1.0 + std::fabs(expect)));
    }
  // The weights: dw_ij = eta dt (target_i - y_i) e_j at every step.
  const Projection& pr = net->projections()[0];
  int checked = 0;
  for (std::uint32_t j = 0; j < 2; ++j) {
    std::vector<std::pair<std::int64_t, double>> inc;
    for (std::int64_t a : arr[j]) inc.emplace_back(a, kAPlus);
    for (std::uint64_t s = pr.blocks[0].row[j]; s < pr.blocks[0].row[j + 1]; ++s) {
      const std::uint32_t i = pr.blocks[0].target[s];
      double w = 0.0;
      for (std::int64_t u = 0; u < n_steps; ++u)
        w += kEta * (target(i, u) - y(i, u)) * trace_at(inc, u, kTauE);
      INFO("synapse " << j << " -> " << i << ": " << pr.weight_of(pr.blocks[0], s) << " vs " << w);
      REQUIRE(std::fabs(w) > 0.01);
      CHECK(std::fabs(pr.weight_of(pr.blocks[0], s) - w) <= 1e-9 * std::fabs(w));
      ++checked;
    }
  }
  CHECK(checked == 4);
}

TEST_CASE("reward task: a pairing inside the window schedules one reward 1..3 delays later",
          "[modulator][reward]") {
  // Pairs (pre, post) in ms: +3 (in), +15 (out), post first (out), same step (out) then
  // +10 (in, the window is inclusive), and two posts 4 and 8 ms after one pre (two in).
  const std::vector<double> pre_t = {10, 400, 805, 1200, 1600};
  const std::vector<double> post_t = {13, 415, 800, 1200, 1210, 1604, 1608};
  const std::string mods = task_modulator("tau_d = 20.0\npost = -1\nwindow = 10.0\namount = 1.0\n");
  const std::string rule = "modulator = \"da\"\nw_min = -1.0\nw_max = 1.0\n";
  const Experiment ex =
      parse_experiment(pair_experiment(1, "one_to_one", 1.0, pre_t, std::vector<double>(5, 0),
                                       post_t, std::vector<double>(7, 0), rule, mods),
                       "task.toml");
  auto net = build_network(ex, 1);
  const auto& reward = dynamic_cast<const Reward&>(*net->modulators()[0]);
  CHECK(reward.watched_pre() == 0);
  CHECK(reward.watched_post() == 0);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(14); // through the first pairing (post spike in step 13)
  REQUIRE(reward.pending().size() == 1);
  CHECK(reward.pending()[0] >= 13 + 100);
  CHECK(reward.pending()[0] <= 13 + 300);
  sim.run(2200);
  const auto [reward_steps, pairing_steps] = counter_steps(sim);
  CHECK(pairing_steps == std::vector<std::int64_t>{13, 1210, 1604, 1608});
  REQUIRE(reward_steps.size() == 4);
  // Rewards arrive in order of their pairings here (pairings 4 ms apart could swap, so
  // match each reward to a distinct pairing within [100, 300] steps before it).
  std::vector<bool> used(4, false);
  for (std::int64_t r : reward_steps) {
    bool matched = false;
    for (std::size_t k = 0; k < 4 && !matched; ++k)
      if (!used[k] && r - pairing_steps[k] >= 100 && r - pairing_steps[k] <= 300)
        used[k] = matched = true;
    INFO("reward at step " << r);
    CHECK(matched);
  }
  CHECK(reward.pending().empty());
}

TEST_CASE("reward delays are uniform in [delay_min, delay_max]", "[modulator][reward]") {
  // 300 pairings (post 2 ms after pre, every 50 ms), delays in [100, 300] steps.
  std::vector<double> pre_t, post_t;
  for (int k = 0; k < 300; ++k) {
    pre_t.push_back(10.0 + 50.0 * k);
    post_t.push_back(12.0 + 50.0 * k);
  }
  const std::string mods = task_modulator("post = 0\n");
  const Experiment ex = parse_experiment(
      pair_experiment(1, "one_to_one", 1.0, pre_t, std::vector<double>(300, 0), post_t,
                      std::vector<double>(300, 0), "modulator = \"da\"\n", mods),
      "uniform.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(15400);
  const auto [rewards, pairings] = counter_steps(sim);
  REQUIRE(pairings.size() == 300);
  REQUIRE(rewards.size() == 300);
  const double sum_r = std::accumulate(rewards.begin(), rewards.end(), 0.0);
  const double sum_p = std::accumulate(pairings.begin(), pairings.end(), 0.0);
  // Mean delay 200 steps, standard error 200 / sqrt(12 * 300) = 3.3.
  const double mean = (sum_r - sum_p) / 300.0;
  INFO("mean delay " << mean);
  CHECK(std::fabs(mean - 200.0) < 4 * 3.34);
}

TEST_CASE("modulators of the three-factor rule round-trip through a state archive",
          "[modulator][reward]") {
  const std::vector<double> pre_t = {10, 50};
  const std::vector<double> post_t = {13, 55};
  const std::string mods = R"([[modulator]]
name = "da"
type = "reward"
projection = "pp"
pre = 0
delay_min = 100.0
delay_max = 300.0

[[modulator]]
name = "err"
type = "error"
population = "post"
times = [0.0]
values = [5.0]
)";
  const Experiment ex =
      parse_experiment(pair_experiment(1, "one_to_one", 1.0, pre_t, {0, 0}, post_t, {0, 0},
                                       "modulator = \"da\"\nupdate_interval = 5.0\n", mods),
                       "ar.toml");
  auto a = build_network(ex, 1);
  Simulator sa(*a);
  sa.run(60);
  StateArchive ar;
  const std::string keys[] = {"m0/", "m1/"};
  for (std::size_t m = 0; m < 2; ++m) a->modulators()[m]->save(ar, keys[m]);
  a->projections()[0].plasticity->save(ar, "p/");
  auto b = build_network(ex, 1);
  for (std::size_t m = 0; m < 2; ++m) b->modulators()[m]->load(ar, keys[m]);
  b->projections()[0].plasticity->load(ar, "p/");
  b->projections()[0].blocks[0].plastic_weight = a->projections()[0].blocks[0].plastic_weight;
  const auto& ra = dynamic_cast<const Reward&>(*a->modulators()[0]);
  const auto& rb = dynamic_cast<const Reward&>(*b->modulators()[0]);
  CHECK(ra.pending() == rb.pending());
  CHECK(ra.pending().size() == 2);
  CHECK(ra.value() == rb.value());
  CHECK(a->modulators()[1]->value(0) == b->modulators()[1]->value(0));
  CHECK(engine(*a, 0).eligibility(0, 0, 59) == engine(*b, 0).eligibility(0, 0, 59));
}

namespace {

// A recurrent Izhikevich network with every kind of three-factor use: STDP with a reward
// task and scheduled pulses, and an error-modulated, gated pre-only readout.
std::string recurrent_experiment() {
  return R"([run]
duration = 3000.0
dt = 1.0
seed = 11

[[population]]
name = "E"
model = "izhikevich"
size = 300
integrator = "euler"
[population.init]
v = -65.0
u = "b * v"

[[population]]
name = "R"
model = "izhikevich"
size = 7
[population.init]
v = -65.0
u = "b * v"

[[projection]]
name = "EE"
pre = "E"
post = "E"
weight = { dist = "uniform", low = 0.0, high = 2.0 }
delay = 2.0
[projection.connect]
rule = "fixed_indegree"
indegree = 40
[projection.plasticity]
rule = "three_factor"
modulator = "da"
A_plus = 1.0
A_minus = 1.2
tau_e = 300.0
eta = 0.05
update_interval = 5.0
w_max = 4.0

[[projection]]
name = "ER"
pre = "E"
post = "R"
weight = 0.5
delay = 1.0
[projection.connect]
rule = "fixed_probability"
p = 0.3
[projection.plasticity]
rule = "three_factor"
modulator = "err"
gate = "gate"
term = "pre"
tau_e = 50.0
eta = 0.0005
w_min = -2.0
w_max = 4.0

[[modulator]]
name = "da"
type = "reward"
tonic = 0.01
times = [500.0, 1700.0]
amounts = [0.5, 0.8]
projection = "EE"
pre = 3
window = 20.0
delay_min = 50.0
delay_max = 400.0

[[modulator]]
name = "err"
type = "error"
population = "R"
period = 500.0
times = [0.0, 200.0, 260.0]
values = [0.0, 40.0, 0.0]

[[modulator]]
name = "gate"
type = "attention"
period = 500.0
times = [100.0, 300.0]
values = [1.0, 0.2]

[[input]]
type = "poisson"
name = "drive"
target = "E"
rate = 8.0
weight = 20.0
)";
}

std::vector<double> weights_by_pair(const Projection& pr) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<double>> by_pair;
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
        by_pair[{j, b.target[s]}].push_back(pr.weight_of(b, s));
  std::vector<double> w;
  for (const auto& [k, v] : by_pair) w.insert(w.end(), v.begin(), v.end());
  return w;
}

} // namespace

TEST_CASE("three-factor runs are bitwise identical with 1, 2 and 3 threads",
          "[plasticity][three_factor][determinism]") {
  std::vector<std::vector<double>> weights;
  std::vector<std::vector<std::uint64_t>> ids;
  std::vector<double> pairings;
  for (int threads : {1, 2, 3}) {
    const Experiment ex = parse_experiment(recurrent_experiment(), "rec.toml");
    auto net = build_network(ex, threads);
    Simulator sim(*net);
    sim.record_spikes(0);
    sim.record_spikes(1);
    sim.run(1700);
    sim.run(1300);
    std::vector<double> w = weights_by_pair(net->projections()[0]);
    const auto w2 = weights_by_pair(net->projections()[1]);
    w.insert(w.end(), w2.begin(), w2.end());
    weights.push_back(w);
    std::vector<std::uint64_t> all = sim.spike_records()[0].ids;
    all.insert(all.end(), sim.spike_records()[1].ids.begin(), sim.spike_records()[1].ids.end());
    ids.push_back(all);
    pairings.push_back(net->modulators()[0]->read(Reward::pairings, 0));
  }
  INFO("pairings " << pairings[0]);
  REQUIRE(pairings[0] > 0);
  REQUIRE(ids[0].size() > 3000);
  // Learning happened on both projections.
  CHECK(
      weights[0] !=
      weights_by_pair(
          build_network(parse_experiment(recurrent_experiment(), "r.toml"), 1)->projections()[0]));
  for (int k = 1; k < 3; ++k) {
    CHECK(ids[0] == ids[k]);
    CHECK(pairings[0] == pairings[k]);
    REQUIRE(weights[0].size() == weights[k].size());
    CHECK(std::memcmp(weights[0].data(), weights[k].data(), weights[0].size() * sizeof(double)) ==
          0);
  }
}

TEST_CASE("bad three-factor and modulator input names file, line and key",
          "[plasticity][three_factor][io]") {
  const std::string base = recurrent_experiment();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = base;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    return t;
  };
  auto fails_with = [](const std::string& text, const std::vector<std::string>& parts) {
    try {
      parse_experiment(text, "tf.toml");
      FAIL("no error");
    } catch (const InputError& e) {
      const std::string msg = e.what();
      INFO(msg);
      for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
    }
  };
  fails_with(replace("modulator = \"da\"", "modulator = \"dopa\""),
             {"tf.toml:34:13:", "projection 'EE'.plasticity.modulator", "unknown modulator 'dopa'",
              "did you mean 'da'"});
  fails_with(replace("modulator = \"da\"\n", ""),
             {"tf.toml:32:1:", "projection 'EE'.plasticity.modulator",
              "plasticity rule 'three_factor' needs 'modulator'"});
  fails_with(replace("gate = \"gate\"", "gate = \"err\""),
             {"tf.toml:54:8:", "projection 'ER'.plasticity.gate",
              "modulator 'err' is of type 'error'; 'gate' needs a modulator of type 'attention'"});
  fails_with(replace("type = \"reward\"", "type = \"rewad\""),
             {"tf.toml:", "modulator 'da'.type", "did you mean 'reward'"});
  fails_with(replace("population = \"R\"\n", ""),
             {"tf.toml:", "modulator 'err'.population: required key missing"});
  fails_with(replace("tau_e = 300.0", "tau_ee = 300.0"),
             {"tf.toml:", "tau_ee", "did you mean 'tau_e'"});
  fails_with(replace("update_interval = 5.0", "update_interval = 2.5"),
             {"tf.toml:", "'update_interval' must be a multiple of the time step"});
  fails_with(replace("delay_max = 400.0", "delay_max = 40.0"),
             {"tf.toml:", "modulator 'da'", "'delay_max' must be >= 'delay_min'"});
  fails_with(replace("values = [0.0, 40.0, 0.0]", "values = [0.0, 40.0]"),
             {"tf.toml:", "modulator 'err'", "'values' must have one entry per time"});
  // Found when the network is built: a per-neuron signal of the wrong population, a
  // watched synapse that does not exist. The CLI exits 2 with the location.
  // A neuron that E[3] does not reach through EE.
  std::uint32_t unreached = 0;
  {
    auto net = build_network(parse_experiment(base, "tf.toml"), 1);
    const SynapseBlock& b = net->projections()[0].blocks[0];
    std::vector<bool> hit(300, false);
    for (std::uint64_t s = b.row[3]; s < b.row[4]; ++s) hit[b.target[s]] = true;
    while (hit[unreached]) ++unreached;
  }
  const std::string u = std::to_string(unreached);
  glia::test::ScratchDir dir("three-factor");
  for (const auto& [text, expect] : std::vector<std::pair<std::string, std::string>>{
           {replace("population = \"R\"", "population = \"E\""),
            "projection 'ER'.plasticity: modulator 'err' is a per-neuron signal of another "
            "population"},
           {replace("pre = 3\n", "pre = 3\npost = " + u + "\n"),
            "modulator 'da': projection 'EE' has no synapse from neuron 3 to neuron " + u},
           {replace("pre = 3\n", "pre = 300\n"), "modulator 'da': 'pre' must be a neuron index"}}) {
    const std::string path = dir.write("bad.toml", text);
    const auto r = glia::test::run_glia("run " + path + " -q -o " + (dir / "out.h5"), dir);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("bad.toml:") && Catch::Contains(expect));
  }
}

TEST_CASE("glia info lists the three-factor rule and the modulators", "[three_factor][cli]") {
  glia::test::ScratchDir dir("info");
  const auto all = glia::test::run_glia("info", dir);
  CHECK(all.code == 0);
  CHECK_THAT(all.out, Catch::Contains("three_factor") && Catch::Contains("reward") &&
                          Catch::Contains("error"));
  const auto rule = glia::test::run_glia("info three_factor", dir);
  CHECK(rule.code == 0);
  CHECK_THAT(rule.out, Catch::Contains("update_interval") && Catch::Contains("gate") &&
                           Catch::Contains("hebbian"));
  const auto mod = glia::test::run_glia("info error", dir);
  CHECK(mod.code == 0);
  CHECK_THAT(mod.out, Catch::Contains("population") && Catch::Contains("target"));
}
