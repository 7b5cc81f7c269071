// Tests of the connection rules (sim/connectivity) called directly: each rule gives the
// synapse counts it promises (exactly, or within 4 standard errors where it is random),
// respects autapses/multapses, chooses partners uniformly, and builds the same synapses
// (with the same weights and delays) whether the targets are split into 1, 2 or 3
// blocks, which is what makes runs independent of the thread count. The storage layout
// is checked too: every synapse lies in its block's target range and rows are sorted by
// target. Drawn weights and delays must follow their distributions, delays rounded to
// whole steps and never below one step.
#include "sim/connectivity.hpp"
#include "sim/distribution.hpp"
#include "sim/network.hpp"
#include "sim/projection.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <map>
#include <numbers>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace {

using Rule = glia::ConnectSpec::Rule;

struct Syn {
  std::uint32_t src, tgt;
  float w;
  std::uint16_t d;
  auto operator<=>(const Syn&) const = default;
};

struct Built {
  glia::Projection proj;
  std::vector<Syn> syn; // sorted
};

struct Request {
  glia::ConnectSpec spec;
  glia::Distribution weight = glia::Distribution::constant_of(1.0);
  glia::Distribution delay = glia::Distribution::constant_of(0.1);
  std::uint32_t n_pre = 100, n_post = 100;
  bool same = false;
  double dt = 0.1;
};

// Builds the projection over `parts` target blocks, checks the storage layout and
// returns every synapse, sorted.
Built build(const Request& r, int parts = 1) {
  Built b;
  glia::ConnectRequest req;
  req.spec = &r.spec;
  req.weight = r.weight;
  req.delay = r.delay;
  req.n_pre = r.n_pre;
  req.n_post = r.n_post;
  req.same_population = r.same;
  req.dt = r.dt;
  req.seed = 77;
  req.index = 3;
  const auto blocks = glia::split_blocks(r.n_post, parts);
  glia::connect(b.proj, req, blocks);
  REQUIRE(b.proj.blocks.size() == blocks.size());
  std::size_t unsorted = 0, outside = 0;
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const glia::SynapseBlock& blk = b.proj.blocks[k];
    REQUIRE(blk.target_lo == blocks[k].first);
    REQUIRE(blk.target_hi == blocks[k].second);
    REQUIRE(blk.row.size() == static_cast<std::size_t>(r.n_pre) + 1);
    REQUIRE(blk.row.front() == 0);
    REQUIRE(blk.row.back() == blk.target.size());
    REQUIRE(blk.weight.size() == (b.proj.constant_weight ? 0 : blk.size()));
    REQUIRE(blk.delay.size() == (b.proj.constant_delay ? 0 : blk.size()));
    for (std::uint32_t j = 0; j < r.n_pre; ++j)
      for (std::uint64_t s = blk.row[j]; s < blk.row[j + 1]; ++s) {
        const std::uint32_t t = blk.target[s];
        outside += t < blk.target_lo || t >= blk.target_hi;
        unsorted += s > blk.row[j] && blk.target[s - 1] > t;
        b.syn.push_back(
            {j, t, static_cast<float>(b.proj.weight_of(blk, s)), b.proj.delay_of(blk, s)});
      }
  }
  CHECK(outside == 0);
  CHECK(unsorted == 0);
  std::sort(b.syn.begin(), b.syn.end());
  return b;
}

std::vector<std::uint32_t> in_degrees(const std::vector<Syn>& syn, std::uint32_t n_post) {
  std::vector<std::uint32_t> d(n_post, 0);
  for (const Syn& s : syn) ++d[s.tgt];
  return d;
}

std::vector<std::uint32_t> out_degrees(const std::vector<Syn>& syn, std::uint32_t n_pre) {
  std::vector<std::uint32_t> d(n_pre, 0);
  for (const Syn& s : syn) ++d[s.src];
  return d;
}

std::size_t autapses(const std::vector<Syn>& syn) {
  return static_cast<std::size_t>(
      std::count_if(syn.begin(), syn.end(), [](const Syn& s) { return s.src == s.tgt; }));
}

