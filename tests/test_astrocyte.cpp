// The NALSM astrocyte: with known spike counts of the liquid and the input layer, its
// recorded A(t) follows A(t+1) = A(t) + [w (L(t) - I(t)) + b - A(t)] / (tau/dt) exactly;
// with `fraction` it sees a seeded subset of each population; bad settings are reported
// with file, line and key.
#include "input_error.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/astrocyte.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace glia;

namespace {

constexpr int kSteps = 80;
constexpr std::uint32_t kLiquid = 10, kInput = 4;

// Neurons of `pop` made to fire at chosen steps: liquid neuron i fires in step k when
// (3k + 7i) mod 11 < 4, input neuron i when (5k + 3i) mod 7 < 2 (a few per step, varying).
bool fires(bool input, std::uint32_t i, int k) {
  return input ? (5 * k + 3 * static_cast<int>(i)) % 7 < 2
               : (3 * k + 7 * static_cast<int>(i)) % 11 < 4;
}

std::string spike_input(const std::string& target, bool input, std::uint32_t n) {
  std::ostringstream times, ids;
  const char* sep = "";
  for (int k = 0; k < kSteps; ++k)
    for (std::uint32_t i = 0; i < n; ++i)
      if (fires(input, i, k)) {
        // A spike time t arrives at t + dt: the huge jump fires the neuron in step t / dt.
        times << sep << k;
        ids << sep << i;
        sep = ", ";
      }
  return "\n[[input]]\ntype = \"spike_times\"\ntarget = \"" + target +
         "\"\nweight = 100.0\ntimes = [" + times.str() + "]\nids = [" + ids.str() + "]\n";
}

std::string astro_experiment(const std::string& astro_keys) {
  std::ostringstream s;
  s << "[run]\nduration = " << kSteps << ".0\ndt = 1.0\nseed = 3\n";
  for (auto [name, n] : {std::pair{"liquid", kLiquid}, std::pair{"inp", kInput}})
    s << "\n[[population]]\nname = \"" << name << "\"\nmodel = \"lif_delta\"\nsize = " << n
      << "\n[population.params]\nt_ref = 0.0\n";
  s << spike_input("liquid", false, kLiquid) << spike_input("inp", true, kInput);
  s << "\n[[modulator]]\nname = \"astro\"\ntype = \"astrocyte\"\nliquid = [\"liquid\"]\n"
       "input = [\"inp\"]\n"
    << astro_keys << "\n\n[[record]]\ntype = \"modulator\"\nmodulator = \"astro\"\n"
    << "\n[[record]]\ntype = \"spikes\"\npopulation = \"liquid\"\n"
    << "\n[[record]]\ntype = \"spikes\"\npopulation = \"inp\"\n";
  return s.str();
}

// Spike counts per step of a recorded population, restricted to `sees` when not empty.
std::vector<int> counts(const Simulator::SpikeRecord& r, double dt, const std::vector<char>& sees) {
  std::vector<int> c(kSteps, 0);
  for (std::size_t k = 0; k < r.times.size(); ++k)
    if (sees.empty() || sees[r.ids[k]]) ++c[static_cast<std::size_t>(r.times[k] / dt + 0.5) - 1];
  return c;
}

} // namespace

TEST_CASE("astrocyte state follows the NALSM recurrence exactly", "[astrocyte]") {
  const double w = 0.015, b = 0.15, tau = 100.0, a0 = 0.4;
  const Experiment ex = parse_experiment(
      astro_experiment("w_astro = 0.015\nb_astro = 0.15\ntau_astro = 100.0\nA0 = 0.4"), "a.toml");
  auto net = build_network(ex, 2);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(kSteps);
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.n_rows == static_cast<std::size_t>(kSteps));
  const auto l = counts(sim.spike_records().at(0), 1.0, {});
  const auto in = counts(sim.spike_records().at(1), 1.0, {});
  // The counts are the designed ones.
  int total = 0;
  for (int k = 0; k < kSteps; ++k) {
    int dl = 0, di = 0;
    for (std::uint32_t i = 0; i < kLiquid; ++i) dl += fires(false, i, k);
    for (std::uint32_t i = 0; i < kInput; ++i) di += fires(true, i, k);
    REQUIRE(l[k] == dl);
    REQUIRE(in[k] == di);
    total += dl - di;
  }
  CHECK(total != 0);
  // Row k is A(k), in force during step k; A(0) = A0.
  CHECK(rec.rows[0] == a0);
  for (int k = 0; k + 1 < kSteps; ++k) {
    const double a = rec.rows[k];
    const double expect = a + (w * (static_cast<double>(l[k]) - in[k]) + b - a) / (tau / 1.0);
    INFO("step " << k << ": L = " << l[k] << ", I = " << in[k]);
    CHECK(rec.rows[k + 1] == expect);
  }
  CHECK(net->modulators()[0]->value() == rec.rows[kSteps - 1]);
}

