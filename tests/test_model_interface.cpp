// Tests of the neuron-model contract (neurons/model.hpp) on the parts that the ELM and
// the probabilistic meta-neuron need and that no built-in model used yet: vector state
// whose width comes from population-wide shared data, ports beyond the static table,
// the Shared struct built (and validated) from [population.shared], and stochastic
// firing from the counter-based uniforms. The model is defined here, registered at run
// time, and every claim is checked against an independent computation: the state
// against a hand-written recurrence, the firing against its probability, the threads
// against each other, and the experiment-file path against the engine API.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A small memory neuron shaped like the ELM: B input branches (ports) feed traces s_b,
// a shared B -> D weight matrix mixes them into D leaky memory units m_j with per-unit
// time constants, a shared readout gives y = r . m, and the neuron spikes with
// probability sigma(beta (y - theta)). Per step:
//   s_b <- kappa_s s_b + in(b)                    kappa_s = exp(-dt / tau_s) (per neuron)
//   m_j <- kappa_j m_j + sum_b W[j][b] s_b        kappa_j = exp(-dt / tau_m[j]) (shared)
//   y   <- sum_j r_j m_j
//   spike iff fire == 1 and U(0,1) < sigma(beta (y - theta))
struct TestMemoryNeuron {
  static constexpr std::string_view name = "test_memory";
  static constexpr std::string_view doc =
      "test model: branch traces mixed by a shared matrix into leaky memory units, "
      "stochastic sigmoid firing";

  enum P { tau_s, beta, theta, fire };
  static constexpr glia::ParamSpec params[] = {
      {"tau_s", "ms", 5.0, glia::kPositive, "time constant of the branch traces"},
      {"beta", "1", 1.0, glia::kAny, "slope of the firing probability"},
      {"theta", "1", 0.0, glia::kAny, "midpoint of the firing probability"},
      {"fire", "1", 1.0, glia::kUnit, "1: fire stochastically, 0: never fire"},
  };
  enum S { s, m, y };
  static constexpr glia::StateSpec state[] = {
      {"s", "1", 0.0, "branch traces, one per port", 0},
      {"m", "1", 0.0, "memory units", 0},
      {"y", "1", 0.0, "readout r . m"},
  };
  // Branch 0 has a name; branch b is addressed as "port[b]".
  static constexpr glia::PortSpec ports[] = {{"branch0", "1", "input of branch 0"}};
  static constexpr std::string_view integrators[] = {"exact"};

  static constexpr int n_derived = 1;
  static void derive(const double* p, double dt, int, double* d) {
    d[0] = std::exp(-dt / p[tau_s]);
  }

  struct Shared {
    int n_branch = 0;
    int n_mem = 0;
    std::vector<double> w;       // n_mem x n_branch, row-major
    std::vector<double> tau_m;   // n_mem
    std::vector<double> readout; // n_mem
    std::vector<double> kappa_m; // n_mem: exp(-dt / tau_m), once per population
  };

  static Shared make_shared(const glia::SharedConfig& cfg, double dt) {
    for (const auto& [key, values] : cfg)
      if (key != "branches" && key != "tau_m" && key != "w" && key != "readout")
        throw std::invalid_argument("unknown shared key '" + key +
                                    "' (expected branches, tau_m, w, readout)");
    auto get = [&](const std::string& key) -> const std::vector<double>& {
      const auto it = cfg.find(key);
      if (it == cfg.end()) throw std::invalid_argument("missing shared key '" + key + "'");
      return it->second;
    };
    Shared sh;
    const auto& br = get("branches");
    if (br.size() != 1 || !(br[0] >= 1.0) || br[0] != std::floor(br[0]) || br[0] > 64.0)
      throw std::invalid_argument("'branches' must be one integer in [1, 64]");
    sh.n_branch = static_cast<int>(br[0]);
    sh.tau_m = get("tau_m");
    sh.n_mem = static_cast<int>(sh.tau_m.size());
    if (sh.n_mem < 1) throw std::invalid_argument("'tau_m' needs at least one value");
    for (double t : sh.tau_m)
      if (!(t > 0.0)) throw std::invalid_argument("'tau_m' values must be > 0");
    sh.w = get("w");
    const std::size_t n_w = static_cast<std::size_t>(sh.n_mem) * sh.n_branch;
    if (sh.w.size() != n_w)
      throw std::invalid_argument("'w' needs len(tau_m) * branches = " + std::to_string(n_w) +
                                  " values, got " + std::to_string(sh.w.size()));
    sh.readout = get("readout");
    if (sh.readout.size() != static_cast<std::size_t>(sh.n_mem))
      throw std::invalid_argument("'readout' needs len(tau_m) = " + std::to_string(sh.n_mem) +
                                  " values, got " + std::to_string(sh.readout.size()));
    for (double t : sh.tau_m) sh.kappa_m.push_back(std::exp(-dt / t));
    return sh;
  }
  static int state_width(const Shared& sh, int k) { return k == s ? sh.n_branch : sh.n_mem; }
  static int num_ports(const Shared& sh) { return sh.n_branch; }