// Synapses that repeat an earlier (source, target) pair; `syn` is sorted.
std::size_t multapses(const std::vector<Syn>& syn) {
  std::size_t n = 0;
  for (std::size_t k = 1; k < syn.size(); ++k)
    n += syn[k].src == syn[k - 1].src && syn[k].tgt == syn[k - 1].tgt;
  return n;
}

// Uniformity of how often each candidate is chosen: counts c_j with common expectation
// e and per-count variance e * (1 - q) (q the chance of being chosen by one owner without
// replacement, 0 with replacement). sum (c_j - e)^2 / (e (1 - q)) is then close to
// chi-square with m - 1 degrees of freedom (the total is fixed); it stays below
// df + 5 sqrt(2 df) with probability > 0.9999.
void check_uniform(const std::vector<std::uint32_t>& counts, double q) {
  double total = 0.0;
  for (auto c : counts) total += c;
  const double e = total / static_cast<double>(counts.size());
  double chi2 = 0.0;
  for (auto c : counts) chi2 += (c - e) * (c - e) / (e * (1.0 - q));
  const double df = static_cast<double>(counts.size() - 1);
  INFO("chi-square " << chi2 << " with " << df << " degrees of freedom");
  CHECK(chi2 < df + 5.0 * std::sqrt(2.0 * df));
}

void check_same_for_any_split(const Request& r) {
  const Built one = build(r, 1);
  for (int parts : {2, 3}) {
    CAPTURE(parts);
    const Built more = build(r, parts);
    CHECK(more.proj.max_delay == one.proj.max_delay);
    REQUIRE(more.syn.size() == one.syn.size());
    CHECK(more.syn == one.syn);
  }
}

Request indegree(std::uint32_t n_pre, std::uint32_t n_post, std::uint32_t k, bool multapses,
                 bool same = false, bool autapses = true) {
  Request r;
  r.spec.rule = Rule::fixed_indegree;
  r.spec.degree = k;
  r.spec.multapses = multapses;
  r.spec.autapses = autapses;
  r.n_pre = n_pre;
  r.n_post = n_post;
  r.same = same;
  return r;
}

} // namespace

TEST_CASE("fixed_indegree gives every target exactly k inputs", "[engine][connectivity]") {
  SECTION("with multapses: drawn with replacement, sources uniform") {
    const Built b = build(indegree(300, 200, 50, true), 3);
    for (auto d : in_degrees(b.syn, 200)) REQUIRE(d == 50);
    // 50 of 300 with replacement repeats a source for ~98 % of targets.
    CHECK(multapses(b.syn) > 100);
    check_uniform(out_degrees(b.syn, 300), 0.0);
  }
  SECTION("without multapses: distinct sources, sources uniform") {
    const Built b = build(indegree(300, 200, 50, false), 2);
    for (auto d : in_degrees(b.syn, 200)) REQUIRE(d == 50);
    CHECK(multapses(b.syn) == 0);
    check_uniform(out_degrees(b.syn, 300), 50.0 / 300.0);
  }
  SECTION("k equal to the number of sources takes each once") {
    const Built b = build(indegree(40, 30, 40, false), 2);
    CHECK(b.syn.size() == 1200);
    CHECK(multapses(b.syn) == 0);
    for (auto d : out_degrees(b.syn, 40)) CHECK(d == 30);
  }
  SECTION("same population without autapses: no j -> j, still k inputs, others uniform") {
    for (const bool multi : {true, false}) {
      CAPTURE(multi);
      const Built b = build(indegree(400, 400, 40, multi, true, false), 3);
      CHECK(autapses(b.syn) == 0);
      for (auto d : in_degrees(b.syn, 400)) REQUIRE(d == 40);
      if (!multi) CHECK(multapses(b.syn) == 0);
      check_uniform(out_degrees(b.syn, 400), multi ? 0.0 : 40.0 / 399.0);
    }
    // All the others: every pair but the diagonal.
    const Built all = build(indegree(50, 50, 49, false, true, false), 2);
    CHECK(all.syn.size() == 50u * 49u);
    CHECK(autapses(all.syn) == 0);
    CHECK(multapses(all.syn) == 0);
  }
  SECTION("same population with autapses allowed does make some") {
    const Built b = build(indegree(400, 400, 40, false, true, true), 1);
    // Expected 400 * 40 / 400 = 40 autapses.
    CHECK(autapses(b.syn) > 10);
  }
  SECTION("impossible requests are refused") {
    glia::Projection p;
    Request r = indegree(20, 10, 21, false);
    glia::ConnectRequest req;
    req.spec = &r.spec;
    req.n_pre = 20;
    req.n_post = 10;
    CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(10, 1)), std::invalid_argument);
    r = indegree(20, 20, 20, false, true, false); // 19 candidates without autapses
    req.same_population = true;
    req.n_post = 20;
    CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(20, 1)), std::invalid_argument);
  }
}

