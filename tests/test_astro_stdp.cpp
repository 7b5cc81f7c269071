// astro_stdp through the whole engine: single pre/post pairings change each weight by
// the analytic NALSM amount for every presynaptic type, with the depression rate taken
// from the astrocyte's A at the step of the depressing spike; weights stop at the bounds
// of their type; bad settings are reported with file, line and key.
//
// Pairing at lag L = (post step) - (pre step), traces x <- d (x + a s), d = exp(-dt/tau),
// read before they take the step's spikes in:
//   excitatory / input pre: L > 0: dw = A_plus a d^L;      L < 0: dw = -A(pre step) a d^|L|
//   inhibitory pre:         L > 0: dw = -A(post step) a d^L; L < 0: dw = A_plus a d^|L|
//   L = 0: no change.
#include "input_error.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/plasticity.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

using namespace glia;

namespace {

const std::vector<int> kLags = {-15, -7, -3, -1, 0, 1, 2, 5, 12, 20};
constexpr int kBase = 60; // the pre spikes' step (post at kBase + lag)
constexpr double kAPlus = 0.15, kInc = 0.1, kTau = 10.0;

std::string times_of(const std::vector<int>& steps) {
  std::ostringstream s;
  for (std::size_t k = 0; k < steps.size(); ++k) s << (k ? ", " : "") << steps[k];
  return s.str();
}

// Pair k: pre neuron k fires in step pre_steps[k], post neuron k in post_steps[k]
// (a spike time t fires its neuron in step t / dt; neurons listed in step order).
std::string pairing_experiment(const std::string& presynaptic, double w0,
                               const std::vector<int>& pre_steps,
                               const std::vector<int>& post_steps, const std::string& extra_rule,
                               const std::string& astro = "w_astro = 0.02\nA0 = 1.0\nb_astro = "
                                                          "0.0\ntau_astro = 50.0") {
  auto input = [](const std::string& target, const std::vector<int>& steps) {
    std::vector<std::size_t> order(steps.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return steps[a] < steps[b]; });
    std::vector<int> t, id;
    for (auto k : order) {
      t.push_back(steps[k]);
      id.push_back(static_cast<int>(k));
    }
    return "\n[[input]]\ntype = \"spike_times\"\ntarget = \"" + target +
           "\"\nweight = 100.0\ntimes = [" + times_of(t) + "]\nids = [" + times_of(id) + "]\n";
  };
  std::ostringstream s;
  s << "[run]\nduration = 200.0\ndt = 1.0\nseed = 1\n";
  for (const char* name : {"pre", "post"})
    s << "\n[[population]]\nname = \"" << name
      << "\"\nmodel = \"lif_delta\"\nsize = " << pre_steps.size() << "\n";
  s << "\n[[modulator]]\nname = \"astro\"\ntype = \"astrocyte\"\nliquid = [\"post\"]\ninput = "
       "[\"pre\"]\n"
    << astro << "\n\n[[projection]]\npre = \"pre\"\npost = \"post\"\nweight = " << w0
    << "\ndelay = 1.0\n[projection.connect]\nrule = \"one_to_one\"\n[projection.plasticity]\n"
    << "rule = \"astro_stdp\"\nastrocyte = \"astro\"\npresynaptic = \"" << presynaptic << "\"\n"
    << extra_rule << "\n"
    << input("pre", pre_steps) << input("post", post_steps)
    << "\n[[record]]\ntype = \"modulator\"\nmodulator = \"astro\"\n"
    << "\n[[record]]\ntype = \"spikes\"\npopulation = \"pre\"\n"
    << "\n[[record]]\ntype = \"spikes\"\npopulation = \"post\"\n";
  return s.str();
}

struct Run {
  std::vector<double> w;               // final weight of pair k
  std::vector<double> a;               // A(k) per step
  std::vector<double> pre_at, post_at; // spike stamps of pair k (ms), -1 if none or several
};