  template <class N> GLIA_HD static bool step(N& n) {
    const Shared& sh = n.shared();
    for (int b = 0; b < sh.n_branch; ++b) n.s(s, b) = n.s(s, b) * n.d(0) + n.in(b);
    double out = 0.0;
    for (int j = 0; j < sh.n_mem; ++j) {
      double drive = 0.0;
      for (int b = 0; b < sh.n_branch; ++b)
        drive += sh.w[static_cast<std::size_t>(j) * sh.n_branch + b] * n.s(s, b);
      double& mj = n.s(m, j);
      mj = sh.kappa_m[j] * mj + drive;
      out += sh.readout[j] * mj;
    }
    n.s(y) = out;
    if (n.p(fire) == 0.0) return false;
    const double prob = 1.0 / (1.0 + std::exp(-n.p(beta) * (out - n.p(theta))));
    return n.uniform(0) < prob;
  }
};

const glia::ModelInfo& register_globally() {
  glia::Registry::global().add<TestMemoryNeuron>(); // replaces an earlier registration
  const glia::ModelInfo* m = glia::Registry::global().find("test_memory");
  REQUIRE(m != nullptr);
  return *m;
}

glia::SharedConfig shared_config(std::vector<double> w) {
  return {
      {"branches", {3.0}}, {"tau_m", {5.0, 50.0}}, {"w", std::move(w)}, {"readout", {1.0, -0.5}}};
}

// Events of one SpikeTimesInput: arrival step and target neuron.
struct Events {
  int port;
  double weight;
  std::vector<std::uint64_t> steps; // sorted
  std::vector<std::uint32_t> targets;
};

struct Trajectory {
  // [step][variable-element][neuron], variable-elements ordered s[0..B), m[0..D), y.
  std::vector<std::vector<std::vector<double>>> rows;
  std::size_t spikes = 0;
};

constexpr int kB = 3, kD = 2, kN = 4;
constexpr double kDt = 0.1;
const std::vector<double> kTauS = {2.0, 5.0, 10.0, 20.0};
const std::vector<double> kTauM = {5.0, 50.0};
const std::vector<double> kReadout = {1.0, -0.5};

double m0(int j, int i) {
  return 1.0 + i + 10.0 * j;
} // initial memory, distinct everywhere