TEST_CASE("fixed_probability connects each pair independently with probability p",
          "[engine][connectivity]") {
  SECTION("two populations") {
    Request r;
    r.spec.rule = Rule::fixed_probability;
    r.spec.probability = 0.05;
    r.n_pre = 1000;
    r.n_post = 800;
    const Built b = build(r, 3);
    const double pairs = 1000.0 * 800.0, p = 0.05;
    const double se = std::sqrt(pairs * p * (1 - p));
    INFO("synapses " << b.syn.size() << ", expected " << pairs * p << " (SE " << se << ")");
    CHECK(std::abs(static_cast<double>(b.syn.size()) - pairs * p) < 4 * se);
    CHECK(multapses(b.syn) == 0);
    // In-degrees are Binomial(1000, p): Fano factor 1 - p, SE ~ sqrt(2 / (n - 1)).
    std::vector<std::uint32_t> din = in_degrees(b.syn, 800);
    double m = 0, v = 0;
    for (auto d : din) m += d;
    m /= 800.0;
    for (auto d : din) v += (d - m) * (d - m);
    v /= 799.0;
    INFO("in-degree mean " << m << ", Fano " << v / m);
    CHECK(std::abs(v / m - (1 - p)) < 4 * std::sqrt(2.0 / 799.0));
    // Sources are chosen uniformly: each source's out-degree is Binomial(800, p).
    check_uniform(out_degrees(b.syn, 1000), p);
  }
  SECTION("same population without autapses") {
    Request r;
    r.spec.rule = Rule::fixed_probability;
    r.spec.probability = 0.1;
    r.spec.autapses = false;
    r.n_pre = r.n_post = 1000;
    r.same = true;
    const Built b = build(r, 2);
    CHECK(autapses(b.syn) == 0);
    const double pairs = 1000.0 * 999.0, p = 0.1;
    const double se = std::sqrt(pairs * p * (1 - p));
    CHECK(std::abs(static_cast<double>(b.syn.size()) - pairs * p) < 4 * se);
  }
  SECTION("p = 0 and p = 1") {
    Request r;
    r.spec.rule = Rule::fixed_probability;
    r.n_pre = 30;
    r.n_post = 20;
    r.spec.probability = 0.0;
    CHECK(build(r, 2).syn.empty());
    r.spec.probability = 1.0;
    CHECK(build(r, 2).syn.size() == 600);
    r.n_post = 30;
    r.same = true;
    r.spec.autapses = false;
    const Built b = build(r, 2);
    CHECK(b.syn.size() == 30u * 29u);
    CHECK(autapses(b.syn) == 0);
  }
}

TEST_CASE("fixed_outdegree gives every source exactly k targets", "[engine][connectivity]") {
  for (const bool multi : {true, false}) {
    CAPTURE(multi);
    Request r;
    r.spec.rule = Rule::fixed_outdegree;
    r.spec.degree = 30;
    r.spec.multapses = multi;
    r.n_pre = 150;
    r.n_post = 400;
    const Built b = build(r, 3);
    for (auto d : out_degrees(b.syn, 150)) REQUIRE(d == 30);
    if (multi)
      CHECK(multapses(b.syn) > 0); // 30 of 400 with replacement: ~67 % of sources repeat one
    else
      CHECK(multapses(b.syn) == 0);
    check_uniform(in_degrees(b.syn, 400), multi ? 0.0 : 30.0 / 400.0);

    // Same population without autapses.
    r.n_post = 150;
    r.same = true;
    r.spec.autapses = false;
    const Built s = build(r, 2);
    CHECK(autapses(s.syn) == 0);
    for (auto d : out_degrees(s.syn, 150)) REQUIRE(d == 30);
  }
}

