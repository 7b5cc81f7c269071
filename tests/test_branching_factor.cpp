// The branching factor (NALSM's measure, reservoir/branching_factor.hpp) on synthetic
// spike trains: a deterministic binary cascade gives its exact value, and a stochastic
// chain whose spikes trigger their successor with probability q gives the value of a
// direct count of the definition, close to q. The graph of a built network holds each
// connected pair of the listed populations once.
#include "input_error.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "reservoir/branching_factor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace glia;

TEST_CASE("branching factor of a binary cascade is exact", "[branching]") {
  // Node n feeds 2n+1 and 2n+2: 15 nodes, 4 levels; level l fires 2l steps after the root.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::uint32_t n = 0; n < 7; ++n) {
    edges.emplace_back(n, 2 * n + 1);
    edges.emplace_back(n, 2 * n + 2);
  }
  edges.emplace_back(0, 1); // a duplicate edge counts once
  const std::uint32_t window = 3;
  BranchingFactor bf(SpikeGraph::from_edges(15, edges), window, 0, {200, 500});
  std::vector<std::vector<std::uint32_t>> at(500);
  for (std::uint64_t t0 = 10; t0 + 10 < 500; t0 += 40)
    for (std::uint32_t n = 0; n < 15; ++n) {
      const int level = n == 0 ? 0 : (n < 3 ? 1 : (n < 7 ? 2 : 3));
      at[t0 + 2 * level].push_back(n);
    }
  for (std::uint64_t t = 0; t < 500; ++t) bf.add_step(t, at[t]);
  // Root: 2 descendants, no ancestor (counted as 1); inner nodes: 2 / 1; leaves: 0 / 1.
  const auto r = bf.result();
  CHECK(r.sigma == Approx(14.0 / 15.0).epsilon(1e-15));
  CHECK(r.neurons == 15);
  CHECK(r.spikes == 15 * 12);
  CHECK(bf.segment(0).sigma == Approx(14.0 / 15.0).epsilon(1e-15));
  CHECK(bf.segment(0).spikes == 15 * 5); // cascades at 10, 50, ..., 170
  CHECK(bf.segment(1).spikes == 15 * 7);
}

TEST_CASE("branching factor of a stochastic chain equals a direct count and is near q",
          "[branching]") {
  const std::uint32_t n = 200, window = 4;
  const std::uint64_t steps = 100000, from = 100;
  const double q = 0.6, spontaneous = 2e-4;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::vector<std::uint32_t>> at(steps + 2);
  std::vector<std::vector<char>> fired(steps + 2, std::vector<char>(n, 0));
  for (std::uint64_t t = 0; t < steps; ++t) {
    for (std::uint32_t i = 0; i < n; ++i)
      if (u(rng) < spontaneous) fired[t][i] = 1;
    for (std::uint32_t i = 0; i < n; ++i)
      if (fired[t][i]) {
        at[t].push_back(i);
        if (u(rng) < q) fired[t + 2][(i + 1) % n] = 1; // the successor, two steps later
      }
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::uint32_t i = 0; i < n; ++i) edges.emplace_back(i, (i + 1) % n);
  BranchingFactor bf(SpikeGraph::from_edges(n, edges), window, from, {});
  for (std::uint64_t t = 0; t < steps; ++t) bf.add_step(t, at[t]);

  // The definition, counted directly: per neuron in time order, then over neurons.
  std::vector<double> sum(n, 0.0);
  std::vector<std::uint64_t> count(n, 0);
  for (std::uint64_t t = from + window; t + window < steps; ++t)
    for (std::uint32_t i : at[t]) {
      int post = 0, pre = 0;
      for (std::uint64_t s = t + 1; s <= t + window; ++s) post += fired[s][(i + 1) % n];
      for (std::uint64_t s = t - window; s < t; ++s) pre += fired[s][(i + n - 1) % n];
      sum[i] += static_cast<double>(post) / std::max(pre, 1);
      ++count[i];
    }
  double sigma = 0.0;
  std::uint32_t neurons = 0;
  std::uint64_t spikes = 0;
  for (std::uint32_t i = 0; i < n; ++i)
    if (count[i]) {
      sigma += sum[i] / static_cast<double>(count[i]);
      ++neurons;
      spikes += count[i];
    }
  sigma /= neurons;
  const auto r = bf.result();
  CHECK(r.spikes == spikes);
  CHECK(r.neurons == neurons);
  CHECK(r.sigma == sigma);
  // Each spike has at most one descendant (its successor) and one ancestor: the ratio is
  // the chance that the successor fires within the window, q plus a little spontaneous
  // activity; the standard error over ~10^4 spikes is ~0.005.
  INFO("sigma " << r.sigma << " over " << r.spikes << " spikes");
  CHECK(r.spikes > 8000);
  CHECK(std::abs(r.sigma - (q + window * spontaneous)) < 0.025);
}

