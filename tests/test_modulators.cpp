// Modulators as experiment-file objects: parsed and validated with file, line and key,
// updated every step by the engine, read by name, and recorded to the HDF5 output like
// state reports. The attention gate is the simplest type and stands in for all here.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "plasticity/modulator.hpp"
#include "run_glia.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace glia;
using glia::test::run_glia;
using glia::test::ScratchDir;

namespace {

std::string gate_experiment(const std::string& gate_keys) {
  return R"([run]
duration = 20.0
dt = 0.5

[[population]]
name = "n"
model = "lif_delta"
size = 2

[[modulator]]
name = "gate"
type = "attention"
)" + gate_keys +
         R"(

[[record]]
type = "modulator"
modulator = "gate"
interval = 0.5
)";
}

} // namespace

TEST_CASE("attention gate follows its periodic schedule step by step", "[modulator]") {
  const Experiment ex = parse_experiment(
      gate_experiment("times = [2.0, 5.0]\nvalues = [1.0, 0.25]\nperiod = 8.0\ninitial = 0.5"),
      "gate.toml");
  REQUIRE(ex.modulators.size() == 1);
  auto net = build_network(ex, 2);
  Simulator sim(*net);
  attach_records(ex, sim);
  sim.run(40); // 20 ms
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.modulator == 0);
  REQUIRE(rec.n_rows == 40);
  for (std::size_t k = 0; k < 40; ++k) {
    // Row k is the value during step k, which starts at k * 0.5 ms.
    const double t = std::fmod(static_cast<double>(k) * 0.5, 8.0);
    const double expect = t < 2.0 ? 0.5 : (t < 5.0 ? 1.0 : 0.25);
    INFO("step " << k);
    CHECK(rec.rows[k] == expect);
  }
  CHECK(net->modulators()[0]->value() == 1.0); // step 39: t = 19.5, 3.5 ms into the period
}

TEST_CASE("modulator state round-trips through a state archive", "[modulator]") {
  const Experiment ex =
      parse_experiment(gate_experiment("times = [1.0]\nvalues = [0.75]"), "gate.toml");
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  sim.run(10);
  StateArchive ar;
  net->modulators()[0]->save(ar, "m/");
  auto net2 = build_network(ex, 1);
  net2->modulators()[0]->load(ar, "m/");
  CHECK(net2->modulators()[0]->value() == 0.75);
}

TEST_CASE("bad modulator settings are reported with file, line and key", "[modulator][cli]") {
  auto error_of = [](const std::string& text) {
    try {
      parse_experiment(text, "m.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of(gate_experiment("times = [1.0, 2.0]\nvalues = [1.0]")),
             Catch::Contains("m.toml:10:1: modulator 'gate': 'times' and 'values' must have the "
                             "same length"));
  CHECK_THAT(error_of(gate_experiment("times = [1.0]\nvalues = [1.5]")),
             Catch::Contains("'values' must be in [0, 1]"));
  CHECK_THAT(error_of(gate_experiment("times = [1.0]\nvalues = [1.0]\nperiodd = 3.0")),
             Catch::Contains("modulator 'gate'.periodd: unknown key of modulator type 'attention' "
                             "(did you mean 'period'?)"));
  CHECK_THAT(error_of(gate_experiment("values = [1.0]")),
             Catch::Contains("modulator 'gate'.times: required key missing"));
  std::string bad_type = gate_experiment("times = [1.0]\nvalues = [1.0]");
  bad_type.replace(bad_type.find("\"attention\""), 11, "\"atention\"");
  CHECK_THAT(error_of(bad_type), Catch::Contains("unknown modulator type 'atention' (did you "
                                                 "mean 'attention'?)"));
  std::string bad_record = gate_experiment("times = [1.0]\nvalues = [1.0]");
  bad_record.replace(bad_record.find("modulator = \"gate\""), 18, "modulator = \"gat\"");
  CHECK_THAT(error_of(bad_record), Catch::Contains("record #0.modulator: unknown modulator 'gat' "
                                                   "(did you mean 'gate'?)"));
  std::string clash = gate_experiment("times = [1.0]\nvalues = [1.0]");
  clash.replace(clash.find("name = \"gate\""), 13, "name = \"n\"");
  CHECK_THAT(error_of(clash), Catch::Contains("'n' is already the name of a population"));
}

TEST_CASE("glia run writes a modulator's recording as a state report", "[modulator][cli]") {
  ScratchDir dir("modulator");
  const std::string path =
      dir.write("gate.toml", gate_experiment("times = [2.0]\nvalues = [1.0]\ninitial = 0.0"));
  const auto r = run_glia("run " + path + " -q -o " + (dir / "out.h5"), dir);
  REQUIRE(r.code == 0);
  const auto data = glia::test::read_dataset<double>(dir / "out.h5", "/report/gate/G/data");
  REQUIRE(data.size() == 40);
  CHECK(data[3] == 0.0);
  CHECK(data[4] == 1.0);
}