// The model run through the engine with firing disabled, every state element of every
// neuron recorded at every step.
Trajectory run_engine(const glia::ModelInfo& info, const std::vector<double>& w,
                      const std::vector<Events>& events, std::uint64_t n_steps) {
  glia::Network net(kDt, 3, 1);
  glia::PopulationSetup setup;
  setup.name = "mem";
  setup.size = kN;
  setup.shared = shared_config(w);
  glia::Population& pop = net.add_population(info, setup);
  REQUIRE(pop.n_ports() == kB);
  REQUIRE(pop.state_width(TestMemoryNeuron::s) == kB);
  REQUIRE(pop.state_width(TestMemoryNeuron::m) == kD);
  REQUIRE(pop.state_width(TestMemoryNeuron::y) == 1);
  pop.set_param(TestMemoryNeuron::tau_s, kTauS);
  pop.set_param(TestMemoryNeuron::fire, {0.0});
  for (int j = 0; j < kD; ++j)
    for (int i = 0; i < kN; ++i) pop.state(TestMemoryNeuron::m)[j * kN + i] = m0(j, i);
  for (const Events& e : events) {
    auto in = std::make_unique<glia::SpikeTimesInput>(e.steps, e.targets, e.weight, e.port);
    in->target = 0;
    net.add_input(std::move(in));
  }
  net.prepare();
  REQUIRE(pop.ring().ports() == kB);
  glia::Simulator sim(net);
  sim.record_spikes(0);
  std::vector<std::uint32_t> all(kN);
  for (int i = 0; i < kN; ++i) all[i] = static_cast<std::uint32_t>(i);
  for (int b = 0; b < kB; ++b) sim.record_state(0, TestMemoryNeuron::s, b, all, 1, "s");
  for (int j = 0; j < kD; ++j) sim.record_state(0, TestMemoryNeuron::m, j, all, 1, "m");
  sim.record_state(0, TestMemoryNeuron::y, 0, all, 1, "y");
  sim.run(n_steps);

  Trajectory t;
  t.spikes = sim.spike_records().at(0).times.size();
  const auto& recs = sim.state_records();
  REQUIRE(recs.size() == static_cast<std::size_t>(kB + kD + 1));
  t.rows.assign(n_steps, std::vector<std::vector<double>>(recs.size(), std::vector<double>(kN)));
  for (std::size_t r = 0; r < recs.size(); ++r) {
    REQUIRE(recs[r].n_rows == n_steps);
    for (std::uint64_t k = 0; k < n_steps; ++k)
      for (int i = 0; i < kN; ++i) t.rows[k][r][i] = recs[r].rows[k * kN + i];
  }
  return t;
}

// The same dynamics written out directly from the definition above, with the inputs
// laid out as a dense (step, port, neuron) table.
Trajectory run_by_hand(const std::vector<double>& w, const std::vector<Events>& events,
                       std::uint64_t n_steps) {
  std::vector<double> input(n_steps * kB * kN, 0.0);
  for (const Events& e : events)
    for (std::size_t q = 0; q < e.steps.size(); ++q)
      input[(e.steps[q] * kB + e.port) * kN + e.targets[q]] += e.weight;
  double s[kB][kN] = {}, m[kD][kN];
  for (int j = 0; j < kD; ++j)
    for (int i = 0; i < kN; ++i) m[j][i] = m0(j, i);
  Trajectory t;
  t.rows.assign(n_steps, std::vector<std::vector<double>>(kB + kD + 1, std::vector<double>(kN)));
  for (std::uint64_t k = 0; k < n_steps; ++k)
    for (int i = 0; i < kN; ++i) {
      for (int b = 0; b < kB; ++b)
        s[b][i] = s[b][i] * std::exp(-kDt / kTauS[i]) + input[(k * kB + b) * kN + i];
      double y = 0.0;
      for (int j = 0; j < kD; ++j) {
        double drive = 0.0;
        for (int b = 0; b < kB; ++b) drive += w[j * kB + b] * s[b][i];
        m[j][i] = std::exp(-kDt / kTauM[j]) * m[j][i] + drive;
        y += kReadout[j] * m[j][i];
      }
      for (int b = 0; b < kB; ++b) t.rows[k][b][i] = s[b][i];
      for (int j = 0; j < kD; ++j) t.rows[k][kB + j][i] = m[j][i];
      t.rows[k][kB + kD][i] = y;
    }
  return t;
}

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

} // namespace

