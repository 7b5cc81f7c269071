// The Potjans & Diesmann (2014) microcircuit files (experiments/microcircuit.toml, Poisson
// drive, and microcircuit_dc.toml): they hold the published network (population sizes,
// synapse counts recomputed here from the connection probabilities, weights, delays and
// drive), a reduced version (neurons and synapse counts scaled together, in-degrees kept)
// builds exactly the synapse counts asked for, gives the same spikes with 1 and 2 threads,
// and fires at rates in a broad band (a factor 4) around the published ones after a warm-up.
#include "microcircuit_scaled.hpp"

#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using glia::Experiment;

std::string source(const std::string& rel) {
  return std::string(GLIA_SOURCE_DIR) + "/" + rel;
}

const char* const kPops[8] = {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"};
const std::uint32_t kSize[8] = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948};
const std::uint32_t kExt[8] = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100};
// Potjans & Diesmann (2014) Table 5: row = target, column = source (a second transcription,
// independent of experiments/microcircuit.py's).
const double kProb[8][8] = {{0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0},
                            {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0},
                            {0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0},
                            {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0},
                            {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
                            {0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0},
                            {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
                            {0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443}};

// Synapses from population j onto population i in the full model (NEST's
// num_synapses_from_conn_probs, rounded).
double full_synapses(int i, int j) {
  const double prod = static_cast<double>(kSize[i]) * kSize[j];
  return std::round(std::log(1.0 - kProb[i][j]) / std::log((prod - 1.0) / prod));
}

// The mean PSC of a 0.15 mV PSP (iaf_psc_exp, C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms): the
// peak of v(t) = w / C_m * tau_m tau_s / (tau_m - tau_s) (e^{-t/tau_m} - e^{-t/tau_s}).
double psc_of_psp(double psp) {
  const double tm = 10.0, ts = 0.5, cm = 250.0;
  const double t_peak = std::log(tm / ts) * tm * ts / (tm - ts);
  const double v1 = tm * ts / (cm * (tm - ts)) * (std::exp(-t_peak / tm) - std::exp(-t_peak / ts));
  return psp / v1;
}

const glia::ProjectionSpec* find_projection(const Experiment& ex, const std::string& pre,
                                            const std::string& post) {
  for (const auto& p : ex.projections)
    if (p.pre == pre && p.post == post) return &p;
  return nullptr;
}

double param(const glia::PopulationSpec& p, const std::string& name) {
  for (const auto& nv : p.params)
    if (nv.name == name) return nv.value.value;
  return std::nan("");
}

} // namespace

TEST_CASE("microcircuit files hold the published network", "[microcircuit]") {
  const double w = psc_of_psp(0.15);
  CHECK(w == Approx(87.8085).epsilon(1e-5));
  for (const bool dc : {false, true}) {
    CAPTURE(dc);
    const Experiment ex = glia::load_experiment(
        source(dc ? "experiments/microcircuit_dc.toml" : "experiments/microcircuit.toml"));
    REQUIRE(ex.populations.size() == 8);
    std::uint64_t neurons = 0;
    for (int i = 0; i < 8; ++i) {
      const auto& p = ex.populations[static_cast<std::size_t>(i)];
      CHECK(p.name == kPops[i]);
      CHECK(p.size == kSize[i]);
      CHECK(p.model == "lif_exp");
      neurons += p.size;
      CHECK(param(p, "C_m") == 250.0);
      CHECK(param(p, "tau_m") == 10.0);
      CHECK(param(p, "tau_syn_ex") == 0.5);
      CHECK(param(p, "tau_syn_in") == 0.5);
      CHECK(param(p, "t_ref") == 2.0);
      CHECK(param(p, "E_L") == -65.0);
      CHECK(param(p, "V_th") == -50.0);
      CHECK(param(p, "V_reset") == -65.0);
      // The DC drive is the Poisson background's mean current, K_ext * 8 Hz * w * tau_syn.
      if (dc)
        CHECK(param(p, "I_e") == Approx(kExt[i] * 8.0 * w * 0.5e-3).epsilon(1e-6));
      else
        CHECK(std::isnan(param(p, "I_e")));
    }
    CHECK(neurons == 77169);
    std::uint64_t synapses = 0;
    int projections = 0;
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) {
        CAPTURE(kPops[j], kPops[i]);
        const auto* p = find_projection(ex, kPops[j], kPops[i]);
        if (kProb[i][j] == 0.0) {
          CHECK(p == nullptr);
          continue;
        }
        REQUIRE(p != nullptr);
        ++projections;
        CHECK(p->connect.rule == glia::ConnectSpec::Rule::fixed_total_number);
        CHECK(p->connect.multapses);
        CHECK(p->connect.autapses);
        CHECK(static_cast<double>(p->connect.total) == full_synapses(i, j));
        synapses += p->connect.total;
        const std::string pre = kPops[j];
        const bool exc = pre.back() == 'E';
        const double mean = w * (exc ? 1.0 : -4.0) * (i == 0 && j == 2 ? 2.0 : 1.0);
        CHECK(p->port == (exc ? "" : "in"));
        REQUIRE(p->weight.kind == glia::Distribution::Kind::normal);
        CHECK(p->weight.mean == Approx(mean).epsilon(1e-6));
        CHECK(p->weight.std == Approx(0.1 * std::abs(mean)).epsilon(1e-6));
        CHECK(p->weight.min == (exc ? 0.0 : -glia::Distribution::kInfinity()));
        CHECK(p->weight.max == (exc ? glia::Distribution::kInfinity() : 0.0));
        REQUIRE(p->delay.kind == glia::Distribution::Kind::normal);
        CHECK(p->delay.mean == (exc ? 1.5 : 0.75));
        CHECK(p->delay.std == (exc ? 0.75 : 0.375));
        CHECK(p->delay.min == 0.05);
      }
    CHECK(projections == 55); // 9 of the 64 pairs are not connected
    CHECK(synapses == 298880968);
    if (dc) {
      CHECK(ex.inputs.empty());
    } else {
      REQUIRE(ex.inputs.size() == 8);
      for (int i = 0; i < 8; ++i) {
        const auto& in = ex.inputs[static_cast<std::size_t>(i)];
        CHECK(in.type == glia::InputSpec::Type::poisson);
        CHECK(in.target == kPops[i]);
        CHECK(in.rate == kExt[i] * 8.0);
        CHECK(in.weight == Approx(w).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("reduced microcircuit: exact synapse counts, thread-independent spikes",
          "[microcircuit]") {
  const Experiment full = glia::load_experiment(source("experiments/microcircuit.toml"));
  const double scale = 0.02; // 1544 neurons, 6 M synapses
  const Experiment ex = glia::load_experiment(source("experiments/microcircuit.toml"),
                                              glia::test::microcircuit_scaled(full, scale, 100.0));
  std::vector<std::vector<std::uint64_t>> counts;
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    auto net = glia::build_network(ex, threads);
    const auto& projs = net->projections();
    REQUIRE(projs.size() == ex.projections.size());
    for (std::size_t k = 0; k < projs.size(); ++k) {
      CAPTURE(ex.projections[k].name);
      CHECK(projs[k].n_synapses() == ex.projections[k].connect.total);
      CHECK(projs[k].n_synapses() ==
            static_cast<std::uint64_t>(
                std::round(static_cast<double>(full.projections[k].connect.total) * scale)));
    }
    glia::Simulator sim(*net);
    sim.run(1000);
    std::vector<std::uint64_t> c;
    for (int p = 0; p < 8; ++p) {
      const auto& s = sim.stats(p);
      c.insert(c.end(), s.count.begin(), s.count.end());
      c.insert(c.end(), s.last_step.begin(), s.last_step.end());
    }
    counts.push_back(std::move(c));
  }
  std::uint64_t spikes = 0;
  for (std::size_t k = 0; k < counts[0].size() / 2; ++k) spikes += counts[0][k];
  CHECK(spikes > 100);
  CHECK(counts[0] == counts[1]);
}

TEST_CASE("reduced microcircuit fires near the published rates", "[microcircuit]") {
  // 10 % of the neurons with every in-degree kept (the reference's N_scaling): 7717 neurons,
  // 29.9 M synapses. Rates over 200-600 ms, after the transient.
  const Experiment full = glia::load_experiment(source("experiments/microcircuit.toml"));
  const Experiment ex = glia::load_experiment(source("experiments/microcircuit.toml"),
                                              glia::test::microcircuit_scaled(full, 0.1, 600.0));
  auto net = glia::build_network(ex, 2);
  glia::Simulator sim(*net);
  sim.run(2000);
  std::vector<std::uint64_t> before;
  for (int p = 0; p < 8; ++p) before.push_back(sim.stats(p).total);
  sim.run(4000);
  // Published full-scale rates (Potjans & Diesmann 2014 Fig. 6), Hz, and the band accepted
  // here: a factor 4 either way. The reduced network keeps the in-degrees but not the
  // pair statistics (ten times the connection density): it fires faster in L2/3 and L5,
  // with slow swings of the L2/3 rates (L23E 0.8-2.5 Hz in 100 ms bins, 1.3 Hz over
  // 200-1000 ms). What the band catches is a network that is silent, runs away, or has
  // lost its laminar pattern.
  const double ref[8] = {0.6, 2.8, 4.3, 5.8, 7.0, 8.3, 1.1, 7.5};
  for (int p = 0; p < 8; ++p) {
    const double n = static_cast<double>(net->populations()[static_cast<std::size_t>(p)]->size());
    const double rate =
        static_cast<double>(sim.stats(p).total - before[static_cast<std::size_t>(p)]) / n / 0.4;
    INFO(kPops[p] << ": " << rate << " Hz (published " << ref[p] << " Hz)");
    CHECK(rate > ref[p] / 4.0);
    CHECK(rate < ref[p] * 4.0);
  }
}
