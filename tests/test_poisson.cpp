// Statistical tests of the Poisson generators. PoissonInput is run through the engine
// into a population that only counts (lif_delta with weight 1, no reachable threshold
// and no effective leak, so V_m is the number of events received so far); the counts
// per window must have the Poisson mean and a Fano factor of 1, and the generator must
// be reproducible (same seed, thread count, subset of neurons) yet independent across
// neurons and steps. poisson_count's large-mean path (PTRS) is checked directly.
//
// Standard errors used throughout, for n independent Poisson counts of mean lambda:
//   SE(mean)  = sqrt(lambda / n);
//   SE(Fano)  ~= sqrt(2 / (n - 1))  (delta method on s^2 / mean; for Poisson counts the
//               lambda-dependent terms cancel, so this holds for any lambda);
//   SE(corr)  ~= 1 / sqrt(n)        (Pearson correlation of independent samples).
// Every check is "within 4 standard errors" unless stated otherwise.
#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Moments {
  double mean = 0.0, var = 0.0;
  std::size_t n = 0;
  double fano() const { return var / mean; }
};

Moments moments(const std::vector<double>& x) {
  Moments m;
  m.n = x.size();
  for (double v : x) m.mean += v;
  m.mean /= static_cast<double>(m.n);
  for (double v : x) m.var += (v - m.mean) * (v - m.mean);
  m.var /= static_cast<double>(m.n - 1);
  return m;
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const Moments mx = moments(x), my = moments(y);
  double c = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) c += (x[k] - mx.mean) * (y[k] - my.mean);
  c /= static_cast<double>(x.size() - 1);
  return c / std::sqrt(mx.var * my.var);
}

void check_poisson_moments(const std::vector<double>& counts, double lambda) {
  const Moments m = moments(counts);
  const double n = static_cast<double>(m.n);
  const double se_mean = std::sqrt(lambda / n), se_fano = std::sqrt(2.0 / (n - 1.0));
  INFO("lambda " << lambda << ", n " << m.n << ": mean " << m.mean << " (SE " << se_mean
                 << "), Fano " << m.fano() << " (SE " << se_fano << ")");
  CHECK(std::abs(m.mean - lambda) < 4.0 * se_mean);
  CHECK(std::abs(m.fano() - 1.0) < 4.0 * se_fano);
}

struct PoissonRun {
  double rate_hz = 100.0;
  std::uint32_t neurons = 100;
  std::uint64_t steps = 1000;
  std::uint64_t window = 1; // steps per counting window
  std::uint32_t seed = 1;
  int threads = 1;
  std::vector<std::uint32_t> targets; // empty: all neurons
};

// Counts per window: result[w * neurons + i] = events to neuron i in window w.
std::vector<double> window_counts(const PoissonRun& p) {
  const double dt = 0.1;
  glia::Network net(dt, p.seed, p.threads);
  const glia::ModelInfo& m = *glia::Registry::global().find("lif_delta");
  glia::PopulationSetup setup;
  setup.name = "counter";
  setup.size = p.neurons;
  glia::Population& pop = net.add_population(m, setup);
  auto set = [&](const char* name, double v) {
    const int k = glia::find_spec(m.params, name);
    REQUIRE(k >= 0);
    pop.set_param(k, {v});
  };
  set("E_L", 0.0);
  set("V_reset", 0.0);
  set("V_th", 1e12);
  set("tau_m", 1e12); // per-step decay 1 - 1e-13: counts stay integral to ~1e-8
  const int v_m = glia::find_spec(m.state, "V_m");
  std::fill_n(pop.state(v_m), p.neurons, 0.0);
  const glia::Stream stream{p.seed, glia::stream_id(glia::StreamKind::input, 0)};
  auto in = std::make_unique<glia::PoissonInput>(p.rate_hz, 1.0, 0, 0, UINT64_MAX, dt, stream);
  in->target = 0;
  in->neurons = p.targets;
  net.add_input(std::move(in));
  net.prepare();
  glia::Simulator sim(net);
  std::vector<std::uint32_t> all(p.neurons);
  for (std::uint32_t i = 0; i < p.neurons; ++i) all[i] = i;
  sim.record_state(0, v_m, 0, all, p.window, "V_m");
  sim.run(p.steps);
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.n_rows == p.steps / p.window);
  std::vector<double> counts(rec.n_rows * p.neurons);
  double worst = 0.0; // distance of a window's V_m increase from a whole count
  for (std::size_t w = 0; w < rec.n_rows; ++w)
    for (std::uint32_t i = 0; i < p.neurons; ++i) {
      const double now = rec.rows[w * p.neurons + i];
      const double before = w == 0 ? 0.0 : rec.rows[(w - 1) * p.neurons + i];
      const double c = now - before;
      worst = std::max(worst, std::abs(c - std::round(c)));
      counts[w * p.neurons + i] = std::round(c);
    }
  REQUIRE(worst < 1e-6);
  return counts;
}

