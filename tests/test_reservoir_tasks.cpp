// Must-show 4 of issue 5: the spiking liquid of experiments/narma10.toml (300 lif_exp
// neurons, random recurrent E/I), driven by a signal current and read out by ridge
// regression on its filtered spike trains (reservoir/liquid.hpp, benchmarks.hpp),
// against linear regression on the input; its features are identical for 1 and 2
// threads.
#include "io/experiment.hpp"
#include "reservoir/benchmarks.hpp"
#include "reservoir/lempel_ziv.hpp"
#include "reservoir/liquid.hpp"
#include "reservoir/tasks.hpp"
#include "run_glia.hpp"

#include <catch2/catch.hpp>

#include <numeric>

using namespace glia;
using glia::test::source_path;

namespace {

Experiment liquid() {
  return load_experiment(source_path("experiments/narma10.toml"));
}

LiquidDrive drive(double offset, int threads = 1) {
  LiquidDrive d;
  d.driven = {"E", "I"};
  d.readout = {"E", "I"};
  d.gain = 8.0;
  d.offset = offset;
  d.hold_ms = 10.0;
  d.tau_ms = 25.0;
  d.threads = threads;
  return d;
}

constexpr std::size_t kSamples = 2000, kWashout = 200;

} // namespace

TEST_CASE("a spiking liquid beats linear regression on u(t) for NARMA-10", "[lsm]") {
  const Series s = narma10(kSamples, 1);
  // NARMA's u in [0, 0.5] enters centred.
  const FilteredTraces tr = drive_liquid(liquid(), drive(-0.25), s.u);
  const double rate = tr.counts().sum() / tr.neurons() / (kSamples * 10e-3);
  const double liquid_nrmse = narma10_nrmse(tr.traces(), s, kWashout);
  const double base1 = narma10_nrmse(input_taps(s.u, 1), s, kWashout);
  const double base20 = narma10_nrmse(input_taps(s.u, 20), s, kWashout);
  // The liquid's spike trains are far from periodic and far from silent.
  const auto lzc = lz_complexity_per_neuron(tr.spike_steps(), tr.spike_ids(), tr.neurons(),
                                            tr.start_step(), tr.end_step(), 20);
  const double mean_lzc = std::accumulate(lzc.begin(), lzc.end(), 0.0) / lzc.size();
  INFO("rate " << rate << " Hz, NARMA-10 NRMSE liquid " << liquid_nrmse << ", u(t) " << base1
               << ", 20 taps " << base20 << ", mean LZC " << mean_lzc);
  // Measured (seed 7, input seed 1): liquid 0.695, u(t) 0.888, 20 taps 0.394; LZC 0.64.
  CHECK(base1 > 0.85);
  CHECK(liquid_nrmse < base1 - 0.15);
  // The 20-tap delay line of the raw input (NRMSE ~0.39) is not beaten by this liquid,
  // whose memory (below) spans a few samples only.
  CHECK(base20 < 0.42);
  CHECK(mean_lzc > 0.2);
}

TEST_CASE("a spiking liquid's memory capacity exceeds the input's", "[lsm]") {
  const auto u = uniform_series(kSamples, -0.8, 0.8, 1);
  const FilteredTraces tr = drive_liquid(liquid(), drive(0.0), u);
  std::vector<double> r2;
  const double mc = memory_capacity(tr.traces(), u, kWashout, 30, &r2);
  // The input sample alone carries delay 0 (r^2 = 1) and nothing else.
  const double mc_input = memory_capacity(input_taps(u, 1), u, kWashout, 30);
  INFO("MC liquid " << mc << " (r2 at delays 0-3: " << r2[0] << " " << r2[1] << " " << r2[2] << " "
                    << r2[3] << "), input " << mc_input);
  // Measured: liquid 3.06, input 1.086.
  CHECK(mc_input < 1.1);
  CHECK(mc > mc_input + 1.5);
  CHECK(r2[1] > 0.3); // the previous sample is recalled
}

TEST_CASE("the liquid's features are the same for 1 and 2 threads", "[lsm][determinism]") {
  const Series s = narma10(300, 2);
  const FilteredTraces one = drive_liquid(liquid(), drive(-0.25, 1), s.u);
  const FilteredTraces two = drive_liquid(liquid(), drive(-0.25, 2), s.u);
  CHECK(one.counts().sum() > 1000.0);
  CHECK(one.traces() == two.traces());
  CHECK(one.counts() == two.counts());
  CHECK(one.spike_ids() == two.spike_ids());
}
