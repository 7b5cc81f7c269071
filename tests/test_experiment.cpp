// Tests of experiment-file parsing: a full file into the expected specs, --set
// overrides, explicit connection lists (CSV and HDF5), and one test per kind of user
// error, each checking that the message names the file, line and key.
#include "io/experiment.hpp"

#include <catch2/catch.hpp>
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using Catch::StartsWith;
using glia::Distribution;
using glia::InputError;
using glia::parse_experiment;

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {},
                     const std::string& path = "test.toml") {
  try {
    parse_experiment(text, path, overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("the experiment was accepted");
  return {};
}

// "test.toml:LINE:" for the first line of `text` containing `needle`.
std::string at(const std::string& text, const std::string& needle,
               const std::string& path = "test.toml") {
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string::npos);
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n');
  return path + ":" + std::to_string(line) + ":";
}

// A scratch directory removed at the end of a test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("glia_test_experiment_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};

const std::string kOnePopulation = R"([[population]]
name = "E"
model = "lif_delta"
size = 10
)";

const std::string kFull = R"([run]
duration = 500.0
dt = 0.1
seed = 42
threads = 2
backend = "cpu"
flush_interval = 50

[[population]]
name = "E"
model = "izhikevich"
size = 800
integrator = "rk4"
[population.random]
r = { dist = "uniform", low = 0.0, high = 1.0 }
[population.params]
a = 0.02
c = "-65 + 15 * r^2"
d = "8 - 6 * r^2"
[population.init]
v = -65.0
u = "b * v"

[[population]]
name = "I"
model = "lif_exp"
size = 200
[population.params]
tau_m = { dist = "normal", mean = 10.0, std = 1.0, min = 5.0 }
[population.init]
V_m = { dist = "uniform", low = -70.0, high = -55.0 }

[[projection]]
name = "EI"
pre = "E"
post = "I"
port = "ex"
weight = { dist = "lognormal", mu = 0.0, sigma = 0.5, scale = 2.0 }
delay = 1.5
[projection.connect]
rule = "fixed_indegree"
indegree = 100
multapses = false

[[projection]]
pre = "I"
post = "I"
port = "in"
weight = -1
[projection.connect]
rule = "fixed_probability"
p = 0.1
autapses = false

[[input]]
type = "poisson"
name = "ext"
target = "E"
rate = 10.0
weight = 5.0

[[input]]
type = "spike_times"
target = "I"
neurons = [0, 5]
times = [1.0, 2.0, 2.0]
ids = [0, 1, 0]
weight = 3.0
delay = 0.5

[[input]]
type = "step_current"
target = "E"
times = [0.0, 100.0]
amplitudes = [0.0, 5.0]

[[input]]
type = "noise"
target = "I"
std = 20.0
interval = 1.0
start = 10.0
stop = 20.0

[[record]]
type = "spikes"
population = "E"

[[record]]
type = "state"
population = "I"
neurons = [0, 1]
variables = ["V_m", "I_syn_ex"]
interval = 1.0
)";

} // namespace

// ---------------------------------------------------------------------------------------
// Valid files

