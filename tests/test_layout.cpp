// Grid layouts and the distance-dependent connection rule: populations sharing a grid
// take disjoint sets of its points; the number of synapses at each distance matches
// sum C exp(-(D/lambda)^2) within a few standard errors; the synapses are the same for
// any thread count; bad layouts are reported with file, line and key.
#include "input_error.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/layout.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using namespace glia;

namespace {

std::string
liquid(const std::string& e_layout = "grid = \"liquid\"\ndims = [10, 10, 10]",
       const std::string& i_layout = "grid = \"liquid\"\ndims = [10, 10, 10]\noffset = 800") {
  return R"([run]
duration = 1.0
dt = 1.0
seed = 7

[[population]]
name = "E"
model = "lif_exp"
size = 800
[population.layout]
)" + e_layout +
         R"(

[[population]]
name = "I"
model = "lif_exp"
size = 200
[population.layout]
)" + i_layout +
         R"(

[[projection]]
name = "EE"
pre = "E"
post = "E"
weight = 1.0
[projection.connect]
rule = "distance"
C = 0.2
lambda = 3.0
autapses = false

[[projection]]
name = "IE"
pre = "I"
post = "E"
port = "in"
weight = -1.0
[projection.connect]
rule = "distance"
C = 0.3
lambda = 3.0
)";
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> synapses(const Projection& pr) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t k = b.row[j]; k < b.row[j + 1]; ++k) out.emplace_back(j, b.target[k]);
  std::sort(out.begin(), out.end());
  return out;
}

double dist2(const Position& a, const Position& b) {
  double s = 0.0;
  for (int k = 0; k < 3; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

} // namespace

TEST_CASE("populations on one grid take disjoint points of a seeded order", "[layout]") {
  const Experiment ex = parse_experiment(liquid(), "l.toml");
  auto net = build_network(ex, 1);
  std::set<std::tuple<int, int, int>> points;
  for (int p = 0; p < 2; ++p)
    for (const Position& x : net->positions(p)) {
      for (double c : x) {
        REQUIRE(c >= 0.0);
        REQUIRE(c <= 9.0);
        REQUIRE(c == std::floor(c));
      }
      points.emplace(static_cast<int>(x[0]), static_cast<int>(x[1]), static_cast<int>(x[2]));
    }
  CHECK(points.size() == 1000); // every point once
  CHECK(build_network(ex, 2)->positions(0) == net->positions(0));
  const Experiment other = parse_experiment(liquid(), "l.toml", {"run.seed=8"});
  CHECK(build_network(other, 1)->positions(0) != net->positions(0));
  // Without shuffling, neurons take the points in row-major order (x slowest).
  const Experiment plain = parse_experiment(
      liquid("dims = [10, 10, 10]\nshuffle = false", "dims = [4, 5, 10]\nshuffle = false"),
      "l.toml");
  auto pn = build_network(plain, 1);
  CHECK(pn->positions(0)[0] == Position{0, 0, 0});
  CHECK(pn->positions(0)[123] == Position{1, 2, 3});
  CHECK(pn->positions(1)[199] == Position{3, 4, 9});
}

TEST_CASE("distance rule: synapse counts per distance match the connection probability",
          "[layout][connect]") {
  const Experiment ex = parse_experiment(liquid(), "l.toml");
  auto net = build_network(ex, 1);
  // Bins of squared distance; the last is everything beyond.
  const std::vector<double> edges = {0.5, 2.5, 6.5, 12.5, 25.5, 1e9};
  for (std::size_t p = 0; p < 2; ++p) {
    const Projection& pr = net->projections()[p];
    const auto& pre = net->positions(pr.pre);
    const auto& post = net->positions(pr.post);
    const double c = p == 0 ? 0.2 : 0.3;
    std::vector<double> mean(edges.size(), 0.0), var(edges.size(), 0.0), seen(edges.size(), 0.0);
    auto bin = [&](double d2) {
      return static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), d2) -
                                      edges.begin());
    };
    for (std::uint32_t i = 0; i < post.size(); ++i)
      for (std::uint32_t j = 0; j < pre.size(); ++j) {
        if (p == 0 && i == j) continue; // no autapses
        const double d2 = dist2(pre[j], post[i]);
        const double q = c * std::exp(-d2 / 9.0);
        mean[bin(d2)] += q;
        var[bin(d2)] += q * (1 - q);
      }
    double total = 0.0, total_mean = 0.0, total_var = 0.0;
    for (const auto& [j, i] : synapses(pr)) {
      REQUIRE(!(p == 0 && i == j));
      seen[bin(dist2(pre[j], post[i]))] += 1.0;
      total += 1.0;
    }
    for (std::size_t k = 0; k < edges.size(); ++k) {
      INFO(pr.name << " bin " << k << ": " << seen[k] << " synapses, expected " << mean[k]);
      CHECK(std::abs(seen[k] - mean[k]) < 4.0 * std::sqrt(var[k]) + 1e-9);
      total_mean += mean[k];
      total_var += var[k];
    }
    INFO(pr.name << ": " << total << " synapses, expected " << total_mean);
    CHECK(std::abs(total - total_mean) < 4.0 * std::sqrt(total_var));
    CHECK(total > 1000.0);
  }
}