TEST_CASE("all_to_all and one_to_one counts", "[engine][connectivity]") {
  Request r;
  r.spec.rule = Rule::all_to_all;
  r.n_pre = 37;
  r.n_post = 23;
  Built b = build(r, 3);
  REQUIRE(b.syn.size() == 37u * 23u);
  std::size_t k = 0;
  for (std::uint32_t j = 0; j < 37; ++j)
    for (std::uint32_t t = 0; t < 23; ++t, ++k) CHECK((b.syn[k].src == j && b.syn[k].tgt == t));
  r.n_post = 37;
  r.same = true;
  r.spec.autapses = false;
  b = build(r, 2);
  CHECK(b.syn.size() == 37u * 36u);
  CHECK(autapses(b.syn) == 0);
  CHECK(multapses(b.syn) == 0);

  Request o;
  o.spec.rule = Rule::one_to_one;
  o.n_pre = o.n_post = 41;
  b = build(o, 3);
  REQUIRE(b.syn.size() == 41);
  for (std::uint32_t i = 0; i < 41; ++i) CHECK((b.syn[i].src == i && b.syn[i].tgt == i));
  // On one population without autapses one_to_one has nothing left to connect.
  o.same = true;
  o.spec.autapses = false;
  CHECK(build(o, 2).syn.empty());
  o.n_post = 40;
  o.same = false;
  glia::Projection p;
  glia::ConnectRequest req;
  req.spec = &o.spec;
  req.n_pre = 41;
  req.n_post = 40;
  CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(40, 1)), std::invalid_argument);
}

TEST_CASE("explicit lists are stored as given", "[engine][connectivity]") {
  Request r;
  r.spec.rule = Rule::explicit_list;
  r.n_pre = 5;
  r.n_post = 7;
  r.spec.sources = {4, 0, 2, 2, 2, 0, 3};
  r.spec.targets = {6, 1, 5, 0, 5, 6, 3};
  r.spec.weights = {0.5, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  r.spec.delays = {0.1, 2.0, 1.5, 0.3, 0.7, 20.0, 0.04};
  std::vector<Syn> want;
  for (std::size_t k = 0; k < r.spec.sources.size(); ++k)
    want.push_back({r.spec.sources[k], r.spec.targets[k], static_cast<float>(r.spec.weights[k]),
                    static_cast<std::uint16_t>(std::max(1.0, std::round(r.spec.delays[k] / 0.1)))});
  std::sort(want.begin(), want.end());
  for (int parts : {1, 2, 3}) {
    CAPTURE(parts);
    const Built b = build(r, parts);
    CHECK(b.syn == want);
    CHECK(b.proj.max_delay == 200);
  }
  r.spec.targets[3] = 7; // out of range
  glia::Projection p;
  glia::ConnectRequest req;
  req.spec = &r.spec;
  req.n_pre = 5;
  req.n_post = 7;
  CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(7, 1)), std::invalid_argument);
}

TEST_CASE("synapses do not depend on the number of target blocks", "[engine][connectivity]") {
  // Drawn weights and delays too: they are keyed by synapse, not by drawing order.
  glia::Distribution w;
  w.kind = glia::Distribution::Kind::normal;
  w.mean = 1.0;
  w.std = 0.3;
  w.min = 0.0;
  glia::Distribution d;
  d.kind = glia::Distribution::Kind::uniform;
  d.low = 0.1;
  d.high = 5.0;
  std::vector<Request> rs;
  for (bool multi : {true, false}) {
    Request r = indegree(120, 97, 20, multi, false);
    rs.push_back(r);
    Request s = indegree(97, 97, 20, multi, true, false);
    rs.push_back(s);
    Request o;
    o.spec.rule = Rule::fixed_outdegree;
    o.spec.degree = 15;
    o.spec.multapses = multi;
    o.n_pre = 60;
    o.n_post = 97;
    rs.push_back(o);
  }
  Request p;
  p.spec.rule = Rule::fixed_probability;
  p.spec.probability = 0.2;
  p.n_pre = 150;
  p.n_post = 97;
  rs.push_back(p);
  Request a;
  a.spec.rule = Rule::all_to_all;
  a.n_pre = 20;
  a.n_post = 97;
  rs.push_back(a);
  Request one;
  one.spec.rule = Rule::one_to_one;
  one.n_pre = one.n_post = 97;
  rs.push_back(one);
  for (std::size_t k = 0; k < rs.size(); ++k) {
    CAPTURE(k);
    rs[k].weight = w;
    rs[k].delay = d;
    check_same_for_any_split(rs[k]);
    rs[k].weight = glia::Distribution::constant_of(0.7);
    rs[k].delay = glia::Distribution::constant_of(1.5);
    check_same_for_any_split(rs[k]);
  }
}