TEST_CASE("experiment: a full valid file parses into the expected specs", "[io]") {
  const glia::Experiment ex = parse_experiment(kFull, "test.toml");
  CHECK(ex.path == "test.toml");
  CHECK(ex.source_text == kFull);
  CHECK(ex.run.duration == 500.0);
  CHECK(ex.run.dt == 0.1);
  CHECK(ex.run.seed == 42u);
  CHECK(ex.run.threads == 2);
  CHECK(ex.run.backend == "cpu");
  CHECK(ex.run.flush_interval == 50.0);

  REQUIRE(ex.populations.size() == 2);
  const auto& e = ex.populations[0];
  CHECK(e.name == "E");
  CHECK(e.model == "izhikevich");
  CHECK(e.size == 800u);
  CHECK(e.integrator == "rk4");
  CHECK(e.where.str() == "test.toml:9:1");
  REQUIRE(e.random.size() == 1);
  CHECK(e.random[0].name == "r");
  CHECK(e.random[0].value.kind == Distribution::Kind::uniform);
  CHECK(e.random[0].value.high == 1.0);
  // Entries keep the order of the file (toml++ itself sorts keys).
  REQUIRE(e.params.size() == 3);
  CHECK(e.params[0].name == "a");
  CHECK(e.params[0].value.is_constant());
  CHECK(e.params[0].value.value == 0.02);
  CHECK(e.params[1].name == "c");
  CHECK(e.params[1].value.kind == Distribution::Kind::expression);
  CHECK(e.params[1].value.expression == "-65 + 15 * r^2");
  CHECK(e.params[1].where.str() == "test.toml:18:1");
  REQUIRE(e.init.size() == 2);
  CHECK(e.init[0].name == "v");
  CHECK(e.init[1].name == "u");
  CHECK(e.init[1].value.expression == "b * v");
  CHECK(ex.population_index("I") == 1);
  CHECK(ex.population_index("X") == -1);

  const auto& i = ex.populations[1];
  REQUIRE(i.params.size() == 1);
  CHECK(i.params[0].value.kind == Distribution::Kind::normal);
  CHECK(i.params[0].value.min == 5.0);
  CHECK(i.init[0].value.low == -70.0);

  REQUIRE(ex.projections.size() == 2);
  const auto& ei = ex.projections[0];
  CHECK(ei.name == "EI");
  CHECK(ei.pre == "E");
  CHECK(ei.post == "I");
  CHECK(ei.port == "ex");
  CHECK(ei.weight.kind == Distribution::Kind::lognormal);
  CHECK(ei.weight.mean == 0.0);
  CHECK(ei.weight.std == 0.5);
  CHECK(ei.weight.scale == 2.0);
  CHECK(ei.delay.value == 1.5);
  CHECK(ei.connect.rule == glia::ConnectSpec::Rule::fixed_indegree);
  CHECK(ei.connect.degree == 100u);
  CHECK_FALSE(ei.connect.multapses);
  CHECK(ei.connect.autapses);
  const auto& ii = ex.projections[1];
  CHECK(ii.name == "I->I"); // the default name
  CHECK(ii.weight.value == -1.0);
  CHECK(ii.delay.value == 0.1); // default: one step
  CHECK(ii.connect.rule == glia::ConnectSpec::Rule::fixed_probability);
  CHECK(ii.connect.probability == 0.1);
  CHECK_FALSE(ii.connect.autapses);

  REQUIRE(ex.inputs.size() == 4);
  CHECK(ex.inputs[0].type == glia::InputSpec::Type::poisson);
  CHECK(ex.inputs[0].name == "ext");
  CHECK(ex.inputs[0].rate == 10.0);
  CHECK(ex.inputs[0].weight == 5.0);
  CHECK(ex.inputs[0].stop < 0);
  CHECK(ex.inputs[1].type == glia::InputSpec::Type::spike_times);
  CHECK(ex.inputs[1].neurons == std::vector<std::uint32_t>{0, 5});
  CHECK(ex.inputs[1].ids == std::vector<std::uint32_t>{0, 1, 0});
  CHECK(ex.inputs[1].times == std::vector<double>{1.0, 2.0, 2.0});
  CHECK(ex.inputs[1].delay == 0.5);
  CHECK(ex.inputs[2].type == glia::InputSpec::Type::step_current);
  CHECK(ex.inputs[2].amplitudes == std::vector<double>{0.0, 5.0});
  CHECK(ex.inputs[3].type == glia::InputSpec::Type::noise);
  CHECK(ex.inputs[3].std == 20.0);
  CHECK(ex.inputs[3].interval == 1.0);
  CHECK(ex.inputs[3].start == 10.0);
  CHECK(ex.inputs[3].stop == 20.0);

  REQUIRE(ex.records.size() == 2);
  CHECK(ex.records[0].type == glia::RecordSpec::Type::spikes);
  CHECK(ex.records[0].neurons.empty());
  CHECK(ex.records[1].type == glia::RecordSpec::Type::state);
  CHECK(ex.records[1].variables == std::vector<std::string>{"V_m", "I_syn_ex"});
  CHECK(ex.records[1].neurons == std::vector<std::uint32_t>{0, 1});
  CHECK(ex.records[1].interval == 1.0);

  // The resolved text keeps the file's order (init 'u' uses 'v', set before it), writes
  // floats in their shortest exact form and keeps integers.
  CHECK_THAT(ex.resolved_text,
             Contains("dt = 0.1\n") && Contains("a = 0.02\n") && Contains("size = 800\n") &&
                 Contains("c = \"-65 + 15 * r^2\"\n") && Contains("duration = 500.0\n") &&
                 Contains("times = [1.0, 2.0, 2.0]\n") &&
                 Contains("r = { dist = \"uniform\", low = 0.0, high = 1.0 }\n") &&
                 Contains("[population.init]\nv = -65.0\nu = \"b * v\"\n"));
  const glia::Experiment again = parse_experiment(ex.resolved_text, "resolved.toml");
  CHECK(again.run.dt == ex.run.dt);
  CHECK(again.populations[0].params[0].value.value == 0.02);
  CHECK(again.populations[0].init[1].name == "u");
  CHECK(again.inputs[1].times == ex.inputs[1].times);
  CHECK(again.projections[1].name == "I->I");
  CHECK(again.records[1].variables == ex.records[1].variables);
  CHECK(parse_experiment(again.resolved_text, "resolved.toml").resolved_text ==
        again.resolved_text);
}