Run run_pairs(const std::string& text, int threads, double rate_decay = 1.0) {
  const Experiment ex = parse_experiment(text, "p.toml");
  auto net = build_network(ex, threads);
  REQUIRE(net->projections().at(0).plasticity->set_rate_decay(rate_decay));
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(200);
  Run r;
  const Projection& pr = net->projections().at(0);
  const std::size_t n = net->populations()[0]->size();
  r.w.assign(n, NAN);
  for (const auto& b : pr.blocks)
    for (std::size_t s = 0; s < b.size(); ++s) r.w[b.target[s]] = pr.weight_of(b, s);
  r.a = sim.state_records().at(0).rows;
  for (int p = 0; p < 2; ++p) {
    auto& at = p == 0 ? r.pre_at : r.post_at;
    at.assign(n, -1.0);
    std::vector<int> seen(n, 0);
    const auto& rec = sim.spike_records().at(static_cast<std::size_t>(p));
    for (std::size_t k = 0; k < rec.times.size(); ++k) {
      ++seen[rec.ids[k]];
      at[rec.ids[k]] = rec.times[k];
    }
    for (std::size_t k = 0; k < n; ++k)
      if (seen[k] != 1) at[k] = -1.0;
  }
  return r;
}

} // namespace

TEST_CASE("astro_stdp pairing changes each weight by the analytic amount", "[astro_stdp]") {
  const double d = std::exp(-1.0 / kTau);
  std::vector<int> pre(kLags.size(), kBase), post;
  for (int l : kLags) post.push_back(kBase + l);
  for (const std::string type : {"excitatory", "inhibitory", "input"}) {
    const double w0 = type == "inhibitory" ? -1.5 : (type == "input" ? 0.5 : 1.5);
    const Run r = run_pairs(pairing_experiment(type, w0, pre, post, ""), 2);
    for (std::size_t k = 0; k < kLags.size(); ++k) {
      const int lag = kLags[k];
      INFO(type << ", lag " << lag);
      // Each neuron fired once, in its designed step.
      REQUIRE(r.pre_at[k] == kBase + 1.0);
      REQUIRE(r.post_at[k] == kBase + lag + 1.0);
      const double x = kInc * std::pow(d, std::abs(lag)); // the other side's trace
      const std::size_t pre_step = kBase, post_step = static_cast<std::size_t>(kBase + lag);
      double dw = 0.0, neighbour = 0.0;
      if (lag > 0) {
        dw = type == "inhibitory" ? -r.a[post_step] * x : kAPlus * x;
        if (type == "inhibitory") neighbour = -r.a[post_step + 1] * x;
      } else if (lag < 0) {
        dw = type == "inhibitory" ? kAPlus * x : -r.a[pre_step] * x;
        if (type != "inhibitory") neighbour = -r.a[pre_step + 1] * x;
      }
      CHECK(r.w[k] == Approx(w0 + dw).margin(1e-6));
      // The depression rate of the neighbouring step would be visibly wrong.
      if (neighbour != 0.0) CHECK(std::abs(neighbour - dw) > 2e-5);
      if (lag != 0) CHECK(r.w[k] != w0);
    }
  }
}

TEST_CASE("astro_stdp rates that fade: each change scaled by rate_decay^step", "[astro_stdp]") {
  // Plastic feature windows (features.rate_decay): both A_plus and A(t) fade together.
  const double d = std::exp(-1.0 / kTau), g = 0.97;
  std::vector<int> pre(kLags.size(), kBase), post;
  for (int l : kLags) post.push_back(kBase + l);
  for (const std::string type : {"excitatory", "inhibitory"}) {
    const double w0 = type == "inhibitory" ? -1.5 : 1.5;
    const std::string text = pairing_experiment(type, w0, pre, post, "");
    const Run plain = run_pairs(text, 1), faded = run_pairs(text, 2, g);
    CHECK(plain.a == faded.a); // the astrocyte itself is not changed
    for (std::size_t k = 0; k < kLags.size(); ++k) {
      const int lag = kLags[k];
      INFO(type << ", lag " << lag);
      // The change happens at the later spike's step.
      const int at = kBase + std::max(lag, 0);
      const double x = kInc * std::pow(d, std::abs(lag));
      CHECK(faded.w[k] - w0 == Approx(std::pow(g, at) * (plain.w[k] - w0)).margin(2e-7));
      if (lag != 0) CHECK(std::abs(plain.w[k] - w0) > 0.1 * kAPlus * x);
    }
  }
  // A rule without fading rates takes only 1.
  const Experiment ex = parse_experiment(
      "[run]\nduration = 10.0\n[[population]]\nname = \"a\"\nmodel = \"lif_delta\"\nsize = 2\n"
      "[[projection]]\npre = \"a\"\npost = \"a\"\nweight = 1.0\n[projection.connect]\n"
      "rule = \"all_to_all\"\n[projection.plasticity]\nrule = \"stdp\"\n",
      "s.toml");
  auto net = build_network(ex, 1);
  CHECK(net->projections().at(0).plasticity->set_rate_decay(1.0));
  CHECK_FALSE(net->projections().at(0).plasticity->set_rate_decay(0.99));
}