double poisson_pmf(std::uint32_t k, double lambda) {
  return std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
}

// Pearson chi-square of integer samples against Poisson(lambda), with bins merged from
// both tails until each expects >= 20 samples. Returns (statistic, degrees of freedom).
std::pair<double, int> chi_square(const std::vector<double>& x, double lambda) {
  const double n = static_cast<double>(x.size());
  std::uint32_t kmax = 0;
  for (double v : x) kmax = std::max(kmax, static_cast<std::uint32_t>(v));
  std::vector<double> observed(kmax + 1, 0.0), expected(kmax + 1, 0.0);
  for (double v : x) observed[static_cast<std::uint32_t>(v)] += 1.0;
  double cdf = 0.0;
  for (std::uint32_t k = 0; k <= kmax; ++k) {
    expected[k] = n * poisson_pmf(k, lambda);
    cdf += expected[k];
  }
  expected[kmax] += n - cdf; // the upper tail beyond the largest sample
  std::vector<double> o, e;
  double ob = 0.0, eb = 0.0;
  for (std::uint32_t k = 0; k <= kmax; ++k) {
    ob += observed[k];
    eb += expected[k];
    if (eb >= 20.0) {
      o.push_back(ob);
      e.push_back(eb);
      ob = eb = 0.0;
    }
  }
  if (eb > 0.0) {
    o.back() += ob;
    e.back() += eb;
  }
  double chi2 = 0.0;
  for (std::size_t b = 0; b < o.size(); ++b) chi2 += (o[b] - e[b]) * (o[b] - e[b]) / e[b];
  return {chi2, static_cast<int>(o.size()) - 1};
}

// A chi-square statistic with df degrees of freedom is below df + 5 sqrt(2 df) with
// probability > 0.9999 for the df used here.
void check_chi_square(const std::vector<double>& x, double lambda) {
  const auto [chi2, df] = chi_square(x, lambda);
  INFO("chi-square " << chi2 << " with " << df << " degrees of freedom");
  REQUIRE(df >= 3);
  CHECK(chi2 < df + 5.0 * std::sqrt(2.0 * df));
}

} // namespace

TEST_CASE("PoissonInput counts have Poisson mean and Fano factor", "[engine][poisson]") {
  SECTION("5 Hz, 200 ms windows") {
    // lambda per step 5e-4; windows of 2000 steps have lambda 1.
    const auto c = window_counts({5.0, 1000, 20000, 2000, 3, 1, {}});
    REQUIRE(c.size() == 10000);
    check_poisson_moments(c, 5.0 * 200.0 * 1e-3);
  }
  SECTION("100 Hz, 10 ms windows") {
    const auto c = window_counts({100.0, 1000, 2000, 100, 4, 1, {}});
    REQUIRE(c.size() == 20000);
    check_poisson_moments(c, 100.0 * 10.0 * 1e-3);
  }
  SECTION("20 kHz, per step") {
    // lambda = rate dt = 2 per step: the per-step distribution itself is tested.
    const auto c = window_counts({20000.0, 200, 5000, 1, 5, 1, {}});
    REQUIRE(c.size() == 1000000);
    check_poisson_moments(c, 2.0);
    check_chi_square(c, 2.0);
  }
  SECTION("200 kHz, per step (large-mean path)") {
    const auto c = window_counts({200000.0, 100, 2000, 1, 6, 1, {}});
    check_poisson_moments(c, 20.0);
    check_chi_square(c, 20.0);
  }
}