TEST_CASE("model contract: vector state, extra ports and shared matrix follow the definition",
          "[model]") {
  glia::Registry registry;
  registry.add<TestMemoryNeuron>();
  const glia::ModelInfo* info = registry.find("test_memory");
  REQUIRE(info != nullptr);
  REQUIRE(info->ports.size() == 1); // ports 1 and 2 exist only through num_ports(shared)

  // Each port has its own weight (1, 10, 100), so a branch mix-up changes every value.
  const std::vector<Events> events = {
      {0, 1.0, {3, 10, 10, 25, 25}, {0, 1, 3, 0, 0}},
      {1, 10.0, {5, 12, 40}, {1, 2, 3}},
      {2, 100.0, {7, 7, 30}, {2, 3, 0}},
  };
  const std::uint64_t n_steps = 80;
  const std::vector<double> w = {1.0, 0.5, -0.25, 0.0, 2.0, 1.0};

  const Trajectory got = run_engine(*info, w, events, n_steps);
  const Trajectory want = run_by_hand(w, events, n_steps);
  CHECK(got.spikes == 0); // fire = 0
  const char* names[] = {"s[0]", "s[1]", "s[2]", "m[0]", "m[1]", "y"};
  for (std::uint64_t k = 0; k < n_steps; ++k)
    for (int r = 0; r < kB + kD + 1; ++r)
      for (int i = 0; i < kN; ++i) {
        INFO("step " << k << ", " << names[r] << ", neuron " << i);
        // Same operations in the same order; 1e-13 leaves room for a compiler's
        // different contraction into fused multiply-adds.
        CHECK(got.rows[k][r][i] == Approx(want.rows[k][r][i]).epsilon(1e-13).margin(1e-13));
      }

  // The branches by name: neuron 2 gets nothing before step 7, then 100 on port 2
  // (beyond the static table) at step 7 and 10 on port 1 at step 12; its port-0 trace
  // stays exactly 0 throughout.
  for (std::uint64_t k = 0; k < 7; ++k)
    for (int b = 0; b < kB; ++b) CHECK(got.rows[k][b][2] == 0.0);
  CHECK(got.rows[7][2][2] == 100.0);
  CHECK(got.rows[11][1][2] == 0.0);
  CHECK(got.rows[12][1][2] == 10.0);
  for (std::uint64_t k = 0; k < n_steps; ++k) CHECK(got.rows[k][0][2] == 0.0);

  // The shared matrix is what mixes branches into memory: swapping its rows changes the
  // memory trajectories exactly as the definition says.
  const std::vector<double> w_swapped = {0.0, 2.0, 1.0, 1.0, 0.5, -0.25};
  const Trajectory got2 = run_engine(*info, w_swapped, events, n_steps);
  const Trajectory want2 = run_by_hand(w_swapped, events, n_steps);
  bool differs = false;
  for (std::uint64_t k = 0; k < n_steps; ++k)
    for (int r = 0; r < kB + kD + 1; ++r)
      for (int i = 0; i < kN; ++i) {
        CHECK(got2.rows[k][r][i] == Approx(want2.rows[k][r][i]).epsilon(1e-13).margin(1e-13));
        differs = differs || std::abs(got2.rows[k][r][i] - got.rows[k][r][i]) > 1e-6;
      }
  CHECK(differs);
}

TEST_CASE("model contract: make_shared validates [population.shared] and names the key",
          "[model]") {
  glia::Registry registry;
  registry.add<TestMemoryNeuron>();
  const glia::ModelInfo& info = *registry.find("test_memory");
  auto build = [&](glia::SharedConfig cfg) {
    glia::Network net(kDt, 1, 1);
    glia::PopulationSetup setup;
    setup.name = "mem";
    setup.size = 2;
    setup.shared = std::move(cfg);
    net.add_population(info, setup);
  };
  using Catch::Contains;
  const std::vector<double> w = {1.0, 0.5, -0.25, 0.0, 2.0, 1.0};
  CHECK_NOTHROW(build(shared_config(w)));
  CHECK_THROWS_WITH(build(shared_config({1.0, 2.0, 3.0, 4.0, 5.0})),
                    Contains("'w'") && Contains("6 values, got 5"));
  auto cfg = shared_config(w);
  cfg["readout"] = {1.0};
  CHECK_THROWS_WITH(build(cfg), Contains("'readout'"));
  cfg = shared_config(w);
  cfg.erase("tau_m");
  CHECK_THROWS_WITH(build(cfg), Contains("missing") && Contains("'tau_m'"));
  cfg = shared_config(w);
  cfg["tau"] = {1.0};
  CHECK_THROWS_WITH(build(cfg), Contains("unknown") && Contains("'tau'"));
  cfg = shared_config(w);
  cfg["branches"] = {2.5};
  CHECK_THROWS_WITH(build(cfg), Contains("'branches'"));
  CHECK_THROWS_AS(build(shared_config({})), std::invalid_argument);
}

