// End-to-end tests of `glia run|check|info` on bad input: every case exits with code 2,
// names the file, line and key (or the path), and leaves no output file behind.
#include "run_glia.hpp"

#include <catch2/catch.hpp>

using namespace glia::test;

namespace {

// A small valid experiment; each case breaks one thing in it.
const std::string kValid = R"([run]
duration = 20.0
dt = 0.1
seed = 3

[[population]]
name = "E"
model = "lif_exp"
size = 20
[population.params]
tau_m = 10.0

[[projection]]
pre = "E"
post = "E"
weight = 10.0
delay = 1.0
[projection.connect]
rule = "fixed_indegree"
indegree = 5

[[input]]
type = "poisson"
target = "E"
rate = 8000.0
weight = 80.0
port = "ex"

[[record]]
type = "spikes"
population = "E"
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Runs the broken experiment and checks the exit code, the message and that no output exists.
void expect_bad_input(const std::string& toml, const std::vector<std::string>& must_contain,
                      const std::string& extra_args = "") {
  ScratchDir dir("cli");
  const std::string file = dir.write("exp.toml", toml);
  const std::string out = dir / "out.h5";
  const RunResult r = run_glia("run " + file + " -o " + out + " -q " + extra_args, dir);
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  for (const auto& s : must_contain) CHECK_THAT(r.err, Catch::Contains(s));
  CHECK_FALSE(std::filesystem::exists(out));
}

} // namespace

TEST_CASE("valid experiment runs and writes its output", "[cli]") {
  ScratchDir dir("cli");
  const std::string file = dir.write("exp.toml", kValid);
  const RunResult r = run_glia("run " + file + " -o " + (dir / "out.h5") + " -q", dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(std::filesystem::exists(dir / "out.h5"));
  CHECK_THAT(r.out, Catch::Contains("rate (Hz)"));
  CHECK_THAT(r.out, Catch::Contains("peak memory"));
  CHECK(read_attribute(dir / "out.h5", "/metrics", "rate_E_hz") > 0.0);
}

TEST_CASE("bad input: unknown key names line and suggests the nearest", "[cli]") {
  expect_bad_input(replace(kValid, "tau_m = 10.0", "tau_mm = 10.0"),
                   {"exp.toml:11:", "tau_mm", "did you mean 'tau_m'"});
}

TEST_CASE("bad input: wrong type", "[cli]") {
  expect_bad_input(replace(kValid, "size = 20", "size = \"twenty\""),
                   {"exp.toml:9:", "size", "integer"});
}

TEST_CASE("bad input: unknown population", "[cli]") {
  expect_bad_input(replace(kValid, "post = \"E\"", "post = \"EE\""),
                   {"exp.toml:15:", "post", "'EE'", "did you mean 'E'"});
}

TEST_CASE("bad input: unknown model", "[cli]") {
  expect_bad_input(replace(kValid, "model = \"lif_exp\"", "model = \"lif_expp\""),
                   {"exp.toml:8:", "model", "lif_expp", "did you mean 'lif_exp'"});
}

TEST_CASE("bad input: negative time constant", "[cli]") {
  expect_bad_input(replace(kValid, "tau_m = 10.0", "tau_m = -10.0"),
                   {"exp.toml:11:", "tau_m", "> 0"});
}

TEST_CASE("bad input: delay below dt", "[cli]") {
  expect_bad_input(replace(kValid, "delay = 1.0", "delay = 0.05"), {"exp.toml:17:", "delay", "dt"});
}

TEST_CASE("bad input: missing experiment file", "[cli]") {
  ScratchDir dir("cli");
  const RunResult r =
      run_glia("run " + (dir / "nope.toml") + " -o " + (dir / "out.h5") + " -q", dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("nope.toml"));
  CHECK_FALSE(std::filesystem::exists(dir / "out.h5"));
}

TEST_CASE("bad input: unwritable output path", "[cli]") {
  ScratchDir dir("cli");
  const std::string file = dir.write("exp.toml", kValid);
  const std::string out = dir / "missing-dir/out.h5";
  const RunResult r = run_glia("run " + file + " -o " + out + " -q", dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("missing-dir/out.h5"));
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("bad input: --set with an unknown key", "[cli]") {
  expect_bad_input(kValid, {"--set", "durration"}, "--set run.durration=5");
}

TEST_CASE("glia check validates without writing anything", "[cli]") {
  ScratchDir dir("cli");
  const std::string good = dir.write("good.toml", kValid);
  RunResult r = run_glia("check " + good, dir);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("ok"));
  const std::string bad = dir.write("bad.toml", replace(kValid, "size = 20", "size = -4"));
  r = run_glia("check " + bad, dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.toml:9:"));
}

TEST_CASE("glia info lists models and describes one", "[cli]") {
  ScratchDir dir("cli");
  RunResult r = run_glia("info", dir);
  CHECK(r.code == 0);
  for (const char* m : {"lif_delta", "lif_exp", "lif_cond_exp", "izhikevich"})
    CHECK_THAT(r.out, Catch::Contains(m));
  r = run_glia("info lif_exp", dir);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("tau_syn_ex"));
  CHECK_THAT(r.out, Catch::Contains("pA"));
  r = run_glia("info lif_exq", dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("did you mean 'lif_exp'"));
}

TEST_CASE("command-line overrides reach the run and are stored in the output", "[cli]") {
  ScratchDir dir("cli");
  const std::string file = dir.write("exp.toml", kValid);
  const RunResult r =
      run_glia("run " + file + " -o " + (dir / "out.h5") + " -q --set run.duration=7.5", dir);
  REQUIRE(r.code == 0);
  CHECK(read_attribute(dir / "out.h5", "/metrics", "simulated_ms") == Approx(7.5));
}