TEST_CASE("experiment: defaults of an almost empty file", "[io]") {
  const glia::Experiment ex = parse_experiment(kOnePopulation, "test.toml");
  CHECK(ex.run.duration == 1000.0);
  CHECK(ex.run.dt == 0.1);
  CHECK(ex.run.threads == 1);
  CHECK(ex.populations[0].integrator.empty());
  CHECK(ex.projections.empty());
}

TEST_CASE("experiment: --set overrides by key, element name and index", "[io]") {
  const std::string text = kOnePopulation + R"(
[[projection]]
pre = "E"
post = "E"
weight = 0.5
[projection.connect]
rule = "fixed_probability"
p = 0.1

[[input]]
type = "poisson"
name = "drive"
target = "E"
rate = 5.0
weight = 1.0
)";
  const glia::Experiment ex =
      parse_experiment(text, "test.toml",
                       {"run.duration=2000", "run.backend=cuda", "population.E.size=100",
                        "population.E.params.tau_m=15", "projection.0.connect.p=0.05",
                        "projection.E->E.delay=2", "input.drive.rate=7.5",
                        "population.0.init.V_m={ dist = \"uniform\", low = -70, high = -60 }"});
  CHECK(ex.run.duration == 2000.0); // [run] did not exist: created
  CHECK(ex.run.backend == "cuda");  // not TOML: taken as a string
  CHECK(ex.populations[0].size == 100u);
  REQUIRE(ex.populations[0].params.size() == 1);
  CHECK(ex.populations[0].params[0].name == "tau_m");
  CHECK(ex.populations[0].params[0].value.value == 15.0);
  REQUIRE(ex.populations[0].init.size() == 1);
  CHECK(ex.populations[0].init[0].value.kind == Distribution::Kind::uniform);
  CHECK(ex.populations[0].init[0].value.high == -60.0);
  CHECK(ex.projections[0].connect.probability == 0.05);
  CHECK(ex.projections[0].delay.value == 2.0);
  CHECK(ex.inputs[0].rate == 7.5);
  CHECK(ex.source_text == text);
  CHECK_THAT(ex.resolved_text, Contains("duration = 2000"));
  CHECK_THAT(ex.resolved_text, Contains("size = 100"));
  CHECK_THAT(ex.resolved_text, Contains("tau_m = 15"));
  // The resolved text is itself a valid experiment with the same values.
  const glia::Experiment again = parse_experiment(ex.resolved_text, "resolved.toml");
  CHECK(again.populations[0].size == 100u);
  CHECK(again.run.backend == "cuda");
}