namespace {

double normal_pdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
}
double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

std::vector<double> weights_of(const Built& b) {
  std::vector<double> w;
  for (const Syn& s : b.syn) w.push_back(s.w);
  return w;
}

void mean_sd(const std::vector<double>& x, double& m, double& sd) {
  m = 0.0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  double v2 = 0.0;
  for (double v : x) v2 += (v - m) * (v - m);
  sd = std::sqrt(v2 / static_cast<double>(x.size() - 1));
}

} // namespace

TEST_CASE("drawn weights follow their distributions", "[engine][connectivity]") {
  Request r = indegree(400, 500, 100, true); // 50 000 synapses
  const double n = 50000.0;
  SECTION("normal, clipped to [min, max] by redrawing (truncated normal)") {
    glia::Distribution w;
    w.kind = glia::Distribution::Kind::normal;
    w.mean = 1.0;
    w.std = 0.5;
    w.min = 0.2;
    w.max = 1.5;
    r.weight = w;
    const Built b = build(r, 2);
    REQUIRE(b.syn.size() == 50000);
    REQUIRE_FALSE(b.proj.constant_weight);
    const auto x = weights_of(b);
    // Weights are stored as float: compare with the bounds as floats.
    CHECK(*std::min_element(x.begin(), x.end()) >= static_cast<float>(w.min));
    CHECK(*std::max_element(x.begin(), x.end()) <= static_cast<float>(w.max));
    // Truncated normal: with alpha, beta the standardised bounds and Z = Phi(beta) -
    // Phi(alpha), mean = mu + sigma (phi(alpha) - phi(beta)) / Z and
    // var = sigma^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) /
    // Z)^2].
    const double al = (w.min - w.mean) / w.std, be = (w.max - w.mean) / w.std;
    const double z = normal_cdf(be) - normal_cdf(al);
    const double dphi = (normal_pdf(al) - normal_pdf(be)) / z;
    const double mean = w.mean + w.std * dphi;
    const double sd =
        w.std * std::sqrt(1.0 + (al * normal_pdf(al) - be * normal_pdf(be)) / z - dphi * dphi);
    double m = 0, s = 0;
    mean_sd(x, m, s);
    INFO("mean " << m << " (expected " << mean << ", SE " << sd / std::sqrt(n) << "), sd " << s
                 << " (expected " << sd << ")");
    CHECK(std::abs(m - mean) < 4.0 * sd / std::sqrt(n));
    // SE of a sample sd is about sd / sqrt(2 n) for a distribution this light-tailed.
    CHECK(std::abs(s - sd) < 4.0 * sd / std::sqrt(2.0 * n));
  }
  SECTION("lognormal, scaled negative (inhibitory)") {
    glia::Distribution w;
    w.kind = glia::Distribution::Kind::lognormal;
    w.mean = -0.5;
    w.std = 0.6;
    w.scale = -1.5;
    r.weight = w;
    const auto x = weights_of(build(r, 3));
    CHECK(*std::max_element(x.begin(), x.end()) < 0.0f);
    // Mean scale e^{mu + sigma^2/2}; variance scale^2 (e^{sigma^2} - 1) e^{2 mu + sigma^2}.
    const double mean = w.scale * std::exp(w.mean + w.std * w.std / 2);
    const double sd = std::abs(w.scale) *
                      std::sqrt(std::expm1(w.std * w.std) * std::exp(2 * w.mean + w.std * w.std));
    double m = 0, s = 0;
    mean_sd(x, m, s);
    INFO("mean " << m << " (expected " << mean << ", SE " << sd / std::sqrt(n) << ")");
    CHECK(std::abs(m - mean) < 4.0 * sd / std::sqrt(n));
    // The median is scale e^mu: half the weights lie on either side.
    const auto below =
        std::count_if(x.begin(), x.end(), [&](double v) { return v < w.scale * std::exp(w.mean); });
    CHECK(std::abs(static_cast<double>(below) / n - 0.5) < 4.0 * std::sqrt(0.25 / n));
  }
  SECTION("uniform") {
    glia::Distribution w;
    w.kind = glia::Distribution::Kind::uniform;
    w.low = -2.0;
    w.high = 3.0;
    r.weight = w;
    const auto x = weights_of(build(r, 1));
    CHECK(*std::min_element(x.begin(), x.end()) >= -2.0f);
    CHECK(*std::max_element(x.begin(), x.end()) <= 3.0f);
    double m = 0, s = 0;
    mean_sd(x, m, s);
    const double sd = 5.0 / std::sqrt(12.0);
    CHECK(std::abs(m - 0.5) < 4.0 * sd / std::sqrt(n));
  }
}