TEST_CASE("distance rule builds the same synapses for 1 and 2 threads", "[layout][connect]") {
  const Experiment ex = parse_experiment(liquid(), "l.toml");
  auto a = build_network(ex, 1);
  auto b = build_network(ex, 2);
  for (std::size_t p = 0; p < 2; ++p) {
    CHECK(a->projections()[p].blocks.size() == 1);
    CHECK(b->projections()[p].blocks.size() == 2);
    CHECK(synapses(a->projections()[p]) == synapses(b->projections()[p]));
  }
}

TEST_CASE("bad layouts and distance rules are reported with file, line and key", "[layout][cli]") {
  auto error_of = [](const std::string& text) { return test::input_error_of(text, "l.toml"); };
  CHECK_THAT(error_of(liquid("grid = \"liquid\"\ndims = [10, 10, 10]",
                             "grid = \"liquid\"\ndims = [10, 10, 10]\noffset = 700")),
             Catch::Contains("l.toml:21:10: population 'I'.layout.offset: points [700, 900) of "
                             "grid 'liquid' overlap those of population 'E' ([0, 800))"));
  CHECK_THAT(error_of(liquid("grid = \"liquid\"\ndims = [10, 10, 10]",
                             "grid = \"liquid\"\ndims = [10, 10, 9]\noffset = 800")),
             Catch::Contains("population 'I'.layout.dims: grid 'liquid' is [10, 10, 10] in "
                             "population 'E'"));
  CHECK_THAT(error_of(liquid("grid = \"liquid\"\ndims = [10, 10, 10]",
                             "grid = \"liquid\"\ndims = [10, 10, 10]\noffset = 900")),
             Catch::Contains("population 'I'.layout.offset: population 'I' needs points [900, "
                             "1100) of grid 'liquid', which has 1000 points"));
  CHECK_THAT(error_of(liquid("dims = [10, 10]")),
             Catch::Contains("population 'E'.layout.dims: expected three positive integers"));
  CHECK_THAT(error_of(liquid("dims = [10, 10, 10]\ngird = \"x\"")),
             Catch::Contains("population 'E'.layout.gird: unknown key (did you mean 'grid'?)"));
  auto edited = [](const std::string& from, const std::string& to) {
    std::string t = liquid();
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  const std::string no_layout =
      edited("[population.layout]\ngrid = \"liquid\"\ndims = [10, 10, 10]\noffset = 800", "");
  CHECK_THAT(error_of(no_layout),
             Catch::Contains("projection 'IE'.connect.rule: rule 'distance' needs the positions "
                             "of population 'I': give it a [population.layout]"));
  CHECK_THAT(error_of(edited("C = 0.3", "C = 1.5")),
             Catch::Contains("projection 'IE'.connect.C: must be in [0, 1]"));
  CHECK_THAT(error_of(edited("autapses = false", "multapses = false")),
             Catch::Contains("projection 'EE'.connect.multapses: unknown key for rule 'distance'"));
}