TEST_CASE("PoissonInput is reproducible and independent across neurons and steps",
          "[engine][poisson]") {
  const PoissonRun base{20000.0, 203, 3000, 1, 9, 1, {}};
  const auto a = window_counts(base);

  // Same seed: the same events, also with the neurons split among three threads (203 is
  // not a multiple of the four neurons that share one Philox call).
  PoissonRun threaded = base;
  threaded.threads = 3;
  CHECK(window_counts(threaded) == a);

  // An input restricted to some neurons draws for them exactly what it draws for them
  // when it targets everyone, and nothing reaches the others.
  PoissonRun subset = base;
  subset.targets = {1, 2, 5, 17, 100, 202};
  const auto s = window_counts(subset);
  std::size_t mismatches = 0;
  for (std::uint64_t t = 0; t < base.steps; ++t)
    for (std::uint32_t i = 0; i < base.neurons; ++i) {
      const bool targeted = std::binary_search(subset.targets.begin(), subset.targets.end(), i);
      const double want = targeted ? a[t * base.neurons + i] : 0.0;
      mismatches += s[t * base.neurons + i] != want;
    }
  CHECK(mismatches == 0);

  // Another seed: different events, as different as two independent draws are.
  PoissonRun other = base;
  other.seed = 10;
  const auto b = window_counts(other);
  std::size_t differ = 0;
  for (std::size_t k = 0; k < a.size(); ++k) differ += a[k] != b[k];
  // Two independent Poisson(2) counts differ with probability 1 - sum_k p_k^2 (~0.79).
  double same = 0.0;
  for (std::uint32_t k = 0; k < 40; ++k) same += poisson_pmf(k, 2.0) * poisson_pmf(k, 2.0);
  const double frac = static_cast<double>(differ) / static_cast<double>(a.size());
  const double se_frac = std::sqrt(same * (1.0 - same) / static_cast<double>(a.size()));
  CHECK(std::abs(frac - (1.0 - same)) < 4.0 * se_frac);

  // Independence: correlation of per-step counts between neighbouring neurons (pairs
  // inside and across the groups of four that share a Philox call) and between
  // consecutive steps of one neuron.
  const std::uint32_t n = base.neurons;
  const std::uint64_t steps = base.steps;
  std::vector<std::vector<double>> series(n, std::vector<double>(steps));
  for (std::uint64_t t = 0; t < steps; ++t)
    for (std::uint32_t i = 0; i < n; ++i) series[i][t] = a[t * n + i];
  const double se = 1.0 / std::sqrt(static_cast<double>(steps));
  double sum_pair = 0.0, max_pair = 0.0, sum_lag = 0.0, max_lag = 0.0;
  for (std::uint32_t i = 0; i + 1 < n; ++i) {
    const double r = correlation(series[i], series[i + 1]);
    sum_pair += r;
    max_pair = std::max(max_pair, std::abs(r));
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::vector<double> x(series[i].begin(), series[i].end() - 1);
    const std::vector<double> y(series[i].begin() + 1, series[i].end());
    const double r = correlation(x, y);
    sum_lag += r;
    max_lag = std::max(max_lag, std::abs(r));
  }
  const double mean_pair = sum_pair / (n - 1), mean_lag = sum_lag / n;
  INFO("neighbour correlation: mean " << mean_pair << ", max |r| " << max_pair << "; lag-1: mean "
                                      << mean_lag << ", max |r| " << max_lag << "; SE of one r "
                                      << se);
  CHECK(std::abs(mean_pair) < 4.0 * se / std::sqrt(static_cast<double>(n - 1)));
  CHECK(std::abs(mean_lag) < 4.0 * se / std::sqrt(static_cast<double>(n)));
  // The largest of ~200 correlations: 5 SE is exceeded with probability ~1e-4.
  CHECK(max_pair < 5.0 * se);
  CHECK(max_lag < 5.0 * se);
}

TEST_CASE("poisson_count has Poisson statistics for large means (PTRS)", "[engine][poisson]") {
  const glia::Stream s{2024, glia::stream_id(glia::StreamKind::input, 5)};
  for (const double lambda : {10.0, 50.0, 1000.0}) {
    CAPTURE(lambda);
    const std::uint32_t n = 100000;
    std::vector<double> x(n);
    for (std::uint32_t k = 0; k < n; ++k)
      x[k] = glia::poisson_count(s, k, 0, static_cast<std::uint32_t>(lambda), lambda);
    check_poisson_moments(x, lambda);
    check_chi_square(x, lambda);
    // Keyed: the same counter gives the same count, whenever it is drawn.
    for (std::uint32_t k = 0; k < n; k += 997)
      REQUIRE(glia::poisson_count(s, k, 0, static_cast<std::uint32_t>(lambda), lambda) == x[k]);
  }
  // Below the switch to PTRS (lambda < 10) inversion is used: same checks at 9.5.
  std::vector<double> x(100000);
  for (std::uint32_t k = 0; k < x.size(); ++k) x[k] = glia::poisson_count(s, k, 1, 0, 9.5);
  check_poisson_moments(x, 9.5);
  check_chi_square(x, 9.5);
}