TEST_CASE("delays are rounded to whole steps, at least one", "[engine][connectivity]") {
  SECTION("constant delays") {
    Request r = indegree(10, 10, 3, true);
    const std::vector<std::tuple<double, double, int>> cases = {{0.1, 0.1, 1},  {0.1, 1.5, 15},
                                                                {0.1, 0.04, 1}, {0.1, 0.26, 3},
                                                                {0.25, 1.0, 4}, {0.1, 20.0, 200}};
    for (const auto& [dt, ms, steps] : cases) {
      CAPTURE(dt, ms);
      r.dt = dt;
      r.delay = glia::Distribution::constant_of(ms);
      const Built b = build(r, 2);
      CHECK(b.proj.constant_delay);
      CHECK(b.proj.delay == steps);
      CHECK(b.proj.max_delay == steps);
      for (const Syn& s : b.syn) REQUIRE(s.d == steps);
    }
  }
  SECTION("drawn delays: uniform in [0, 2] ms at dt = 0.1 ms") {
    Request r = indegree(400, 500, 100, true);
    glia::Distribution d;
    d.kind = glia::Distribution::Kind::uniform;
    d.low = 0.0;
    d.high = 2.0;
    r.delay = d;
    const Built b = build(r, 3);
    REQUIRE_FALSE(b.proj.constant_delay);
    // Rounding to the nearest step, then at least one step: 1 step takes [0, 0.15) ms,
    // k = 2..19 take [k - 0.5, k + 0.5) dt, 20 takes [1.95, 2] ms.
    std::map<int, double> p;
    p[1] = 0.15 / 2.0;
    for (int k = 2; k <= 19; ++k) p[k] = 0.1 / 2.0;
    p[20] = 0.05 / 2.0;
    std::map<int, double> seen;
    for (const Syn& s : b.syn) seen[s.d] += 1.0;
    const double n = static_cast<double>(b.syn.size());
    for (const auto& [k, c] : seen) {
      CAPTURE(k);
      REQUIRE(p.count(k) == 1); // nothing outside 1..20 steps
      const double se = std::sqrt(p[k] * (1 - p[k]) / n);
      CHECK(std::abs(c / n - p[k]) < 4 * se);
    }
    CHECK(seen.size() == 20);
    CHECK(b.proj.max_delay == 20);
  }
}

namespace {

Request total_number(std::uint32_t n_pre, std::uint32_t n_post, std::uint64_t n, bool multapses,
                     bool same = false, bool autapses = true) {
  Request r;
  r.spec.rule = Rule::fixed_total_number;
  r.spec.total = n;
  r.spec.multapses = multapses;
  r.spec.autapses = autapses;
  r.n_pre = n_pre;
  r.n_post = n_post;
  r.same = same;
  return r;
}

// Mean and variance over seeds of target 0's count from total_number_degrees.
void degree_moments(std::uint64_t total, std::uint32_t n_post, std::uint32_t pool, bool multapses,
                    int seeds, double& mean, double& var) {
  std::vector<double> k;
  for (int seed = 0; seed < seeds; ++seed) {
    const glia::Stream s{static_cast<std::uint32_t>(seed), 12345};
    const auto d = glia::total_number_degrees(s, total, n_post, pool, multapses);
    std::uint64_t sum = 0;
    for (auto x : d) sum += x;
    REQUIRE(sum == total);
    k.push_back(d[0]);
  }
  double sd = 0.0;
  mean_sd(k, mean, sd);
  var = sd * sd;
}

} // namespace