TEST_CASE("model contract: stochastic firing has probability sigma(beta (y - theta))", "[model]") {
  glia::Registry registry;
  registry.add<TestMemoryNeuron>();
  const glia::ModelInfo& info = *registry.find("test_memory");
  // One memory unit held near a constant y = readout * m by a very long time constant;
  // each neuron's theta puts its firing probability at a different point of the sigmoid.
  const std::vector<double> p_target = {0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.98};
  const auto n = static_cast<std::uint32_t>(p_target.size());
  const double beta = 3.0, m_init = 0.4, readout = 1.5, tau_m = 1e6;
  std::vector<double> theta;
  for (double p : p_target) theta.push_back(readout * m_init - std::log(p / (1.0 - p)) / beta);

  glia::Network net(kDt, 2024, 1);
  glia::PopulationSetup setup;
  setup.name = "mem";
  setup.size = n;
  setup.shared = {{"branches", {1.0}}, {"tau_m", {tau_m}}, {"w", {0.0}}, {"readout", {readout}}};
  glia::Population& pop = net.add_population(info, setup);
  pop.set_param(TestMemoryNeuron::beta, {beta});
  pop.set_param(TestMemoryNeuron::theta, theta);
  std::fill(pop.state(TestMemoryNeuron::m), pop.state(TestMemoryNeuron::m) + n, m_init);
  net.prepare();
  glia::Simulator sim(net);
  sim.record_spikes(0);
  const std::uint64_t n_steps = 20000;
  sim.run(n_steps);

  // Spike indicators per neuron and step.
  std::vector<std::vector<char>> spiked(n, std::vector<char>(n_steps, 0));
  const auto& rec = sim.spike_records().at(0);
  for (std::size_t q = 0; q < rec.times.size(); ++q) {
    const auto k = static_cast<std::uint64_t>(std::llround(rec.times[q] / kDt)) - 1;
    spiked[rec.ids[q]][k] = 1;
  }
  // y of every step from the definition (the memory decays by a factor 1 - 1e-7 a step).
  std::vector<double> y(n_steps);
  double m = m_init;
  for (std::uint64_t k = 0; k < n_steps; ++k) {
    m = std::exp(-kDt / tau_m) * m;
    y[k] = readout * m;
  }
  std::printf("\nstochastic firing: %llu steps per neuron\n%8s %10s %10s %8s\n",
              static_cast<unsigned long long>(n_steps), "p", "expected", "count", "z");
  for (std::uint32_t i = 0; i < n; ++i) {
    INFO("neuron " << i << ", p = " << p_target[i]);
    double mean = 0.0, var = 0.0, pair_mean = 0.0, pair_var = 0.0;
    std::uint64_t count = 0, pairs = 0;
    for (std::uint64_t k = 0; k < n_steps; ++k) {
      const double p = sigmoid(beta * (y[k] - theta[i]));
      mean += p;
      var += p * (1.0 - p);
      count += static_cast<std::uint64_t>(spiked[i][k]);
      if (k + 1 < n_steps) {
        // Consecutive steps draw independent uniforms: P(spike at k and k+1) = p^2.
        // Overlapping pairs share a step, hence the covariance term.
        const double q = p * p;
        pair_mean += q;
        pair_var += q * (1.0 - q) + (k + 2 < n_steps ? 2.0 * (p * q - q * q) : 0.0);
        pairs += static_cast<std::uint64_t>(spiked[i][k] && spiked[i][k + 1]);
      }
    }
    CHECK(sim.stats(0).count[i] == count);
    const double z = (static_cast<double>(count) - mean) / std::sqrt(var);
    std::printf("%8.2f %10.1f %10llu %8.2f\n", p_target[i], mean,
                static_cast<unsigned long long>(count), z);
    CHECK(std::abs(z) < 4.0);
    CHECK(std::abs(static_cast<double>(pairs) - pair_mean) < 4.0 * std::sqrt(pair_var));
  }
  // Different neurons draw independent uniforms: neurons 4 and 5 (p = 0.5, 0.6) spike
  // together in p4 p5 of the steps.
  double both_mean = 0.0, both_var = 0.0;
  std::uint64_t both = 0;
  for (std::uint64_t k = 0; k < n_steps; ++k) {
    const double q = sigmoid(beta * (y[k] - theta[4])) * sigmoid(beta * (y[k] - theta[5]));
    both_mean += q;
    both_var += q * (1.0 - q);
    both += static_cast<std::uint64_t>(spiked[4][k] && spiked[5][k]);
  }
  CHECK(std::abs(static_cast<double>(both) - both_mean) < 4.0 * std::sqrt(both_var));
}

