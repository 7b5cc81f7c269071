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

#include <chrono>
#include <cstdio>
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
std::vector<Snapshot> run_distal(double minutes, double every, int threads, bool print) {
  const Experiment ex = load_experiment(kPath);
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

TEST_CASE("distal reward: the rewarded synapse outgrows the others within minutes",
          "[distal_reward][three_factor]") {
  const auto snaps = run_distal(4.0, 1.0, 2, false);
  const Snapshot& s = snaps.back();
  INFO("chosen " << s.chosen << ", mean EE " << s.mean_ee << ", rewards " << s.rewards
                 << ", E rate " << s.rate_e << " Hz");
  REQUIRE(s.rewards >= 10);
  CHECK(s.chosen >= 4.0 * s.mean_ee);
  CHECK(s.mean_ee < 0.25 * 4.0);
}

TEST_CASE("distal reward, the paper's hour", "[.distal_full]") {
  const auto snaps = run_distal(60.0, 1.0, 1, true);
  const Snapshot& s = snaps.back();
  CHECK(s.chosen >= 4.0 - 1e-9);
  CHECK(s.mean_ee < 0.25 * 4.0);
}