TEST_CASE("experiment: explicit connections from a CSV file", "[io]") {
  const TempDir dir;
  dir.write("conn.csv",
            "source,target,weight,delay\n0,1,0.5,1.0\n\n# a comment\n2, 3 ,-0.25,2.5\n");
  const std::string text = kOnePopulation + R"(
[[projection]]
pre = "E"
post = "E"
[projection.connect]
rule = "explicit"
file = "conn.csv"
)";
  const std::string path = (dir.path / "exp.toml").string();
  const glia::Experiment ex = parse_experiment(text, path);
  const auto& c = ex.projections[0].connect;
  CHECK(c.rule == glia::ConnectSpec::Rule::explicit_list);
  CHECK(c.file == (dir.path / "conn.csv").string()); // relative to the experiment file
  CHECK(c.sources == std::vector<std::uint32_t>{0, 2});
  CHECK(c.targets == std::vector<std::uint32_t>{1, 3});
  CHECK(c.weights == std::vector<double>{0.5, -0.25});
  CHECK(c.delays == std::vector<double>{1.0, 2.5});

  // Without weights in the file, the projection's weight is required and used.
  dir.write("plain.csv", "source,target\n0,0\n9,9\n");
  const std::string plain = kOnePopulation + R"(
[[projection]]
pre = "E"
post = "E"
weight = 1.5
[projection.connect]
rule = "explicit"
file = "plain.csv"
)";
  const glia::Experiment ex2 = parse_experiment(plain, path);
  CHECK(ex2.projections[0].connect.sources.size() == 2);
  CHECK(ex2.projections[0].connect.weights.empty());
  CHECK(ex2.projections[0].weight.value == 1.5);

  // An index out of range names the file and its row.
  dir.write("bad.csv", "source,target\n0,1\n3,12\n");
  std::string bad = plain;
  bad.replace(bad.find("plain.csv"), 9, "bad.csv");
  const std::string msg = error_of(bad, {}, path);
  CHECK_THAT(msg, StartsWith(at(bad, "file = ", path)));
  CHECK_THAT(msg, Contains("projection 'E->E'.connect.file: bad.csv:3: target 12 is out of range "
                           "(population 'E' has 10 neurons)"));

  std::string missing = plain;
  missing.replace(missing.find("plain.csv"), 9, "nothere.csv");
  CHECK_THAT(error_of(missing, {}, path),
             Contains("cannot read connection file") && Contains("No such file or directory"));
}

TEST_CASE("experiment: explicit connections from an HDF5 file", "[io]") {
  const TempDir dir;
  const std::string file = (dir.path / "conn.h5").string();
  {
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0);
    auto write = [&](const char* name, hid_t type, const void* data) {
      const hsize_t n = 3;
      const hid_t space = H5Screate_simple(1, &n, nullptr);
      const hid_t ds = H5Dcreate2(f, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
      H5Dclose(ds);
      H5Sclose(space);
    };
    const std::uint64_t src[] = {0, 1, 2};
    const std::int32_t tgt[] = {4, 5, 6};
    const double w[] = {0.1, 0.2, 0.3};
    write("/source", H5T_NATIVE_UINT64, src);
    write("/target", H5T_NATIVE_INT32, tgt);
    write("/weight", H5T_NATIVE_DOUBLE, w);
    H5Fclose(f);
  }
  const std::string text = kOnePopulation + R"(
[[projection]]
pre = "E"
post = "E"
delay = 1.0
[projection.connect]
rule = "explicit"
file = "conn.h5"
)";
  const glia::Experiment ex = parse_experiment(text, (dir.path / "exp.toml").string());
  const auto& c = ex.projections[0].connect;
  CHECK(c.sources == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(c.targets == std::vector<std::uint32_t>{4, 5, 6});
  CHECK(c.weights == std::vector<double>{0.1, 0.2, 0.3});
  CHECK(c.delays.empty());
  CHECK(ex.projections[0].delay.value == 1.0);
}

TEST_CASE("experiment: load_experiment reads the file", "[io]") {
  const TempDir dir;
  dir.write("exp.toml", kFull);
  const std::string path = (dir.path / "exp.toml").string();
  const glia::Experiment ex = glia::load_experiment(path, {"run.seed=7"});
  CHECK(ex.path == path);
  CHECK(ex.source_text == kFull);
  CHECK(ex.run.seed == 7u);
}

