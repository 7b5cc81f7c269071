// STDP through the whole engine: the pairing window equals the analytic curve for every
// variant, lazily advanced traces give the weights of an every-step reference, plastic
// runs are bitwise identical across thread counts, and bad plasticity settings are
// reported with file, line and key.
//
// Timing convention (sim/plasticity.hpp): a spike emitted in step e arrives in step
// a = e + delay; a post spike of step p pairs with it at lag (p - a) dt, and a pre
// arrival in the same step as a post spike counts as potentiation at lag 0.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "recurrent_stdp.hpp"
#include "sim/plasticity.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace glia;
using glia::test::recurrent_experiment;

namespace {

constexpr double kDt = 0.1, kDelay = 1.0; // 10 steps
constexpr double kTauPlus = 16.8, kTauMinus = 33.7, kAPlus = 0.01, kAMinus = 0.012;
constexpr double kW0 = 0.5, kWMax = 1.0;

// N pre and N post neurons; pair k: pre fires once, post fires once, Delta t = lag[k].
// Both are driven by huge input jumps, so they fire exactly in the step the input
// arrives; the plastic synapse (weight <= 1 mV) cannot make the post neuron fire.
std::string stdp_block(const std::string& mode, const std::string& pairing) {
  std::ostringstream s;
  s << "rule = \"stdp\"\nmode = \"" << mode << "\"\npairing = \"" << pairing
    << "\"\ntau_plus = " << kTauPlus << "\ntau_minus = " << kTauMinus << "\nA_plus = " << kAPlus
    << "\nA_minus = " << kAMinus << "\nw_min = 0.0\nw_max = " << kWMax << "\n";
  return s.str();
}

// `rule`: the body of [projection.plasticity].
std::string pairing_experiment(const std::vector<double>& lags_ms, const std::string& rule) {
  std::ostringstream pre_t, post_t, ids;
  const double t0 = 150.0;
  for (std::size_t k = 0; k < lags_ms.size(); ++k) {
    // Pre emitted at t0 (arrives at t0 + delay); post spike at t0 + delay + lag.
    pre_t << (k ? ", " : "") << t0 - kDt; // input at t arrives (and fires) at t + dt
    post_t << (k ? ", " : "") << t0 + kDelay + lags_ms[k] - kDt;
    ids << (k ? ", " : "") << k;
  }
  std::ostringstream s;
  s << "[run]\nduration = 400.0\ndt = " << kDt << "\nseed = 1\n";
  for (const char* name : {"pre", "post"})
    s << "\n[[population]]\nname = \"" << name
      << "\"\nmodel = \"lif_delta\"\nsize = " << lags_ms.size()
      << "\n[population.params]\nE_L = 0.0\nV_reset = 0.0\nV_th = 20.0\n";
  s << R"(
[[projection]]
pre = "pre"
post = "post"
weight = )"
    << kW0 << "\ndelay = " << kDelay << R"(
[projection.connect]
rule = "one_to_one"
[projection.plasticity]
)" << rule
    << R"(
[[input]]
type = "spike_times"
target = "pre"
weight = 100.0
times = [)"
    << pre_t.str() << "]\nids = [" << ids.str() << R"(]

[[input]]
type = "spike_times"
target = "post"
weight = 100.0
times = [)"
    << post_t.str() << "]\nids = [" << ids.str() << "]\n";
  return s.str();
}

double analytic(double lag, bool multiplicative) {
  if (lag >= 0) return kAPlus * std::exp(-lag / kTauPlus) * (multiplicative ? kWMax - kW0 : 1.0);
  return -kAMinus * std::exp(lag / kTauMinus) * (multiplicative ? kW0 : 1.0);
}

std::vector<double> final_weights(Network& net, int proj) {
  std::vector<double> w(net.populations()[net.projections()[proj].post]->size());
  const Projection& p = net.projections()[proj];
  for (const auto& b : p.blocks)
    for (std::size_t s = 0; s < b.size(); ++s) w[b.target[s]] = p.weight_of(b, s);
  return w;
}