TEST_CASE("the graph of a network holds the listed populations' synapses once", "[branching]") {
  const Experiment ex = parse_experiment(R"([run]
duration = 1.0
dt = 1.0

[[population]]
name = "A"
model = "lif_delta"
size = 30

[[population]]
name = "B"
model = "lif_delta"
size = 20

[[population]]
name = "C"
model = "lif_delta"
size = 10

[[projection]]
name = "AB1"
pre = "A"
post = "B"
weight = 1.0
[projection.connect]
rule = "fixed_probability"
p = 0.3

[[projection]]
name = "AB2"
pre = "A"
post = "B"
weight = 1.0
[projection.connect]
rule = "fixed_probability"
p = 0.3

[[projection]]
pre = "B"
post = "A"
weight = 1.0
[projection.connect]
rule = "all_to_all"

[[projection]]
pre = "C"
post = "A"
weight = 1.0
[projection.connect]
rule = "all_to_all"
)",
                                         "g.toml");
  auto net = build_network(ex, 2);
  const SpikeGraph g = liquid_graph(*net, {1, 0}); // B numbered first
  CHECK(g.n == 50);
  CHECK(g.offset == std::vector<std::uint32_t>{0, 20});
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ab;
  for (std::size_t p = 0; p < 2; ++p)
    for (const auto& b : net->projections()[p].blocks)
      for (std::uint32_t j = 0; j < 30; ++j)
        for (std::uint64_t k = b.row[j]; k < b.row[j + 1]; ++k) ab.emplace_back(j, b.target[k]);
  std::sort(ab.begin(), ab.end());
  ab.erase(std::unique(ab.begin(), ab.end()), ab.end());
  CHECK(g.out.size() == ab.size() + 20 * 30); // A->B once per pair, all B->A, nothing from C
  // B neuron 0 (index 0) receives from the A neurons that feed it.
  std::vector<std::uint32_t> sources;
  for (const auto& [j, i] : ab)
    if (i == 0) sources.push_back(20 + j);
  CHECK(std::vector<std::uint32_t>(g.in.begin() + static_cast<std::ptrdiff_t>(g.in_row[0]),
                                   g.in.begin() + static_cast<std::ptrdiff_t>(g.in_row[1])) ==
        sources);
}

TEST_CASE("bad branching factor settings are reported with file, line and key",
          "[branching][cli]") {
  auto with = [](const std::string& keys) {
    return "[run]\nduration = 100.0\ndt = 0.5\n[run.branching_factor]\n" + keys +
           "\n\n[[population]]\nname = \"E\"\nmodel = \"lif_delta\"\nsize = 4\n";
  };
  auto error_of = [](const std::string& text) { return test::input_error_of(text, "b.toml"); };
  CHECK(error_of(with("populations = [\"E\"]\nwindow = 2.0\nsegments = 4")) == "no error");
  CHECK_THAT(error_of(with("populations = [\"F\"]")),
             Catch::Contains("b.toml:5:16: run.branching_factor.populations[0]: unknown "
                             "population 'F' (did you mean 'E'?)"));
  CHECK_THAT(error_of(with("populations = [\"E\", \"E\"]")),
             Catch::Contains("run.branching_factor.populations[1]: 'E' is listed twice"));
  CHECK_THAT(error_of(with("populations = [\"E\"]\nwindow = 0.75")),
             Catch::Contains("run.branching_factor.window: must be a multiple of the time step"));
  CHECK_THAT(error_of(with("populations = [\"E\"]\nstart = 100.0")),
             Catch::Contains("run.branching_factor.start: must be in [0, run.duration = 100)"));
  CHECK_THAT(error_of(with("populations = [\"E\"]\nsegment = 2")),
             Catch::Contains("run.branching_factor.segment: unknown key (did you mean "
                             "'segments'?)"));
  CHECK_THAT(error_of(with("window = 2.0")),
             Catch::Contains("run.branching_factor.populations: required key missing"));
}