TEST_CASE("experiment: nearest_name", "[io]") {
  CHECK(glia::nearest_name("tau_mm", {"C_m", "tau_m", "t_ref"}) == "tau_m");
  CHECK(glia::nearest_name("TAU_M", {"C_m", "tau_m"}) == "tau_m"); // case-insensitive
  CHECK(glia::nearest_name("completely_different", {"C_m", "tau_m"}).empty());
  CHECK(glia::nearest_name("x", {}).empty());
}

// ---------------------------------------------------------------------------------------
// Errors: each names the file, the line and the key.

TEST_CASE("experiment error: unknown key suggests the nearest name", "[io]") {
  const std::string text = kOnePopulation + "[population.params]\ntau_mm = 20.0\n";
  CHECK(error_of(text) == at(text, "tau_mm") +
                              "1: population 'E'.params.tau_mm: unknown parameter of model "
                              "'lif_delta' (did you mean 'tau_m'?)");

  const std::string run = "[run]\ndurration = 5.0\n" + kOnePopulation;
  CHECK(error_of(run) == "test.toml:2:1: run.durration: unknown key (did you mean 'duration'?)");

  const std::string top = kOnePopulation + "[[projections]]\npre = \"E\"\n";
  CHECK_THAT(error_of(top),
             StartsWith(at(top, "[[projections]]")) &&
                 Contains("projections: unknown section (did you mean 'projection'?)"));

  const std::string dist =
      kOnePopulation + "[population.init]\nV_m = { dist = \"uniform\", low = 0, hihg = 1 }\n";
  CHECK_THAT(error_of(dist),
             StartsWith(at(dist, "V_m")) &&
                 Contains("population 'E'.init.V_m.hihg: unknown key (did you mean 'high'?)"));
}

TEST_CASE("experiment error: wrong type names the expected type", "[io]") {
  std::string text = kOnePopulation;
  text.replace(text.find("size = 10"), 9, "size = 10.5");
  CHECK(error_of(text) ==
        at(text, "size") +
            "8: population 'E'.size: expected an integer, got a floating-point number");

  const std::string dt = "[run]\ndt = \"fast\"\n" + kOnePopulation;
  CHECK(error_of(dt) == "test.toml:2:6: run.dt: expected a number, got a string");

  const std::string flag = kOnePopulation + R"([[projection]]
pre = "E"
post = "E"
weight = 1.0
connect = { rule = "all_to_all", autapses = "no" })";
  CHECK_THAT(error_of(flag),
             StartsWith(at(flag, "autapses")) &&
                 Contains("projection 'E->E'.connect.autapses: expected a boolean"));

  const std::string single = "[population]\nname = \"E\"\n";
  CHECK_THAT(error_of(single),
             Contains("population: expected an array of tables ([[population]]), got a table"));
}

TEST_CASE("experiment error: unknown population", "[io]") {
  const std::string text = kOnePopulation + R"([[projection]]
pre = "Ex"
post = "E"
weight = 1.0
connect = { rule = "all_to_all" }
)";
  CHECK(error_of(text) ==
        at(text, "\"Ex\"") + "7: projection #0.pre: unknown population 'Ex' (did you mean 'E'?)");

  const std::string rec = kOnePopulation + "[[record]]\ntype = \"spikes\"\npopulation = \"F\"\n";
  CHECK_THAT(error_of(rec), StartsWith(at(rec, "\"F\"")) &&
                                Contains("record #0.population: unknown population 'F'"));
}

TEST_CASE("experiment error: unknown model", "[io]") {
  const std::string text = R"([[population]]
name = "E"
model = "lif_delat"
size = 10
)";
  CHECK(
      error_of(text) ==
      "test.toml:3:9: population 'E'.model: unknown model 'lif_delat' (did you mean 'lif_delta'?)");
}