// Spikes of a recorded population by step: fired[step] = the neurons of that step.
std::vector<std::vector<std::uint32_t>> spikes_by_step(const Simulator::SpikeRecord& rec,
                                                       std::uint64_t steps) {
  std::vector<std::vector<std::uint32_t>> fired(steps);
  for (std::size_t k = 0; k < rec.ids.size(); ++k)
    fired[static_cast<std::size_t>(std::llround(rec.times[k] / kDt)) - 1].push_back(
        static_cast<std::uint32_t>(rec.ids[k]));
  return fired;
}

struct EveryStepRule {
  double a_plus, a_minus, w_max, tau_plus, tau_minus;
  bool multiplicative = false, nearest = false;
};

// Pair STDP the plain way, for comparison: every trace decays every step; per step,
// arrivals first (`delay` steps after emission), then post spikes. syn: (source,
// target) per synapse; w: their weights, updated in place.
void every_step_stdp(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& syn,
                     std::vector<double>& w, const std::vector<std::vector<std::uint32_t>>& pre,
                     const std::vector<std::vector<std::uint32_t>>& post, std::uint32_t n_pre,
                     std::uint32_t n_post, std::uint32_t delay, const EveryStepRule& r) {
  const double dx = std::exp(-kDt / r.tau_plus), dy = std::exp(-kDt / r.tau_minus);
  std::vector<double> x(n_pre, 0.0), y(n_post, 0.0);
  std::vector<std::vector<std::size_t>> out_of(n_pre), into(n_post);
  for (std::size_t s = 0; s < syn.size(); ++s) {
    out_of[syn[s].first].push_back(s);
    into[syn[s].second].push_back(s);
  }
  auto clip = [&](double v) { return std::min(r.w_max, std::max(0.0, v)); };
  for (std::uint64_t t = 0; t < post.size(); ++t) {
    for (auto& v : x) v *= dx;
    for (auto& v : y) v *= dy;
    if (t >= delay)
      for (std::uint32_t j : pre[t - delay]) {
        for (std::size_t s : out_of[j]) {
          const double yi = y[syn[s].second];
          w[s] = clip(w[s] - (r.multiplicative ? r.a_minus * w[s] * yi : r.a_minus * yi));
        }
        x[j] = r.nearest ? 1.0 : x[j] + 1.0;
      }
    for (std::uint32_t i : post[t]) {
      for (std::size_t s : into[i]) {
        const double xj = x[syn[s].first];
        w[s] = clip(w[s] + (r.multiplicative ? r.a_plus * (r.w_max - w[s]) * xj : r.a_plus * xj));
      }
      y[i] = r.nearest ? 1.0 : y[i] + 1.0;
    }
  }
}

// Synapses in (block, source, row) order, with their weights.
void synapses_of(const Projection& pr, std::vector<std::pair<std::uint32_t, std::uint32_t>>& syn,
                 std::vector<double>& w) {
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s) {
        syn.emplace_back(j, b.target[s]);
        w.push_back(pr.weight_of(b, s));
      }
}

// The largest difference between the projection's weights and w (synapses_of order),
// relative to w.
double worst_relative(const Projection& pr, const std::vector<double>& w) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> syn;
  std::vector<double> got;
  synapses_of(pr, syn, got);
  double worst = 0.0;
  for (std::size_t s = 0; s < w.size(); ++s)
    worst = std::max(worst, std::abs(got[s] - w[s]) / std::max(std::abs(w[s]), 1e-12));
  return worst;
}
} // namespace

