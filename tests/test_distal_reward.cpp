// Izhikevich (2007), distal reward (experiments/distal_reward.toml): the synapse whose
// pre -> post pairings are rewarded 1-3 s later outgrows the other excitatory synapses.
// The test runs the shipped file, shortened; the hidden case "[.distal_full]" runs the
// paper's hour and prints the chosen weight against the mean of the others each minute.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/modulator.hpp"
#include "plasticity/reward.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

using namespace glia;

namespace {

const std::string kPath = std::string(GLIA_SOURCE_DIR) + "/experiments/distal_reward.toml";

struct Snapshot {
  double minute, chosen, mean_ee, mean_ei, rewards, pairings, rate_e;
};

double mean_weight(const Projection& pr) {
  double sum = 0.0;
  std::uint64_t n = 0;
  for (const auto& b : pr.blocks)
    for (std::size_t s = 0; s < b.size(); ++s, ++n) sum += pr.weight_of(b, s);
  return n ? sum / static_cast<double>(n) : 0.0;
}

// Runs the experiment for `minutes`, one snapshot per `every` minutes.
std::vector<Snapshot> run_distal(double minutes, double every, int threads, bool print,
                                 const std::string& path = kPath,
                                 const std::vector<std::string>& overrides = {}) {
  const Experiment ex = load_experiment(path, overrides);
  auto net = build_network(ex, threads);
  Simulator sim(*net);
  const auto& pr = net->projections();
  const Projection& chosen = pr[static_cast<std::size_t>(ex.projection_index("chosen"))];
  const Projection& ee = pr[static_cast<std::size_t>(ex.projection_index("EE"))];
  const Projection& ei = pr[static_cast<std::size_t>(ex.projection_index("EI"))];
  const Modulator& da = *net->modulators()[0];
  const auto steps = static_cast<std::uint64_t>(every * 60000.0 / ex.run.dt);
  std::vector<Snapshot> out;
  const auto t0 = std::chrono::steady_clock::now();
  for (double m = every; m <= minutes + 1e-9; m += every) {
    sim.run(steps);
    out.push_back({m, chosen.weight_of(chosen.blocks[0], 0), mean_weight(ee), mean_weight(ei),
                   da.read(Reward::rewards, 0), da.read(Reward::pairings, 0), sim.mean_rate_hz(0)});
    if (print) {
      const Snapshot& s = out.back();
      std::printf("%6.1f min  chosen %.4f  mean EE %.4f (%.1f%% of w_max)  mean EI %.4f  "
                  "rewards %.0f  E rate %.2f Hz  wall %.1f s\n",
                  s.minute, s.chosen, s.mean_ee, 100.0 * s.mean_ee / 4.0, s.mean_ei, s.rewards,
                  s.rate_e,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      std::fflush(stdout);
    }
  }
  return out;
}

} // namespace

// The full hour (seed 2007) goes from a ratio chosen / mean of the others of 1.3 at
// 5 min to 2.8 at 10 min (13 rewards) and reaches w_max at 20 min, the others' mean
// falling from 25 % of w_max (1 mV) to 16 % and ending the hour at 22 %: at 10 minutes
// the separation is already twofold.
TEST_CASE("distal reward: the rewarded synapse outgrows the others within minutes",
          "[distal_reward][three_factor]") {
  const auto snaps = run_distal(10.0, 10.0, 1, false);
  const Snapshot& s = snaps.back();
  INFO("chosen " << s.chosen << ", mean EE " << s.mean_ee << ", rewards " << s.rewards
                 << ", E rate " << s.rate_e << " Hz");
  REQUIRE(s.rewards >= 8);
  CHECK(s.chosen >= 2.0 * s.mean_ee);
  CHECK(s.mean_ee < 0.25 * 4.0); // started at 1 mV = 25 %
}

// GLIA_DISTAL_FILE and GLIA_DISTAL_SET (space-separated key=value) vary the run.
TEST_CASE("distal reward, the paper's hour", "[.distal_full]") {
  const char* file = std::getenv("GLIA_DISTAL_FILE");
  std::vector<std::string> overrides;
  if (const char* set = std::getenv("GLIA_DISTAL_SET")) {
    std::istringstream in(set);
    for (std::string kv; in >> kv;) overrides.push_back(kv);
  }
  const char* minutes = std::getenv("GLIA_DISTAL_MINUTES");
  const auto snaps =
      run_distal(minutes ? std::atof(minutes) : 60.0, 1.0, 1, true, file ? file : kPath, overrides);
  double reached = -1, worst = 0;
  for (const Snapshot& s : snaps) {
    if (reached < 0 && s.chosen >= 4.0 - 1e-9) reached = s.minute;
    worst = std::max(worst, s.mean_ee);
  }
  std::printf("w_max reached at %.0f min; highest mean of the other E->E weights %.1f %% of it\n",
              reached, 100.0 * worst / 4.0);
  CHECK(reached > 0);
  CHECK(worst < 0.25 * 4.0);
}

TEST_CASE("uniform noise input: daspnet's 13 (rand - 0.5)", "[distal_reward][input]") {
  const Experiment ex = parse_experiment(R"([run]
dt = 1.0
[[population]]
name = "n"
model = "izhikevich"
size = 20000
[[input]]
type = "noise"
target = "n"
dist = "uniform"
mean = 0.5
std = 3.7527767
)",
                                         "uniform.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.run(1);
  const auto& i_ext = net->populations()[0]->i_ext();
  double sum = 0, sumsq = 0, lo = 1e9, hi = -1e9;
  for (double v : i_ext) {
    sum += v;
    sumsq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double n = static_cast<double>(i_ext.size());
  const double mean = sum / n, sd = std::sqrt(sumsq / n - mean * mean);
  // Uniform on [0.5 - 6.5, 0.5 + 6.5]: mean 0.5 +- 4 * 3.75 / sqrt(n), sd 3.75 +- ~1 %.
  CHECK(lo >= -6.0);
  CHECK(hi <= 7.0);
  CHECK(lo < -5.99);
  CHECK(hi > 6.99);
  CHECK(std::fabs(mean - 0.5) < 4 * 3.7527767 / std::sqrt(n));
  CHECK(std::fabs(sd - 3.7527767) < 0.04);
}