TEST_CASE("experiment error: negative time constant", "[io]") {
  const std::string text = kOnePopulation + "[population.params]\ntau_m = -5\n";
  CHECK(error_of(text) ==
        at(text, "tau_m") + "9: population 'E'.params.tau_m: must be > 0, got -5");

  // A distribution that can produce invalid values is rejected too.
  const std::string dist =
      kOnePopulation + "[population.params]\ntau_m = { dist = \"uniform\", low = -1, high = 5 }\n";
  CHECK_THAT(error_of(dist),
             StartsWith(at(dist, "tau_m")) &&
                 Contains("can produce values outside the valid range (must be > 0)"));
  const std::string normal =
      kOnePopulation + "[population.params]\ntau_m = { dist = \"normal\", mean = 10, std = 1 }\n";
  CHECK_THAT(error_of(normal), Contains("population 'E'.params.tau_m") && Contains("set 'min'"));
}

TEST_CASE("experiment error: delay below the time step", "[io]") {
  const std::string text = kOnePopulation + R"([[projection]]
pre = "E"
post = "E"
weight = 1.0
delay = 0.05
connect = { rule = "all_to_all" }
)";
  CHECK(error_of(text) == at(text, "delay") +
                              "9: projection 'E->E'.delay: delay 0.05 ms is below the time step "
                              "dt = 0.1 ms");

  std::string normal = text;
  normal.replace(normal.find("0.05"), 4, "{ dist = \"normal\", mean = 2, std = 1 }");
  CHECK_THAT(error_of(normal), StartsWith(at(normal, "delay")) &&
                                   Contains("can produce negative delays") &&
                                   Contains("set 'min' >= 0"));
}

TEST_CASE("experiment error: missing file", "[io]") {
  try {
    glia::load_experiment("/nonexistent/x.toml");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "cannot read experiment file '/nonexistent/x.toml': No such file or directory");
  }
}

TEST_CASE("experiment error: bad --set path or value", "[io]") {
  CHECK(error_of(kOnePopulation, {"population.X.size=5"}) ==
        "--set population.X.size=5: no population named 'X' (did you mean 'E'?)");
  CHECK(error_of(kOnePopulation, {"input.3.rate=5"}) ==
        "--set input.3.rate=5: no input at index 3 (the experiment has 0)");
  CHECK_THAT(error_of(kOnePopulation, {"rn.duration=5"}),
             Contains("unknown section 'rn' (did you mean 'run'?)"));
  CHECK_THAT(error_of(kOnePopulation, {"population.E.size.x=5"}),
             Contains("'population.E.size' is an integer, not a table"));
  CHECK_THAT(error_of(kOnePopulation, {"run.duration"}), Contains("expected key=value"));
  // Values from --set are validated like the file's and reported at the override.
  CHECK(error_of(kOnePopulation, {"run.duration=abc"}) ==
        "--set run.duration=abc: run.duration: expected a number, got a string");
  CHECK(error_of(kOnePopulation, {"population.E.params.tau_mm=3"}) ==
        "--set population.E.params.tau_mm=3: population 'E'.params.tau_mm: unknown parameter of "
        "model 'lif_delta' (did you mean 'tau_m'?)");
}

TEST_CASE("experiment error: TOML syntax error", "[io]") {
  const std::string text = kOnePopulation + "size = = 3\n";
  CHECK_THAT(error_of(text), StartsWith(at(text, "size = =")) && Contains("invalid TOML"));
}