TEST_CASE("STDP pairing window equals the analytic curve", "[plasticity][stdp]") {
  std::vector<double> lags;
  for (int l = -100; l <= 100; ++l) lags.push_back(l);
  for (const std::string mode : {"additive", "multiplicative"})
    for (const std::string pairing : {"all_to_all", "nearest"}) {
      const Experiment ex =
          parse_experiment(pairing_experiment(lags, stdp_block(mode, pairing)), "stdp.toml");
      auto net = build_network(ex, 2);
      Simulator sim(*net);
      sim.record_spikes(0);
      sim.record_spikes(1);
      sim.run(4000);
      // Every neuron fired exactly once, where intended.
      REQUIRE(sim.stats(0).total == lags.size());
      REQUIRE(sim.stats(1).total == lags.size());
      const std::vector<double> w = final_weights(*net, 0);
      double worst = 0.0;
      for (std::size_t k = 0; k < lags.size(); ++k) {
        const double expected = analytic(lags[k], mode == "multiplicative");
        const double got = w[k] - kW0;
        worst = std::max(worst, std::abs(got - expected) / std::abs(expected));
      }
      INFO(mode << " " << pairing << ": worst relative error " << worst);
      std::printf("STDP window %s/%s: worst relative error %.3g over lags -100..100 ms\n",
                  mode.c_str(), pairing.c_str(), worst);
      CHECK(worst < 1e-6);
    }
}

// A post-synaptic history the one source sees only at its next arrival: twelve post
// spikes (more than a history holds) and a 7 s silence (further than its 16-bit
// distances reach, 6.5 s at dt 0.1 ms). tau_plus is long so that every pairing counts.
TEST_CASE("pending post spikes far apart or many are all applied, at their own lags",
          "[plasticity][stdp]") {
  const double tau_plus = 20000.0, tau_minus = 20000.0, a_plus = 0.001, a_minus = 0.0012;
  const double pre[] = {10.0, 9500.0};
  std::vector<double> post = {1000.0, 8500.0};
  for (int k = 0; k < 12; ++k) post.push_back(8600.0 + 50.0 * k);
  std::ostringstream rule, pre_t, post_t, post_ids;
  rule << "rule = \"stdp\"\ntau_plus = " << tau_plus << "\ntau_minus = " << tau_minus
       << "\nA_plus = " << a_plus << "\nA_minus = " << a_minus << "\nw_min = 0.0\nw_max = 10.0\n";
  for (double t : pre) pre_t << (t == pre[0] ? "" : ", ") << t - kDt;
  for (std::size_t k = 0; k < post.size(); ++k) {
    post_t << (k ? ", " : "") << post[k] + kDelay - kDt;
    post_ids << (k ? ", " : "") << 0;
  }
  std::string text = pairing_experiment({0.0}, rule.str());
  // One pre and one post neuron: replace the inputs' times with these trains.
  auto swap_list = [&](const std::string& key_at, const std::string& times,
                       const std::string& ids) {
    const std::size_t at = text.find("times = [", text.find(key_at));
    const std::size_t end = text.find("]\nids = [", at);
    const std::size_t ids_end = text.find("]", end + 9);
    text = text.substr(0, at) + "times = [" + times + "]\nids = [" + ids + text.substr(ids_end);
  };
  swap_list("target = \"pre\"", pre_t.str(), "0, 0");
  swap_list("target = \"post\"", post_t.str(), post_ids.str());
  text.replace(text.find("duration = 400.0"), 16, "duration = 10000.0");
  for (int threads : {1, 2}) {
    auto net = build_network(parse_experiment(text, "far.toml"), threads);
    Simulator sim(*net);
    sim.run(100000);
    REQUIRE(sim.stats(0).total == 2);
    REQUIRE(sim.stats(1).total == post.size());
    // Arrival 1 (t = 10 + delay): nothing to pair with. Every post spike pairs with it
    // (pre trace 1), the second arrival depresses by the post trace of all of them.
    const double a1 = pre[0] + kDelay, a2 = pre[1] + kDelay;
    double expected = kW0, y = 0.0;
    for (double t : post) {
      expected += a_plus * std::exp(-(t + kDelay - a1) / tau_plus);
      y += std::exp(-(a2 - (t + kDelay)) / tau_minus);
    }
    expected -= a_minus * y;
    const double got = final_weights(*net, 0)[0];
    std::printf("far-apart history (%d thread(s)): weight %.12f, expected %.12f\n", threads, got,
                expected);
    CHECK(std::abs(got - expected) < 1e-12);
  }
}