TEST_CASE("fixed_total_number makes exactly N synapses between uniform pairs",
          "[engine][connectivity]") {
  SECTION("with multapses: every synapse picks its source and target uniformly") {
    const Built b = build(total_number(300, 200, 20000, true), 3);
    REQUIRE(b.syn.size() == 20000);
    // Multinomial counts: the chi-square of in- and out-degrees has m - 1 degrees of freedom.
    check_uniform(in_degrees(b.syn, 200), 0.0);
    check_uniform(out_degrees(b.syn, 300), 0.0);
    // 20000 synapses over 60000 pairs repeat ~2900 pairs.
    CHECK(multapses(b.syn) > 2000);
  }
  SECTION("without multapses: distinct pairs, counts multivariate hypergeometric") {
    // 4000 of the 10000 pairs: a target's count has variance close to e (1 - 0.4).
    const Built b = build(total_number(50, 200, 4000, false), 2);
    REQUIRE(b.syn.size() == 4000);
    CHECK(multapses(b.syn) == 0);
    check_uniform(in_degrees(b.syn, 200), 0.4);
    check_uniform(out_degrees(b.syn, 50), 0.4);
    // Every pair: each target gets every source once.
    const Built all = build(total_number(30, 20, 600, false), 3);
    REQUIRE(all.syn.size() == 600);
    CHECK(multapses(all.syn) == 0);
    for (auto d : in_degrees(all.syn, 20)) CHECK(d == 30);
  }
  SECTION("same population without autapses") {
    for (const bool multi : {true, false}) {
      CAPTURE(multi);
      const Built b = build(total_number(100, 100, 3000, multi, true, false), 3);
      REQUIRE(b.syn.size() == 3000);
      CHECK(autapses(b.syn) == 0);
      if (!multi) CHECK(multapses(b.syn) == 0);
    }
    // With autapses allowed some appear (expected 3000 / 100 = 30).
    CHECK(autapses(build(total_number(100, 100, 3000, true, true, true), 2).syn) > 10);
    const Built all = build(total_number(20, 20, 380, false, true, false), 2);
    CHECK(all.syn.size() == 380);
    CHECK(autapses(all.syn) == 0);
  }
  SECTION("N = 0 and a single target") {
    CHECK(build(total_number(40, 30, 0, true), 2).syn.empty());
    const Built one = build(total_number(40, 1, 77, true), 1);
    CHECK(one.syn.size() == 77);
  }
  SECTION("the same synapses for 1, 2 or 3 blocks, with drawn weights and delays") {
    glia::Distribution w;
    w.kind = glia::Distribution::Kind::normal;
    w.mean = 87.8;
    w.std = 8.78;
    w.min = 0.0;
    glia::Distribution d;
    d.kind = glia::Distribution::Kind::normal;
    d.mean = 1.5;
    d.std = 0.75;
    d.min = 0.05;
    for (const bool multi : {true, false}) {
      Request r = total_number(120, 97, 3000, multi, false);
      r.weight = w;
      r.delay = d;
      check_same_for_any_split(r);
      Request s = total_number(97, 97, 2500, multi, true, false);
      s.weight = w;
      s.delay = d;
      check_same_for_any_split(s);
    }
  }
  SECTION("impossible requests are refused") {
    glia::Projection p;
    Request r = total_number(20, 10, 201, false);
    glia::ConnectRequest req;
    req.spec = &r.spec;
    req.n_pre = 20;
    req.n_post = 10;
    CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(10, 1)), std::invalid_argument);
    r = total_number(1, 1, 5, true, true, false); // no source but itself
    req.n_pre = req.n_post = 1;
    req.same_population = true;
    CHECK_THROWS_AS(glia::connect(p, req, glia::split_blocks(1, 1)), std::invalid_argument);
  }
}