TEST_CASE("experiment error: names, ports, integrators and rules", "[io]") {
  const std::string dup = kOnePopulation + kOnePopulation;
  CHECK_THAT(error_of(dup),
             StartsWith("test.toml:6:8:") &&
                 Contains("duplicate population name 'E' (first defined at test.toml:1:1)"));

  const std::string integ = kOnePopulation + "integrator = \"rk5\"\n";
  CHECK_THAT(error_of(integ),
             Contains("population 'E'.integrator: unknown integrator 'rk5' of model 'lif_delta'"));

  const std::string proj = R"([[population]]
name = "E"
model = "lif_exp"
size = 10
[[population]]
name = "I"
model = "lif_exp"
size = 5
[[projection]]
pre = "E"
post = "I"
port = "exx"
weight = 1.0
connect = { rule = "one_to_one" }
)";
  CHECK(error_of(proj) == at(proj, "port") +
                              "8: projection 'E->I'.port: unknown port 'exx' of model 'lif_exp' "
                              "(did you mean 'ex'?)");
  std::string sizes = proj;
  sizes.replace(sizes.find("\"exx\""), 5, "\"ex\"");
  CHECK_THAT(error_of(sizes), StartsWith(at(sizes, "one_to_one")) &&
                                  Contains("one_to_one needs populations of equal size"));
  std::string rule = sizes;
  rule.replace(rule.find("one_to_one"), 10, "fixed_indgree");
  CHECK_THAT(error_of(rule), Contains("unknown connection rule 'fixed_indgree' (did you mean "
                                      "'fixed_indegree'?)"));
  std::string degree = sizes;
  degree.replace(degree.find("{ rule = \"one_to_one\" }"), 23,
                 "{ rule = \"fixed_indegree\", indegree = 11, multapses = false }");
  CHECK_THAT(error_of(degree), Contains("projection 'E->I'.connect.indegree: indegree 11 is more "
                                        "than the 10 distinct sources"));
  // fixed_total_number: N is required, a whole number >= 0, and without multapses at most
  // the number of distinct pairs; the other rules' keys are not its keys.
  std::string total = sizes;
  total.replace(total.find("{ rule = \"one_to_one\" }"), 23,
                "{ rule = \"fixed_total_number\", N = 51, multapses = false }");
  CHECK_THAT(error_of(total), StartsWith(at(total, "N = 51")) &&
                                  Contains("projection 'E->I'.connect.N: N 51 is more than the 50 "
                                           "distinct pairs of 'E' and 'I' (multapses = false)"));
  std::string total_ok = total;
  total_ok.replace(total_ok.find("N = 51"), 6, "N = 50");
  const auto ex = parse_experiment(total_ok, "test.toml");
  REQUIRE(ex.projections.size() == 1);
  CHECK(ex.projections[0].connect.rule == glia::ConnectSpec::Rule::fixed_total_number);
  CHECK(ex.projections[0].connect.total == 50);
  CHECK_FALSE(ex.projections[0].connect.multapses);
  std::string total_missing = sizes;
  total_missing.replace(total_missing.find("{ rule = \"one_to_one\" }"), 23,
                        "{ rule = \"fixed_total_number\" }");
  CHECK_THAT(error_of(total_missing),
             StartsWith(at(total_missing, "fixed_total_number")) &&
                 Contains("projection 'E->I'.connect.N: required key missing (the number of "
                          "synapses)"));
  std::string total_negative = total;
  total_negative.replace(total_negative.find("N = 51"), 6, "N = -3");
  CHECK_THAT(error_of(total_negative),
             StartsWith(at(total_negative, "N = -3")) && Contains("projection 'E->I'.connect.N"));
  std::string total_key = total;
  total_key.replace(total_key.find("N = 51"), 6, "indegree = 5");
  CHECK_THAT(error_of(total_key), StartsWith(at(total_key, "indegree = 5")) &&
                                      Contains("projection 'E->I'.connect.indegree") &&
                                      Contains("unknown key for rule 'fixed_total_number'"));
  std::string no_weight = sizes;
  no_weight.erase(no_weight.find("weight = 1.0\n"), 13);
  no_weight.replace(no_weight.find("one_to_one"), 10, "all_to_all");
  CHECK_THAT(error_of(no_weight), StartsWith("test.toml:9:1:") &&
                                      Contains("projection 'E->I'.weight: required key missing"));
}

TEST_CASE("experiment error: inputs and records", "[io]") {
  const std::string dc = kOnePopulation + R"([[input]]
type = "dc"
target = "E"
amplitude = 100.0
rate = 5.0
)";
  CHECK(error_of(dc) ==
        at(dc, "rate") + "1: input #0.rate: 'rate' is not a setting of 'dc' inputs");

  const std::string type = kOnePopulation + "[[input]]\ntype = \"poison\"\ntarget = \"E\"\n";
  CHECK_THAT(error_of(type), Contains("unknown input type 'poison' (did you mean 'poisson'?)"));

  const std::string times = kOnePopulation + R"([[input]]