TEST_CASE("power-law STDP pairing window equals its analytic curve", "[plasticity][stdp]") {
  const double lambda = 0.05, alpha = 1.2, mu = 0.4, w0 = 0.8;
  std::vector<double> lags;
  for (int l = -60; l <= 60; l += 3) lags.push_back(l);
  std::ostringstream rule;
  rule << "rule = \"stdp_power_law\"\ntau_plus = " << kTauPlus << "\ntau_minus = " << kTauMinus
       << "\nlambda = " << lambda << "\nalpha = " << alpha << "\nmu = " << mu << "\nw0 = " << w0
       << "\n";
  const Experiment ex = parse_experiment(pairing_experiment(lags, rule.str()), "pl.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.run(4000);
  const std::vector<double> w = final_weights(*net, 0);
  double worst = 0.0;
  for (std::size_t k = 0; k < lags.size(); ++k) {
    const double l = lags[k];
    const double expected =
        l >= 0 ? lambda * std::pow(w0, 1 - mu) * std::pow(kW0, mu) * std::exp(-l / kTauPlus)
               : -lambda * alpha * kW0 * std::exp(l / kTauMinus);
    worst = std::max(worst, std::abs((w[k] - kW0) - expected) / std::abs(expected));
  }
  std::printf("power-law STDP window: worst relative error %.3g\n", worst);
  CHECK(worst < 1e-6);
}

TEST_CASE("lazy traces give the weights of an every-step reference", "[plasticity][stdp]") {
  for (const std::string extra : {"", "mode = \"multiplicative\"\n", "pairing = \"nearest\"\n"}) {
    const Experiment ex = parse_experiment(recurrent_experiment(extra), "rec.toml");
    auto net = build_network(ex, 1);
    const Projection& pr = net->projections()[0];
    std::vector<std::pair<std::uint32_t, std::uint32_t>> syn; // before the run
    std::vector<double> w;
    synapses_of(pr, syn, w);
    Simulator sim(*net);
    sim.record_spikes(0);
    const std::uint64_t steps = 20000;
    sim.run(steps);
    const auto& rec = sim.spike_records()[0];
    REQUIRE(rec.ids.size() > 2000); // enough activity for many pairings
    const EveryStepRule rule{0.02,
                             0.021,
                             1.0,
                             20.0,
                             25.0,
                             extra.find("multiplicative") != std::string::npos,
                             extra.find("nearest") != std::string::npos};
    const auto fired = spikes_by_step(rec, steps);
    every_step_stdp(syn, w, fired, fired, 300, 300, 15, rule);
    double changed = 0.0;
    for (const auto& b : pr.blocks)
      for (std::size_t q = 0; q < b.size(); ++q)
        changed = std::max(changed, std::abs(pr.weight_of(b, q) - 0.5));
    const double worst = worst_relative(pr, w);
    std::printf("lazy vs every-step reference (%s): worst relative difference %.3g, "
                "largest weight change %.3g\n",
                extra.empty() ? "additive" : extra.c_str(), worst, changed);
    CHECK(changed > 0.05); // the weights really moved
    CHECK(worst < 1e-9);
  }
}

// Rows and blocks long enough for the vectorised passes of arrive() (16 synapses, 8
// targets at a time) and their remainders, with every case they sort: targets that
// fired once, twice, three or more times since a source's last arrival, and targets
// silent for longer than the decay table holds (409.6 ms), whose traces are computed
// apart.
TEST_CASE("STDP with long rows and long silences gives the every-step weights",
          "[plasticity][stdp]") {
  const std::uint32_t n_pre = 20, n_post = 37;
  const double duration = 4000.0;
  std::uint64_t lcg = 12345;
  auto uniform = [&] {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(lcg >> 11) / 9007199254740992.0;
  };
  // Exponential intervals: 3 Hz for sources, 0.5 to 40 Hz for targets (some fire in
  // bursts between two arrivals, some stay silent for seconds). An input lists its
  // spikes in time order: (time, neuron) pairs, sorted.
  using Train = std::vector<std::pair<double, std::uint32_t>>;
  auto add_train = [&](Train& t, std::uint32_t i, double rate) {
    for (double at = 20.0 - std::log(uniform()) * 1000.0 / rate; at < duration - 10.0;
         at -= std::log(uniform()) * 1000.0 / rate)
      t.emplace_back(std::round(at * 10.0) / 10.0, i);
  };
  Train pre, post;
  for (std::uint32_t j = 0; j < n_pre; ++j) add_train(pre, j, 3.0);
  for (std::uint32_t i = 0; i < n_post; ++i)
    add_train(post, i, i % 4 == 3 ? 0.5 : 40.0 * uniform() + 0.5);
  auto lists = [](Train t) {
    std::sort(t.begin(), t.end());
    std::ostringstream times, ids;
    for (std::size_t k = 0; k < t.size(); ++k) {
      times << (k ? ", " : "") << t[k].first;
      ids << (k ? ", " : "") << t[k].second;
    }
    return std::pair{times.str(), ids.str()};
  };
  std::ostringstream s;
  s << "[run]\nduration = " << duration << "\ndt = 0.1\nseed = 1\n";
  for (auto [name, n] : {std::pair{"pre", n_pre}, std::pair{"post", n_post}})
    s << "\n[[population]]\nname = \"" << name << "\"\nmodel = \"lif_delta\"\nsize = " << n
      << "\n[population.params]\nE_L = 0.0\nV_reset = 0.0\nV_th = 20.0\nt_ref = 0.0\n";
  s << "\n[[projection]]\npre = \"pre\"\npost = \"post\"\nweight = 0.5\ndelay = 1.5\n"
       "[projection.connect]\nrule = \"all_to_all\"\n[projection.plasticity]\n"
       "rule = \"stdp\"\ntau_plus = 150.0\ntau_minus = 300.0\nA_plus = 0.004\nA_minus = 0.002\n"
       "w_min = 0.0\nw_max = 1.0\n";
  for (auto [target, train] : {std::pair{"pre", &pre}, std::pair{"post", &post}}) {
    const auto [times, ids] = lists(*train);
    s << "\n[[input]]\ntype = \"spike_times\"\ntarget = \"" << target
      << "\"\nweight = 100.0\ntimes = [" << times << "]\nids = [" << ids << "]\n";
  }
  for (int threads : {1, 2}) {
    auto net = build_network(parse_experiment(s.str(), "long_rows.toml"), threads);
    const Projection& pr = net->projections()[0];
    std::vector<std::pair<std::uint32_t, std::uint32_t>> syn;
    std::vector<double> w;
    synapses_of(pr, syn, w);
    Simulator sim(*net);
    sim.record_spikes(0);
    sim.record_spikes(1);
    const auto steps = static_cast<std::uint64_t>(std::llround(duration / kDt));
    sim.run(steps);
    REQUIRE(sim.spike_records()[0].ids.size() > 150);
    REQUIRE(sim.spike_records()[1].ids.size() > 500);
    every_step_stdp(syn, w, spikes_by_step(sim.spike_records()[0], steps),
                    spikes_by_step(sim.spike_records()[1], steps), n_pre, n_post, 15,
                    EveryStepRule{0.004, 0.002, 1.0, 150.0, 300.0});
    double changed = 0.0;
    for (std::size_t k = 0; k < w.size(); ++k) changed = std::max(changed, std::abs(w[k] - 0.5));
    const double worst = worst_relative(pr, w);
    std::printf("long rows (%d thread(s)): worst relative difference %.3g, largest change %.3g\n",
                threads, worst, changed);
    CHECK(changed > 0.05);
    CHECK(worst < 1e-9);
  }
}

TEST_CASE("plastic runs are bitwise identical with 1 and 2 threads", "[plasticity][determinism]") {
  std::vector<std::vector<std::uint64_t>> ids;
  std::vector<std::vector<double>> weights;
  for (int threads : {1, 2, 3}) {
    const Experiment ex = parse_experiment(recurrent_experiment(), "rec.toml");
    auto net = build_network(ex, threads);
    Simulator sim(*net);
    sim.record_spikes(0);
    sim.run(5000);
    sim.run(5000); // split runs settle pending updates in between; must not change anything
    ids.push_back(sim.spike_records()[0].ids);
    std::vector<double> w;
    const Projection& pr = net->projections()[0];
    // Weights in (source, target) order, independent of the block split.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<double>> by_pair;
    for (const auto& b : pr.blocks)
      for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
        for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
          by_pair[{j, b.target[s]}].push_back(pr.weight_of(b, s));
    for (const auto& [k, v] : by_pair) w.insert(w.end(), v.begin(), v.end());
    weights.push_back(w);
  }
  REQUIRE(ids[0].size() > 1000);
  CHECK(ids[0] == ids[1]);
  CHECK(ids[0] == ids[2]);
  CHECK(std::memcmp(weights[0].data(), weights[1].data(), weights[0].size() * sizeof(double)) == 0);
  CHECK(std::memcmp(weights[0].data(), weights[2].data(), weights[0].size() * sizeof(double)) == 0);
}

TEST_CASE("bad plasticity settings name file, line and key", "[plasticity][io]") {
  auto fails_with = [](const std::string& text, const std::vector<std::string>& parts) {
    try {
      parse_experiment(text, "plastic.toml");
      FAIL("no error for:\n" << text);
    } catch (const InputError& e) {
      const std::string msg = e.what();
      INFO(msg);
      for (const auto& p : parts) CHECK_THAT(msg, Catch::Contains(p));
    }
  };
  const std::string base = recurrent_experiment();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = base;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  fails_with(replace("rule = \"stdp\"", "rule = \"stpd\""),
             {"plastic.toml:27:", "plasticity.rule", "did you mean 'stdp'"});
  fails_with(replace("tau_plus = 20.0", "tau_pluss = 20.0"),
             {"plastic.toml:28:", "tau_pluss", "did you mean 'tau_plus'"});
  fails_with(replace("tau_plus = 20.0", "tau_plus = -20.0"),
             {"plastic.toml:28:", "tau_plus", "> 0"});
  fails_with(replace("rule = \"stdp\"", "rule = \"stdp\"\nmode = \"multiplikative\""),
             {"plastic.toml:28:", "mode", "did you mean 'multiplicative'"});
  fails_with(replace("w_min = 0.0", "w_min = 1.5"),
             {"plastic.toml:", "plasticity", "'w_min' must not exceed 'w_max'"});
  fails_with(replace("delay = 1.5", "delay = { dist = \"uniform\", low = 1.0, high = 2.0 }"),
             {"plastic.toml:", "plasticity", "one delay"});
}

TEST_CASE("post-spike ages saturate where no arrival can be compared with them",
          "[plasticity][stdp]") {
  // catch_up_row compares a target's spike ages with the source's; ages stay exact up to
  // kFarthest, and a source at least that far back takes the exact int64 path instead.
  CHECK(PostNow::age(10, 10) == 0u);
  CHECK(PostNow::age(10, 3) == 7u);
  const std::uint64_t far = std::uint64_t{1} << 40;
  CHECK(PostNow::age(far, static_cast<std::int64_t>(far - PostNow::kFarthest + 1)) ==
        PostNow::kFarthest - 1);
  CHECK(PostNow::age(far, static_cast<std::int64_t>(far - PostNow::kFarthest)) ==
        PostNow::kFarthest);
  CHECK(PostNow::age(far, 0) == PostNow::kFarthest);
  CHECK(PostNow::kFarthest < PostNow::kNever);
}
