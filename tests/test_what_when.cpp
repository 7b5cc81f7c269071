// What and when (experiments/what_when.toml, after Yamada & Chao 2025): readouts of a
// heterogeneous Izhikevich reservoir, trained by the error-modulated, attention-gated
// three-factor rule, fire at the cue-to-stimulus interval; when the interval changes they
// re-adapt with the same weights; with the stimulus on half the trials they learn half
// the amplitude. Bad teacher settings are refused.
#include "run_glia.hpp"

#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace glia;

namespace {

const std::string kPath = std::string(GLIA_SOURCE_DIR) + "/experiments/what_when.toml";
constexpr double kTrial = 1000.0; // ms

struct Window {
  double spikes_per_trial = 0;       // readout spikes, all readout neurons
  double peak = -1;                  // ms after the cue: centre of the fullest 5 ms bin
  double near_300 = 0, near_500 = 0; // spikes per trial within 20 ms of each time
};

// The readout's spikes over trials [first, last), folded onto one trial.
Window readout_window(const std::vector<double>& times, int first, int last) {
  std::vector<int> bins(static_cast<std::size_t>(kTrial / 5), 0);
  Window w;
  for (double t : times) {
    const int trial = static_cast<int>(t / kTrial);
    if (trial < first || trial >= last) continue;
    const double phase = t - trial * kTrial;
    ++bins[static_cast<std::size_t>(phase / 5)];
    w.spikes_per_trial += 1;
    w.near_300 += std::fabs(phase - 300) <= 20;
    w.near_500 += std::fabs(phase - 500) <= 20;
  }
  const double n = last - first;
  w.spikes_per_trial /= n;
  w.near_300 /= n;
  w.near_500 /= n;
  const auto it = std::max_element(bins.begin(), bins.end());
  if (*it > 0) w.peak = 5.0 * static_cast<double>(it - bins.begin()) + 2.5;
  return w;
}

std::vector<double> readout_spikes(const std::vector<std::string>& sets) {
  const Experiment ex = load_experiment(kPath, sets);
  auto net = build_network(ex);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(static_cast<std::uint64_t>(std::llround(ex.run.duration / ex.run.dt)));
  const int readout = ex.population_index("readout");
  for (const auto& r : sim.spike_records())
    if (r.population == readout) return r.times;
  FAIL("no spike record of the readout");
  return {};
}

void print(const char* what, const Window& w) {
  std::printf("what_when %-28s %5.1f spikes/trial, peak %5.1f ms, within 20 ms of 300: %4.1f, "
              "of 500: %4.1f\n",
              what, w.spikes_per_trial, w.peak, w.near_300, w.near_500);
}

} // namespace

TEST_CASE("what and when: readouts fire at the interval and re-adapt when it changes",
          "[what_when]") {
  const auto times = readout_spikes({});
  const Window before = readout_window(times, 0, 10);
  const Window first = readout_window(times, 180, 200);  // interval 300 ms, learnt
  const Window second = readout_window(times, 380, 400); // interval 500 ms, re-learnt
  print("trials 0-9 (before learning)", before);
  print("trials 180-199 (300 ms)", first);
  print("trials 380-399 (500 ms)", second);
  CHECK(before.spikes_per_trial < 1.0);
  // Learnt: the readout fires, its peak within 20 ms of the target, nearly all of its
  // spikes near it (the teacher fires 5 spikes, 290-310 ms, for each of 5 readouts).
  CHECK(first.spikes_per_trial > 15);
  CHECK(std::fabs(first.peak - 300) <= 20);
  CHECK(first.near_300 > 0.8 * first.spikes_per_trial);
  CHECK(first.near_500 == 0);
  // After the change, with the same weights: the peak moved to the new time and the old
  // time is silent.
  CHECK(second.spikes_per_trial > 15);
  CHECK(std::fabs(second.peak - 500) <= 20);
  CHECK(second.near_500 > 0.8 * second.spikes_per_trial);
  CHECK(second.near_300 < 0.05 * second.near_500);

  // The expected train: with the stimulus on every other trial the readout learns half
  // the amplitude (trials 170-199 of both runs: the first run's stimulus is at 300 ms on
  // every trial up to 200).
  const auto half = readout_spikes({"run.duration=200000", "input.stimulus_300.period=2000"});
  const Window w_every = readout_window(times, 170, 200);
  const Window w_half = readout_window(half, 170, 200);
  print("p = 1, trials 170-199", w_every);
  print("p = 0.5, trials 170-199", w_half);
  CHECK(std::fabs(w_half.peak - 300) <= 20);
  const double ratio = w_half.near_300 / w_every.near_300;
  std::printf("what_when amplitude ratio p=0.5 / p=1: %.3f\n", ratio);
  CHECK(ratio > 0.35);
  CHECK(ratio < 0.65);
}

TEST_CASE("what and when: a teacher and a schedule together, or a teacher of the wrong size, "
          "are refused",
          "[what_when]") {
  test::ScratchDir dir("what-when-bad");
  const test::RunResult both = test::run_glia(
      "check " + kPath + " --set modulator.error.times=[0.0] --set modulator.error.values=[1.0]",
      dir);
  CHECK(both.code == 2);
  CHECK_THAT(both.err, Catch::Contains("what_when.toml") && Catch::Contains("modulator") &&
                           Catch::Contains("either 'teacher' or the schedule"));
  const test::RunResult size = test::run_glia(
      "run " + kPath + " -q -o " + (dir / "o.h5") + " --set population.teacher.size=2", dir);
  CHECK(size.code == 2);
  CHECK_THAT(size.err, Catch::Contains("teacher population 'teacher' has 2 neurons"));
}