TEST_CASE("fixed_total_number's per-target counts have the exact conditional laws",
          "[engine][connectivity]") {
  // Over 3000 seeds, target 0's count against the moments of its marginal law; the SE of a
  // sample variance is about var sqrt(2 / (n - 1)) for these near-normal laws.
  const int seeds = 3000;
  auto check = [&](double mean, double var, double want_mean, double want_var) {
    INFO("mean " << mean << " (want " << want_mean << "), var " << var << " (want " << want_var
                 << ")");
    CHECK(std::abs(mean - want_mean) < 4.0 * std::sqrt(want_var / seeds));
    CHECK(std::abs(var / want_var - 1.0) < 4.0 * std::sqrt(2.0 / (seeds - 1)));
  };
  double m = 0, v = 0;
  SECTION("binomial, p = 1/2 and large n") {
    degree_moments(1000000, 2, 1, true, seeds, m, v);
    check(m, v, 500000.0, 250000.0);
  }
  SECTION("binomial, small p (the microcircuit's regime)") {
    degree_moments(2000000, 2000, 1, true, seeds, m, v);
    check(m, v, 1000.0, 2000000.0 * (1.0 / 2000) * (1999.0 / 2000));
  }
  SECTION("binomial, small mean") {
    degree_moments(300, 1000, 1, true, seeds, m, v);
    check(m, v, 0.3, 300.0 * 0.001 * 0.999);
  }
  SECTION("hypergeometric") {
    // 1200 of 2000 pairs, 1000 of them on target 0.
    degree_moments(1200, 2, 1000, false, seeds, m, v);
    check(m, v, 600.0, 1200.0 * 0.5 * 0.5 * 800.0 / 1999.0);
    // 30000 of 50 * 1000 pairs.
    degree_moments(30000, 1000, 50, false, seeds, m, v);
    const double p = 50.0 / 50000.0;
    check(m, v, 30.0, 30000.0 * p * (1 - p) * (50000.0 - 30000.0) / 49999.0);
  }
}

TEST_CASE("delays from a clipped normal: redrawn below min, then rounded to steps",
          "[engine][connectivity]") {
  // The microcircuit's excitatory delays: N(1.5, 0.75) ms, redrawn below 0.05 ms (NEST's
  // example sets min = dt / 2 so that the shortest delay rounds to one step).
  Request r = indegree(400, 500, 100, true); // 50 000 synapses
  glia::Distribution d;
  d.kind = glia::Distribution::Kind::normal;
  d.mean = 1.5;
  d.std = 0.75;
  d.min = 0.05;
  r.delay = d;
  const Built b = build(r, 2);
  REQUIRE_FALSE(b.proj.constant_delay);
  std::vector<double> ms;
  for (const Syn& s : b.syn) ms.push_back(s.d * 0.1);
  CHECK(*std::min_element(ms.begin(), ms.end()) == Approx(0.1)); // some round to one step
  // Truncated normal moments (alpha = (0.05 - 1.5) / 0.75, no upper bound); rounding to the
  // 0.1 ms grid adds dt^2 / 12 to the variance and leaves the mean.
  const double al = (d.min - d.mean) / d.std, z = 1.0 - normal_cdf(al);
  const double lam = normal_pdf(al) / z;
  const double mean = d.mean + d.std * lam;
  const double var = d.std * d.std * (1.0 + al * lam - lam * lam) + 0.01 / 12.0;
  double m = 0, s = 0;
  mean_sd(ms, m, s);
  const double n = static_cast<double>(ms.size());
  INFO("mean " << m << " (want " << mean << "), sd " << s << " (want " << std::sqrt(var) << ")");
  CHECK(std::abs(m - mean) < 4.0 * std::sqrt(var / n));
  CHECK(std::abs(s - std::sqrt(var)) < 4.0 * std::sqrt(var / (2.0 * n)));
  // Below min nothing is kept: no delay under 0.05 ms could round to zero steps anyway,
  // so the check is that the share of one-step delays is the truncated mass of [0.05, 0.15).
  const double p1 = (normal_cdf((0.15 - d.mean) / d.std) - normal_cdf(al)) / z;
  const double c1 =
      static_cast<double>(std::count_if(ms.begin(), ms.end(), [](double x) { return x < 0.15; }));
  CHECK(std::abs(c1 / n - p1) < 4.0 * std::sqrt(p1 * (1 - p1) / n) + 1.0 / n);
}