TEST_CASE("astro_stdp weights stop at the bounds of their type", "[astro_stdp]") {
  // Pair 0: post 3 steps after pre (A_plus term); pair 1: pre 3 steps after post.
  const std::vector<int> pre = {50, 53}, post = {53, 50};
  const std::string strong = "A_plus = 1000.0";
  const std::string big_a = "w_astro = 0.0\nA0 = 1000.0\nb_astro = 1000.0";
  // Excitatory [0, 3]: potentiation stops at 3, depression at 0.
  Run r = run_pairs(pairing_experiment("excitatory", 1.0, pre, post, strong, big_a), 1);
  CHECK(r.w[0] == 3.0);
  CHECK(r.w[1] == 0.0);
  // Inhibitory [-3, 0]: the A_plus term (pre after post) stops at 0, the A term at -3.
  r = run_pairs(pairing_experiment("inhibitory", -1.0, pre, post, strong, big_a), 1);
  CHECK(r.w[0] == -3.0);
  CHECK(r.w[1] == 0.0);
  // Input [-3, 3], and bounds given explicitly.
  r = run_pairs(pairing_experiment("input", 0.0, pre, post, strong, big_a), 1);
  CHECK(r.w[0] == 3.0);
  CHECK(r.w[1] == -3.0);
  r = run_pairs(
      pairing_experiment("input", 0.0, pre, post, strong + "\nw_min = -0.5\nw_max = 1.25", big_a),
      1);
  CHECK(r.w[0] == 1.25);
  CHECK(r.w[1] == -0.5);
}

TEST_CASE("bad astro_stdp settings are reported with file, line and key", "[astro_stdp][cli]") {
  auto error_of = [](const std::string& text) { return test::input_error_of(text, "p.toml"); };
  const std::vector<int> one = {10};
  const std::string ok = pairing_experiment("excitatory", 1.0, one, one, "");
  auto replaced = [](std::string t, const std::string& from, const std::string& to) {
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  auto edited = [&](const std::string& from, const std::string& to) {
    return replaced(ok, from, to);
  };
  // The rule's section starts on this line of the generated file.
  std::size_t line = 1;
  for (std::size_t i = 0; i < ok.find("[projection.plasticity]"); ++i) line += ok[i] == '\n';
  const std::string at = "p.toml:" + std::to_string(line) + ":";
  CHECK_THAT(error_of(edited("astrocyte = \"astro\"\n", "")),
             Catch::Contains(at) &&
                 Catch::Contains("projection 'pre->post'.plasticity.astrocyte: plasticity rule "
                                 "'astro_stdp' needs 'astrocyte'"));
  CHECK_THAT(error_of(edited("astrocyte = \"astro\"", "astrocyte = \"astr\"")),
             Catch::Contains("p.toml:" + std::to_string(line + 2) + ":") &&
                 Catch::Contains(".plasticity.astrocyte: unknown modulator 'astr' (did you mean "
                                 "'astro'?)"));
  CHECK_THAT(error_of(edited("presynaptic = \"excitatory\"", "presynaptic = \"excitory\"")),
             Catch::Contains(".plasticity.presynaptic: unknown choice 'excitory' (did you mean "
                             "'excitatory'?)"));
  CHECK_THAT(error_of(edited("presynaptic = \"excitatory\"", "presynaptic = \"excitatory\"\nw_min "
                                                             "= 2.0\nw_max = 1.0")),
             Catch::Contains("w_min (2.000000) is above w_max (1.000000)"));
  CHECK_THAT(error_of(edited("presynaptic = \"excitatory\"", "presynaptic = \"excitatory\"\nA_plus "
                                                             "= -1.0")),
             Catch::Contains(".plasticity.A_plus: must be >= 0"));
  // A modulator of another type is refused by name.
  std::string gate = edited("type = \"astrocyte\"", "type = \"attention\"");
  gate =
      replaced(gate, "liquid = [\"post\"]\ninput = [\"pre\"]\n", "times = [0.0]\nvalues = [1.0]\n");
  gate = replaced(gate, "w_astro = 0.02\nA0 = 1.0\nb_astro = 0.0\ntau_astro = 50.0", "");
  CHECK_THAT(error_of(gate),
             Catch::Contains("modulator 'astro' is of type 'attention'; 'astrocyte' "
                             "needs a modulator of type 'astrocyte'"));
}