namespace {

// An experiment with the test model: Poisson drive on the named port and on an extra
// one, a recurrent projection onto a third, heterogeneous thresholds and stochastic
// firing. 31 neurons split unevenly over 3 threads.
const std::string kExperiment = R"(
[run]
duration = 50.0
dt = 0.1
seed = 99
threads = 1

[[population]]
name = "mem"
model = "test_memory"
size = 31
[population.params]
beta = 4.0
theta = { dist = "uniform", low = 0.5, high = 1.5 }
[population.init]
m = 0.25
[population.shared]
branches = 3
tau_m = [5.0, 50.0]
w = [1.0, 0.5, -0.25, 0.0, 2.0, 1.0]
readout = [1.0, -0.5]

[[projection]]
pre = "mem"
post = "mem"
port = "port[2]"
weight = { dist = "uniform", low = -0.2, high = 0.3 }
delay = 1.0
[projection.connect]
rule = "fixed_probability"
p = 0.3

[[input]]
type = "poisson"
target = "mem"
port = "branch0"
rate = 300.0
weight = 0.2

[[input]]
type = "poisson"
target = "mem"
port = "port[1]"
rate = 200.0
weight = -0.1

[[record]]
type = "spikes"
population = "mem"

[[record]]
type = "state"
population = "mem"
neurons = [0, 10, 11, 30]
variables = ["m", "s[2]", "y"]
)";

struct RunResult {
  std::vector<double> times;
  std::vector<std::uint64_t> ids;
  std::vector<std::vector<double>> state;   // every element of every state variable
  std::vector<std::vector<double>> records; // state records
};

RunResult run_experiment(const std::string& text, int threads) {
  const glia::Experiment ex = glia::parse_experiment(text, "mem.toml");
  auto net = glia::build_network(ex, threads);
  REQUIRE(net->threads() == threads);
  glia::Simulator sim(*net);
  glia::attach_records(ex, sim);
  sim.run(static_cast<std::uint64_t>(std::llround(ex.run.duration / ex.run.dt)));
  RunResult r;
  r.times = sim.spike_records().at(0).times;
  r.ids = sim.spike_records().at(0).ids;
  const glia::Population& pop = *net->populations()[0];
  for (int k = 0; k < pop.n_state(); ++k)
    r.state.emplace_back(pop.state(k),
                         pop.state(k) + static_cast<std::size_t>(pop.state_width(k)) * pop.size());
  for (const auto& rec : sim.state_records())
    r.records.emplace_back(rec.rows.begin(),
                           rec.rows.begin() + static_cast<long>(rec.n_rows * rec.neurons.size()));
  return r;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

} // namespace