TEST_CASE("astrocyte with a fraction sees a seeded subset of each population", "[astrocyte]") {
  const Experiment ex =
      parse_experiment(astro_experiment("fraction = 0.55\nw_astro = 0.1"), "a.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(kSteps);
  const auto& astro = dynamic_cast<const Astrocyte&>(*net->modulators()[0]);
  const auto& sees_l = astro.sees(0);
  const auto& sees_i = astro.sees(1);
  REQUIRE(sees_l.size() == kLiquid);
  REQUIRE(sees_i.size() == kInput);
  int nl = 0, ni = 0;
  for (char c : sees_l) nl += c;
  for (char c : sees_i) ni += c;
  CHECK(nl == 6); // ceil(0.55 * 10)
  CHECK(ni == 3); // ceil(0.55 * 4)
  const auto l = counts(sim.spike_records().at(0), 1.0, sees_l);
  const auto in = counts(sim.spike_records().at(1), 1.0, sees_i);
  const auto& rows = sim.state_records().at(0).rows;
  for (int k = 0; k + 1 < kSteps; ++k) {
    const double a = rows[k];
    CHECK(rows[k + 1] == a + (0.1 * (static_cast<double>(l[k]) - in[k]) + 0.15 - a) / 100.0);
  }
  // The same seed chooses the same neurons; another seed, in general, others.
  auto again = build_network(ex, 2);
  CHECK(dynamic_cast<const Astrocyte&>(*again->modulators()[0]).sees(0) == sees_l);
  const Experiment other =
      parse_experiment(astro_experiment("fraction = 0.55"), "a.toml", {"run.seed=4"});
  auto net2 = build_network(other, 1);
  CHECK(dynamic_cast<const Astrocyte&>(*net2->modulators()[0]).sees(0) != sees_l);
}

TEST_CASE("astrocyte state round-trips through a state archive", "[astrocyte]") {
  const Experiment ex = parse_experiment(astro_experiment(""), "a.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.run(30);
  StateArchive ar;
  net->modulators()[0]->save(ar, "m/");
  auto net2 = build_network(ex, 1);
  net2->modulators()[0]->load(ar, "m/");
  CHECK(net2->modulators()[0]->value() == net->modulators()[0]->value());
}

TEST_CASE("bad astrocyte settings are reported with file, line and key", "[astrocyte][cli]") {
  auto error_of = [](const std::string& text) { return test::input_error_of(text, "a.toml"); };
  CHECK_THAT(error_of(astro_experiment("tau_astr = 10.0")),
             Catch::Contains("modulator 'astro'.tau_astr: unknown key of modulator type "
                             "'astrocyte' (did you mean 'tau_astro'?)"));
  CHECK_THAT(error_of(astro_experiment("fraction = 0.0")),
             Catch::Contains("modulator 'astro'.fraction: must be"));
  CHECK_THAT(error_of(astro_experiment("tau_astro = 0.5")),
             Catch::Contains("'tau_astro' must be at least the time step"));
  std::string no_liquid = astro_experiment("");
  no_liquid.replace(no_liquid.find("liquid = [\"liquid\"]"), 19, "");
  CHECK_THAT(error_of(no_liquid),
             Catch::Contains("modulator 'astro'.liquid: required key missing"));
  std::string bad_pop = astro_experiment("");
  bad_pop.replace(bad_pop.find("input = [\"inp\"]"), 15, "input = [\"inpt\"]");
  CHECK_THAT(error_of(bad_pop), Catch::Contains("a.toml:"));
  CHECK_THAT(error_of(bad_pop), Catch::Contains("modulator 'astro'.input[0]: unknown population "
                                                "'inpt' (did you mean 'inp'?)"));
}