type = "spike_times"
target = "E"
times = [1.0, 0.5]
weight = 1.0
)";
  CHECK_THAT(error_of(times), StartsWith(at(times, "times =")) &&
                                  Contains("input #0.times[1]: times must be non-decreasing"));

  const std::string neurons = kOnePopulation + R"([[record]]
type = "spikes"
population = "E"
neurons = [1, 10]
)";
  CHECK_THAT(error_of(neurons),
             StartsWith(at(neurons, "neurons")) &&
                 Contains("record #0.neurons[1]: neuron 10 is out of range (population 'E' has 10 "
                          "neurons)"));

  const std::string var = kOnePopulation + R"([[record]]
type = "state"
population = "E"
variables = ["V_n"]
interval = 0.25
)";
  CHECK_THAT(error_of(var), StartsWith(at(var, "variables")) &&
                                Contains("unknown state variable 'V_n' of model 'lif_delta' "
                                         "(did you mean 'V_m'?)"));
  std::string interval = var;
  interval.replace(interval.find("V_n"), 3, "V_m");
  CHECK_THAT(error_of(interval),
             Contains("record #0.interval: must be a multiple of the time step dt = 0.1 ms"));
  std::string element = var;
  element.replace(element.find("V_n"), 3, "V_m[1]");
  CHECK_THAT(error_of(element), Contains("element 1 is out of range ('V_m' has 1 elements)"));
}

TEST_CASE("experiment error: expressions", "[io]") {
  const std::string izh = R"([[population]]
name = "E"
model = "izhikevich"
size = 10
[population.random]
r = { dist = "uniform", low = 0.0, high = 1.0 }
)";
  const std::string unknown = izh + "[population.params]\nc = \"-65 + 15 * q^2\"\n";
  CHECK_THAT(error_of(unknown), StartsWith(at(unknown, "c = ")) &&
                                    Contains("population 'E'.params.c: unknown name 'q' in "
                                             "expression '-65 + 15 * q^2' (did you mean 'r'?)"));
  const std::string syntax = izh + "[population.params]\nc = \"-65 + * r\"\n";
  CHECK_THAT(error_of(syntax),
             Contains("population 'E'.params.c: invalid expression: unexpected '*' at column 7"));
  const std::string later = izh + "[population.params]\nc = \"d * 2\"\nd = 5\n";
  CHECK_THAT(error_of(later), Contains("parameter 'd' is set later in the table"));
  const std::string state = izh + "[population.init]\nu = \"b * v\"\nv = -65\n";
  CHECK_THAT(error_of(state), StartsWith(at(state, "u = ")) &&
                                  Contains("state variable 'v' must be set before 'u'"));
  const std::string weight = kOnePopulation + R"([[projection]]
pre = "E"
post = "E"
weight = "2 * 3"
connect = { rule = "all_to_all" }
)";
  CHECK_THAT(error_of(weight), Contains("projection 'E->E'.weight: expected a number or a "
                                        "distribution table, got a string"));
}

TEST_CASE("a record with enabled = false is checked, then dropped; --set can turn it off", "[io]") {
  const std::string two = kOnePopulation + R"([[record]]
type = "spikes"
population = "E"

[[record]]
type = "state"
population = "E"
variables = ["V_m"]
enabled = false
)";
  const glia::Experiment ex = parse_experiment(two, "test.toml");
  REQUIRE(ex.records.size() == 1);
  CHECK(ex.records[0].type == glia::RecordSpec::Type::spikes);
  const glia::Experiment both = parse_experiment(two, "test.toml", {"record.1.enabled=true"});
  CHECK(both.records.size() == 2);
  const glia::Experiment none = parse_experiment(two, "test.toml", {"record.0.enabled=false"});
  CHECK(none.records.empty());
  // Still validated while disabled, and the flag itself must be a boolean.
  std::string bad = two;
  bad.replace(bad.find("V_m"), 3, "V_n");
  CHECK_THAT(error_of(bad), Contains("unknown state variable 'V_n'"));
  std::string number = two;
  number.replace(number.find("enabled = false"), 15, "enabled = 0");
  CHECK_THAT(error_of(number),
             StartsWith(at(number, "enabled = 0")) && Contains("record #1.enabled"));
}