TEST_CASE("model contract: a population of the model from an experiment file", "[model]") {
  register_globally();
  const glia::Experiment ex = glia::parse_experiment(kExperiment, "mem.toml");
  REQUIRE(ex.populations.size() == 1);
  CHECK(ex.populations[0].shared.at("w").size() == 6);
  auto net = glia::build_network(ex);
  const glia::Population& pop = *net->populations()[0];
  CHECK(pop.model().name == "test_memory");
  CHECK(pop.n_ports() == 3);
  CHECK(pop.state_width(TestMemoryNeuron::s) == 3);
  CHECK(pop.state_width(TestMemoryNeuron::m) == 2);
  // The Shared data is the one of [population.shared].
  const auto& sh = dynamic_cast<const glia::PopulationOf<TestMemoryNeuron>&>(pop).shared();
  CHECK(sh.n_branch == 3);
  CHECK(sh.w == std::vector<double>{1.0, 0.5, -0.25, 0.0, 2.0, 1.0});
  CHECK(sh.tau_m == std::vector<double>{5.0, 50.0});
  // A scalar init of a vector state sets every element; heterogeneous theta is drawn.
  for (std::size_t e = 0; e < 2 * pop.size(); ++e) CHECK(pop.state(TestMemoryNeuron::m)[e] == 0.25);
  const auto theta = pop.param(TestMemoryNeuron::theta);
  REQUIRE(theta.size() == pop.size());
  CHECK(*std::min_element(theta.begin(), theta.end()) >= 0.5);
  CHECK(*std::max_element(theta.begin(), theta.end()) <= 1.5);
  CHECK(*std::min_element(theta.begin(), theta.end()) <
        *std::max_element(theta.begin(), theta.end()));
  // Projection and inputs resolve to the ports named in the file.
  REQUIRE(net->projections().size() == 1);
  CHECK(net->projections()[0].port == 2);

  // The records "m", "s[2]" and "y" expand to m[0], m[1], s[2], y.
  glia::Simulator sim(*net);
  glia::attach_records(ex, sim);
  CHECK(sim.state_records().size() == 4);
  sim.run(500);
  // All three ports carried input: the traces of port 2 (projection only) moved, and
  // the neurons fired.
  const double* s2 = pop.state(TestMemoryNeuron::s) + 2 * pop.size();
  CHECK(std::any_of(s2, s2 + pop.size(), [](double v) { return v != 0.0; }));
  const double* s1 = pop.state(TestMemoryNeuron::s) + 1 * pop.size();
  CHECK(std::any_of(s1, s1 + pop.size(), [](double v) { return v < 0.0; }));
  CHECK(sim.stats(0).total > 100);

  // Errors in the shared table or the ports reach the user with the file and the key.
  using Catch::Contains;
  auto error_of = [](const std::string& text) -> std::string {
    try {
      const glia::Experiment bad = glia::parse_experiment(text, "mem.toml");
      glia::build_network(bad);
    } catch (const glia::InputError& e) {
      return e.what();
    }
    return "accepted";
  };
  auto replaced = [](std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    return text.replace(pos, from.size(), to);
  };
  CHECK_THAT(error_of(replaced(kExperiment, "w = [1.0, 0.5, -0.25, 0.0, 2.0, 1.0]",
                               "w = [1.0, 0.5, -0.25, 0.0, 2.0]")),
             Contains("mem.toml:") && Contains("shared") && Contains("'w'") && Contains("got 5"));
  CHECK_THAT(error_of(replaced(kExperiment, "port = \"port[2]\"", "port = \"port[3]\"")),
             Contains("mem.toml:") && Contains("no port 'port[3]'"));
  CHECK_THAT(error_of(replaced(kExperiment, "port = \"port[1]\"", "port = \"port[x]\"")),
             Contains("mem.toml:") && Contains("no port 'port[x]'"));
  CHECK_THAT(error_of(replaced(kExperiment, "port = \"port[1]\"", "port = \"port[1x]\"")),
             Contains("no port 'port[1x]'"));
}

TEST_CASE("model contract: runs are bitwise identical with 1 and 3 threads", "[model]") {
  register_globally();
  const RunResult one = run_experiment(kExperiment, 1);
  const RunResult three = run_experiment(kExperiment, 3);
  REQUIRE(one.times.size() > 100); // the comparison is about a run with activity
  CHECK(bitwise_equal(one.times, three.times));
  CHECK(one.ids == three.ids);
  REQUIRE(one.state.size() == three.state.size());
  for (std::size_t k = 0; k < one.state.size(); ++k) {
    INFO("state variable " << k);
    CHECK(bitwise_equal(one.state[k], three.state[k]));
  }
  REQUIRE(one.records.size() == three.records.size());
  for (std::size_t k = 0; k < one.records.size(); ++k) {
    INFO("state record " << k);
    CHECK(!one.records[k].empty());
    CHECK(bitwise_equal(one.records[k], three.records[k]));
  }
}
