// glia sweep: the [sweep] table expanded into points (grid, random draws that are
// reproducible, seeds), keys and values checked against the experiment (exit code 2 with
// file, line and key), and real sweeps through the binary: a file and a summary row per
// point, points already done skipped, a failing point reported while the others finish,
// shards that together run every point, and a sweep killed half-way that resumes
// without redoing finished points and leaves no child running.
#include "spawn_glia.hpp"

#include "io/sweep.hpp"

#include <catch2/catch.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

using namespace glia;
using namespace glia::test;
namespace fs = std::filesystem;

namespace {

// `text` with the first `key` replaced by `value`. Spliced rather than
// std::string::replace'd: GCC 12 with -march=native on some CPUs warns (-Wrestrict, an
// error under -Werror) that a replace at a found position might overlap.
std::string substitute(const std::string& text, std::string_view key, const std::string& value) {
  const std::size_t at = text.find(key);
  REQUIRE(at != std::string::npos);
  return text.substr(0, at) + value + text.substr(at + key.size());
}

// 100 Poisson-driven LIF neurons for 100 ms: a point runs in a fraction of a second.
const std::string kNetwork = R"([run]
duration = 100.0
dt = 0.1
seed = 7

[[population]]
name = "E"
model = "lif_delta"
size = 100
[population.params]
tau_m = 20.0
E_L = 0.0
V_th = 20.0
V_reset = 10.0
t_ref = 2.0

[[input]]
type = "poisson"
name = "drive"
target = "E"
rate = 20000.0
weight = 0.1

[[record]]
type = "spikes"
population = "E"
)";

SweepSpec sweep_of(const std::string& table, std::uint32_t run_seed = 7) {
  const auto s = parse_sweep(kNetwork + table, "exp.toml", run_seed);
  REQUIRE(s.has_value());
  return *s;
}

std::string input_error(const std::string& table) {
  try {
    const auto s = parse_sweep(kNetwork + table, "exp.toml", 7);
    if (s) validate_sweep(*s, kNetwork + table, "exp.toml", {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

using Row = std::map<std::string, std::string>;

// summary.csv as one map per row (the test's files have no quoted fields).
std::vector<Row> read_csv(const std::string& path) {
  std::vector<Row> rows;
  std::istringstream in(slurp(path));
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::string cell;
    std::istringstream s(l);
    while (std::getline(s, cell, ',')) out.push_back(cell);
    if (!l.empty() && l.back() == ',') out.push_back("");
    return out;
  };
  while (std::getline(in, line)) {
    if (header.empty()) {
      header = split(line);
      continue;
    }
    const auto cells = split(line);
    REQUIRE(cells.size() == header.size());
    Row r;
    for (std::size_t i = 0; i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}

fs::file_time_type mtime(const std::string& path) {
  return fs::last_write_time(path);
}

// Processes whose command line mentions `text` (the sweep's children name its directory).
std::vector<int> processes_mentioning(const std::string& text) {
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  if (!proc) return pids;
  while (const dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    std::string cmd = slurp("/proc/" + std::string(e->d_name) + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(text) != std::string::npos) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

bool wait_until(const std::function<bool()>& cond, double timeout_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

} // namespace

TEST_CASE("sweep: a grid runs every combination, the last key fastest, each with every seed",
          "[sweep]") {
  const SweepSpec s = sweep_of(R"(
[sweep]
seeds = [3, 5]
threads_per_point = 2
[sweep.values]
"input.drive.weight" = [0.1, 0.2]
"population.E.size" = [10, 20, 30]
)");
  CHECK(s.mode == SweepSpec::Mode::grid);
  REQUIRE(s.keys == std::vector<std::string>{"input.drive.weight", "population.E.size"});
  CHECK(s.seeds == std::vector<std::uint32_t>{3, 5});
  CHECK(s.threads_per_point == 2);
  REQUIRE(s.points.size() == 12);
  CHECK(s.combinations() == 6);
  // Point 1: first values, seed 3; point 2: same values, seed 5; then size moves.
  CHECK(s.points[0].values == std::vector<std::string>{"0.1", "10"});
  CHECK(s.points[0].seed == 3);
  CHECK(s.points[1].values == std::vector<std::string>{"0.1", "10"});
  CHECK(s.points[1].seed == 5);
  CHECK(s.points[2].values == std::vector<std::string>{"0.1", "20"});
  CHECK(s.points[6].values == std::vector<std::string>{"0.2", "10"});
  CHECK(s.points[11].values == std::vector<std::string>{"0.2", "30"});
  CHECK(s.points[11].number == 12);
  CHECK(s.points[11].stem() == "point_0012_seed_5");
  CHECK(s.overrides(s.points[3]) ==
        std::vector<std::string>{"input.drive.weight=0.1", "population.E.size=20", "run.seed=5"});
  CHECK(s.describe(s.points[3]) == "seed 5, input.drive.weight=0.1, population.E.size=20");
  validate_sweep(s, kNetwork + "\n[sweep]\nseeds = [3, 5]\n", "exp.toml", {}); // no keys: fine

  // seeds = N means 1..N; without seeds every point runs the experiment's own seed.
  CHECK(sweep_of("[sweep]\nseeds = 3\n[sweep.values]\n\"run.duration\" = [10.0]\n").seeds ==
        std::vector<std::uint32_t>{1, 2, 3});
  const SweepSpec one = sweep_of("[sweep]\n[sweep.values]\n\"run.duration\" = [10.0, 20]\n", 42);
  CHECK(one.seeds == std::vector<std::uint32_t>{42});
  REQUIRE(one.points.size() == 2);
  CHECK(one.points[0].values[0] == "10.0"); // as TOML, so that --set reads a float back
  CHECK(one.points[1].values[0] == "20");
}

TEST_CASE("sweep: random draws depend only on sample_seed, sample and key", "[sweep]") {
  const std::string table = R"(
[sweep]
mode = "random"
samples = SAMPLES
sample_seed = SEED
seeds = 2
[sweep.values]
"input.drive.weight" = { dist = "uniform", low = 0.05, high = 0.2 }
"input.drive.rate" = { dist = "log_uniform", low = 1000.0, high = 100000.0 }
"population.E.size" = { dist = "uniform", low = 10, high = 13, integer = true }
"run.dt" = [0.1, 0.05]
)";
  auto make = [&](int samples, int seed) {
    return sweep_of(substitute(substitute(table, "SAMPLES", std::to_string(samples)), "SEED",
                               std::to_string(seed)));
  };
  const SweepSpec a = make(40, 1), b = make(40, 1), c = make(40, 2), small = make(5, 1);
  REQUIRE(a.points.size() == 80);
  std::set<std::string> sizes, dts;
  std::vector<double> rates;
  for (std::size_t i = 0; i < a.points.size(); ++i) {
    const auto& p = a.points[i];
    CHECK(p.values == b.points[i].values); // reproducible
    CHECK(p.seed == (i % 2 == 0 ? 1u : 2u));
    if (i % 2 == 1) CHECK(p.values == a.points[i - 1].values); // both seeds of a sample
    const double w = std::stod(p.values[0]), r = std::stod(p.values[1]);
    CHECK(w >= 0.05);
    CHECK(w <= 0.2);
    CHECK(r >= 1000.0);
    CHECK(r <= 100000.0);
    rates.push_back(std::log10(r));
    sizes.insert(p.values[2]);
    dts.insert(p.values[3]);
  }
  // Integers 10..13 and both choices all drawn; log-uniform spreads over the decades.
  CHECK(sizes == std::set<std::string>{"10", "11", "12", "13"});
  CHECK(dts == std::set<std::string>{"0.1", "0.05"});
  const auto below_4 = std::count_if(rates.begin(), rates.end(), [](double x) { return x < 4; });
  CHECK(below_4 > 20);
  CHECK(below_4 < 60);
  // Fewer samples are the first ones of more; another sample_seed draws other values.
  for (std::size_t i = 0; i < small.points.size(); ++i)
    CHECK(small.points[i].values == a.points[i].values);
  int same = 0;
  for (std::size_t i = 0; i < a.points.size(); ++i)
    same += a.points[i].values[0] == c.points[i].values[0];
  CHECK(same < 4);
}

TEST_CASE("sweep: a malformed [sweep] table or a key that names nothing is an error with its line",
          "[sweep]") {
  CHECK_THAT(input_error("[sweep]\nmodee = \"grid\"\n[sweep.values]\n\"run.dt\" = [0.1]\n"),
             Catch::Contains("exp.toml:") && Catch::Contains("sweep.modee") &&
                 Catch::Contains("did you mean 'mode'"));
  CHECK_THAT(input_error("[sweep]\nmode = \"grid\"\n"), Catch::Contains("sweep.values"));
  CHECK_THAT(input_error("[sweep]\n[sweep.values]\n\"run.dt\" = { dist = \"uniform\", low = "
                         "0.1, high = 0.2 }\n"),
             Catch::Contains("expected an array of values"));
  CHECK_THAT(input_error("[sweep]\nmode = \"random\"\n[sweep.values]\n\"run.dt\" = [0.1]\n"),
             Catch::Contains("sweep.samples") && Catch::Contains("required"));
  CHECK_THAT(input_error("[sweep]\nseeds = [1, 1]\n[sweep.values]\n\"run.dt\" = [0.1]\n"),
             Catch::Contains("sweep.seeds[1]") && Catch::Contains("twice"));
  CHECK_THAT(input_error("[sweep]\n[sweep.values]\n\"run.seed\" = [1, 2]\n"),
             Catch::Contains("sweep.seeds"));
  CHECK_THAT(input_error("[sweep]\nmode = \"random\"\nsamples = 3\n[sweep.values]\n\"run.dt\" = "
                         "{ dist = \"log_uniform\", low = 0.0, high = 0.2 }\n"),
             Catch::Contains("low > 0"));
  // A key that names nothing, at its line (kNetwork has 26 lines).
  const std::string nothing =
      input_error("[sweep]\n[sweep.values]\n\"run.duration\" = [10.0]\n\"population.E.sizee\" = "
                  "[10]\n");
  CHECK_THAT(nothing, Catch::Contains("exp.toml:30:") &&
                          Catch::Contains("sweep.values.\"population.E.sizee\"") &&
                          Catch::Contains("did you mean 'size'"));
  CHECK_THAT(input_error("[sweep]\n[sweep.values]\n\"input.driv.rate\" = [10.0]\n"),
             Catch::Contains("no input named 'driv'") && Catch::Contains("did you mean 'drive'"));
  // A value out of range, at the line of the value.
  CHECK_THAT(input_error("[sweep]\n[sweep.values]\n\"run.dt\" = [\n  0.1,\n  -0.5,\n]\n"),
             Catch::Contains("exp.toml:31:") && Catch::Contains("value -0.5") &&
                 Catch::Contains("run.dt"));
}

TEST_CASE("sweep: bad input through the binary exits 2, and check validates the sweep too",
          "[sweep]") {
  ScratchDir dir("sweep-bad");
  const std::string bad = dir.write(
      "bad.toml", kNetwork + "\n[sweep]\n[sweep.values]\n\"input.drive.wieght\" = [0.1, 0.2]\n");
  const RunResult r = run_glia("sweep " + bad + " -o " + (dir / "out"), dir);
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.toml:30:") &&
                        Catch::Contains("sweep.values.\"input.drive.wieght\"") &&
                        Catch::Contains("did you mean 'weight'"));
  CHECK(!fs::exists(dir / "out")); // nothing written
  const RunResult c = run_glia("check " + bad, dir);
  CHECK(c.code == 2);
  CHECK_THAT(c.err, Catch::Contains("input.drive.wieght"));
  // glia run ignores the table; glia check describes it.
  const std::string good = dir.write(
      "good.toml", kNetwork + "\n[sweep]\nseeds = 2\n[sweep.values]\n\"input.drive.weight\" = "
                              "[0.1, 0.2]\n");
  const RunResult g = run_glia("check " + good, dir);
  CHECK(g.code == 0);
  CHECK_THAT(g.out, Catch::Contains("sweep: grid over 1 key (2 combinations) x 2 seeds: 4 points"));
  CHECK(run_glia("run " + good + " -q -o " + (dir / "one.h5"), dir).code == 0);
  // No [sweep] table, a bad shard, a bad --set.
  const std::string plain = dir.write("plain.toml", kNetwork);
  const RunResult p = run_glia("sweep " + plain + " -o " + (dir / "out"), dir);
  CHECK(p.code == 2);
  CHECK_THAT(p.err, Catch::Contains("no [sweep] table"));
  const RunResult s = run_glia("sweep " + good + " -o " + (dir / "out") + " --shard 3/2", dir);
  CHECK(s.code == 2);
  CHECK_THAT(s.err, Catch::Contains("--shard 3/2"));
  const RunResult o = run_glia("sweep " + good + " -o " + (dir / "out") + " --set run.dt=-1", dir);
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("run.dt"));
  CHECK(!fs::exists(dir / "out"));
}

TEST_CASE("sweep: every point runs, the summary lists its values and metrics, done points are "
          "skipped on re-run and a failing point does not stop the others",
          "[sweep]") {
  ScratchDir dir("sweep-run");
  // Point 5 and 6 (weight -1e308): two arrivals in one step make V_m -inf, the NaN guard
  // stops the run with exit code 3.
  const std::string file = dir.write(
      "exp.toml", kNetwork + "\n[sweep]\nseeds = [1, 2]\n[sweep.values]\n\"input.drive.weight\" = "
                             "[0.1, 0.2, -1e308]\n");
  const std::string out = dir / "sweep";
  GliaProcess first({"sweep", file, "-o", out, "--jobs", "2"}, dir, "first");
  CHECK(first.wait() == 1);
  const std::string text = first.out() + first.err();
  INFO(text);
  for (const char* stem :
       {"point_0001_seed_1", "point_0002_seed_2", "point_0003_seed_1", "point_0004_seed_2"}) {
    CHECK(fs::exists(out + "/" + stem + ".h5"));
    CHECK(fs::exists(out + "/" + stem + ".log"));
  }
  CHECK(!fs::exists(out + "/point_0005_seed_1.h5"));
  // What the failed run wrote up to the NaN guard's stop is kept apart.
  CHECK(read_attribute(out + "/point_0005_seed_1.failed.h5", "/metrics", "simulated_ms") > 0);
  CHECK_THAT(text, Catch::Contains("point 3/6 (seed 1, input.drive.weight=0.2) done in"));
  CHECK_THAT(text, Catch::Contains("point 5/6 (seed 1, input.drive.weight=-1e+308) failed: exit "
                                   "code 3 (non-finite state)") &&
                       Catch::Contains("non-finite state at t = "));
  CHECK_THAT(text, Catch::Contains("4 of 6 points done (0 skipped), 2 failed"));

  const auto rows = read_csv(out + "/summary.csv");
  REQUIRE(rows.size() == 6);
  double rates[2] = {0, 0};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    CHECK(r.at("point") == std::to_string(i + 1));
    CHECK(r.at("seed") == (i % 2 == 0 ? "1" : "2"));
    if (i < 4) {
      CHECK(r.at("status") == "done");
      CHECK(r.at("exit_code") == "0");
      CHECK(r.at("input.drive.weight") == (i < 2 ? "0.1" : "0.2"));
      const std::string h5 =
          out + "/point_000" + std::to_string(i + 1) + "_seed_" + r.at("seed") + ".h5";
      // The summary's figures are the file's, the file ran the point's seed and value.
      CHECK(std::stod(r.at("rate_E_hz")) == read_attribute(h5, "/metrics", "rate_E_hz"));
      CHECK(std::stod(r.at("wall_time_s")) > 0);
      CHECK(r.count("spikes_total"));
      CHECK(read_attribute(h5, "/", "seed") == std::stod(r.at("seed")));
      rates[i / 2] += std::stod(r.at("rate_E_hz")) / 2;
    } else {
      CHECK(r.at("status") == "failed");
      CHECK(r.at("exit_code") == "3");
      CHECK(r.at("rate_E_hz").empty());
    }
  }
  CHECK(rates[0] > 1.0);
  CHECK(rates[1] > rates[0] + 10); // twice the drive, a higher rate
  CHECK(read_csv(out + "/summary.csv")[0].at("rate_E_hz") !=
        read_csv(out + "/summary.csv")[1].at("rate_E_hz")); // the seeds differ

  // A point is what glia run computes with the point's overrides, spike for spike.
  const std::string alone = dir / "alone.h5";
  REQUIRE(
      run_glia("run " + file + " -q -o " + alone + " --set input.drive.weight=0.2 --set run.seed=1",
               dir)
          .code == 0);
  check_same_output(alone, out + "/point_0003_seed_1.h5", {"E"});

  // --dry-run lists what a run would do, and runs nothing.
  const RunResult dry = run_glia("sweep " + file + " -o " + out + " --dry-run", dir);
  CHECK(dry.code == 0);
  CHECK_THAT(dry.out, Catch::Contains("point 1/6 (seed 1, input.drive.weight=0.1): done") &&
                          Catch::Contains("point 5/6 (seed 1, input.drive.weight=-1e+308): to "
                                          "run again (exit code 3)"));
  CHECK(run_glia("sweep " + file + " -o " + (dir / "none") + " --dry-run", dir).code == 0);
  CHECK(!fs::exists(dir / "none"));

  // Re-run: the four done points are skipped (files untouched), the failed ones retried.
  const auto before = mtime(out + "/point_0001_seed_1.h5");
  GliaProcess again({"sweep", file, "-o", out}, dir, "again");
  CHECK(again.wait() == 1);
  const std::string text2 = again.out() + again.err();
  INFO(text2);
  CHECK(mtime(out + "/point_0001_seed_1.h5") == before);
  CHECK_THAT(text2, Catch::Contains("point 1/6 (seed 1, input.drive.weight=0.1) skipped: done "
                                    "already"));
  CHECK_THAT(text2, Catch::Contains("4 of 6 points done (4 skipped), 2 failed"));
  CHECK_THAT(text2, Catch::Contains("point 6/6 (seed 2, input.drive.weight=-1e+308) failed"));

  // The directory holds another sweep's points when the experiment changes: refused.
  const std::string changed = dir.write(
      "exp.toml", kNetwork + "\n[sweep]\nseeds = [1, 2]\n[sweep.values]\n\"input.drive.rate\" = "
                             "[100.0]\n");
  const RunResult r = run_glia("sweep " + changed + " -o " + out, dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("point_0001_seed_1.h5: holds a run of another experiment"));
}

TEST_CASE("sweep: shards 1/2 and 2/2, run at once in one directory, run every point once",
          "[sweep]") {
  ScratchDir dir("sweep-shard");
  const std::string file = dir.write(
      "exp.toml", kNetwork + "\n[sweep]\nseeds = 2\n[sweep.values]\n\"input.drive.weight\" = "
                             "[0.1, 0.15, 0.2]\n");
  const std::string out = dir / "sweep";
  GliaProcess a({"sweep", file, "-o", out, "--shard", "1/2", "--jobs", "1"}, dir, "a");
  GliaProcess b({"sweep", file, "-o", out, "--shard", "2/2", "--jobs", "1"}, dir, "b");
  CHECK(a.wait() == 0);
  CHECK(b.wait() == 0);
  INFO(a.out() << b.out());
  CHECK_THAT(a.out(), Catch::Contains("shard 1/2: 3 points to run"));
  for (int k = 1; k <= 6; ++k) {
    const std::string label = "point " + std::to_string(k) + "/6 ";
    // Each point is run by its own shard only.
    CHECK((a.out().find(label) != std::string::npos) == (k % 2 == 1));
    CHECK((b.out().find(label) != std::string::npos) == (k % 2 == 0));
  }
  const auto rows = read_csv(out + "/summary.csv");
  REQUIRE(rows.size() == 6);
  for (const Row& r : rows) CHECK(r.at("status") == "done");
  // Shard 1 alone, run again: its points are skipped, and its summary still sees all.
  GliaProcess c({"sweep", file, "-o", out, "--shard", "1/2"}, dir, "c");
  CHECK(c.wait() == 0);
  CHECK_THAT(c.out(), Catch::Contains("3 of 3 points done (3 skipped), 0 failed"));
  for (const Row& r : read_csv(out + "/summary.csv")) CHECK(r.at("status") == "done");
}

TEST_CASE("sweep: killed half-way, it leaves no child running and resumes without redoing "
          "finished points",
          "[sweep]") {
  ScratchDir dir("sweep-kill");
  // About 0.3 s per point (1000 neurons for 10 s), one at a time: the kill has to land
  // while points are left, also on a loaded machine (1 s of model time took 40 ms).
  std::string net = kNetwork;
  net.replace(net.find("duration = 100.0"), 16, "duration = 10000.0");
  net.replace(net.find("size = 100"), 10, "size = 1000");
  const std::string file = dir.write(
      "exp.toml", net + "\n[sweep]\nseeds = [1, 2, 3]\n[sweep.values]\n\"input.drive.weight\" = "
                        "[0.1, 0.2]\n");
  const std::string out = dir / "sweep";
  GliaProcess sweep({"sweep", file, "-o", out, "--jobs", "1"}, dir, "killed");
  REQUIRE(wait_until([&] { return fs::exists(out + "/point_0002_seed_2.h5"); }, 60));
  sweep.signal(SIGKILL);
  CHECK(sweep.wait() == -SIGKILL);
  // The running child stops (SIGTERM on its parent's death) instead of running on.
  CHECK(wait_until([&] { return processes_mentioning(out).empty(); }, 20));
  std::map<std::string, fs::file_time_type> finished;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().extension() == ".h5" && e.path().string().find(".partial") == std::string::npos)
      finished[e.path().string()] = mtime(e.path().string());
  REQUIRE(finished.size() >= 2);
  REQUIRE(finished.size() < 6);

  GliaProcess resumed({"sweep", file, "-o", out, "--jobs", "1"}, dir, "resumed");
  CHECK(resumed.wait() == 0);
  INFO(resumed.out() << resumed.err());
  for (const auto& [path, time] : finished) CHECK(mtime(path) == time);
  CHECK_THAT(resumed.out(), Catch::Contains("point 1/6 (seed 1, input.drive.weight=0.1) skipped") &&
                                Catch::Contains("point 2/6 (seed 2, input.drive.weight=0.1) "
                                                "skipped") &&
                                Catch::Contains("point 6/6 (seed 3, input.drive.weight=0.2) done"));
  CHECK_THAT(resumed.out(), Catch::Contains("6 of 6 points done (" +
                                            std::to_string(finished.size()) + " skipped)"));
  const auto rows = read_csv(out + "/summary.csv");
  REQUIRE(rows.size() == 6);
  for (const Row& r : rows) {
    CHECK(r.at("status") == "done");
    CHECK(!r.at("rate_E_hz").empty());
  }
  for (const auto& e : fs::directory_iterator(out))
    CHECK(e.path().string().find(".partial") == std::string::npos); // nothing half-written
}

TEST_CASE("sweep: SIGTERM stops the running points cleanly and the summary says so", "[sweep]") {
  ScratchDir dir("sweep-term");
  std::string net = kNetwork; // 20 s of model time: the points are still running when stopped
  net.replace(net.find("duration = 100.0"), 16, "duration = 20000.0");
  const std::string file = dir.write(
      "exp.toml", net + "\n[sweep]\n[sweep.values]\n\"input.drive.weight\" = [0.1, 0.2, 0.3]\n");
  const std::string out = dir / "sweep";
  GliaProcess sweep({"sweep", file, "-o", out, "--jobs", "2"}, dir, "term");
  // Both runs have built their networks (and handle SIGTERM) once their logs say so.
  REQUIRE(wait_until(
      [&] {
        return slurp(out + "/point_0001_seed_7.log").find("built in") != std::string::npos &&
               slurp(out + "/point_0002_seed_7.log").find("built in") != std::string::npos;
      },
      60));
  sweep.signal(SIGTERM);
  CHECK(sweep.wait() == 143);
  INFO(sweep.out() << sweep.err());
  CHECK_THAT(sweep.out(),
             Catch::Contains("point 1/3 (seed 7, input.drive.weight=0.1) stopped by SIGTERM") &&
                 Catch::Contains("glia sweep: stopped by SIGTERM"));
  const auto rows = read_csv(out + "/summary.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].at("status") == "stopped");
  CHECK(rows[0].at("exit_code") == "143");
  CHECK(rows[2].at("status") == "pending");
  for (const auto& e : fs::directory_iterator(out)) {
    CHECK(e.path().extension() != ".h5"); // nothing done, nothing half-written left
  }
  CHECK(processes_mentioning(out).empty());
}

TEST_CASE("sweep: a random sweep given more samples keeps the points it has done", "[sweep]") {
  ScratchDir dir("sweep-more");
  const std::string table = "\n[sweep]\nmode = \"random\"\nsamples = K\n[sweep.values]\n"
                            "\"input.drive.weight\" = { dist = \"uniform\", low = 0.1, high = "
                            "0.2 }\n";
  auto file = [&](int samples) {
    return dir.write("exp.toml", kNetwork + substitute(table, "K", std::to_string(samples)));
  };
  const std::string out = dir / "sweep";
  CHECK(run_glia("sweep " + file(2) + " -o " + out, dir).code == 0);
  const auto first = mtime(out + "/point_0002_seed_7.h5");
  const RunResult more = run_glia("sweep " + file(3) + " -o " + out, dir);
  INFO(more.out << more.err);
  CHECK(more.code == 0);
  CHECK_THAT(more.out, Catch::Contains("3 of 3 points done (2 skipped)"));
  CHECK(mtime(out + "/point_0002_seed_7.h5") == first);
  const auto rows = read_csv(out + "/summary.csv");
  REQUIRE(rows.size() == 3);
  for (const Row& r : rows) {
    CHECK(r.at("status") == "done");
    CHECK(std::stod(r.at("input.drive.weight")) >= 0.1);
    CHECK(std::stod(r.at("input.drive.weight")) <= 0.2);
  }
}

TEST_CASE("sweep: a point locked by another process is left to it", "[sweep]") {
  ScratchDir dir("sweep-lock");
  const std::string file = dir.write(
      "exp.toml", kNetwork + "\n[sweep]\n[sweep.values]\n\"input.drive.weight\" = [0.1, 0.2]\n");
  const std::string out = dir / "sweep";
  fs::create_directories(out + "/.lock");
  // As a glia run of another sweep process would hold it.
  const int fd =
      ::open((out + "/.lock/point_0002_seed_7.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  const RunResult held = run_glia("sweep " + file + " -o " + out, dir);
  INFO(held.out << held.err);
  CHECK(held.code == 1);
  CHECK_THAT(held.out, Catch::Contains("point 2/2 (seed 7, input.drive.weight=0.2) left to the "
                                       "process running it") &&
                           Catch::Contains("1 of 2 points done (0 skipped), 0 failed, 1 run by "
                                           "another process"));
  CHECK(fs::exists(out + "/point_0001_seed_7.h5"));
  CHECK(!fs::exists(out + "/point_0002_seed_7.h5"));
  ::close(fd); // released: the next sweep takes it
  const RunResult free = run_glia("sweep " + file + " -o " + out, dir);
  CHECK(free.code == 0);
  CHECK(fs::exists(out + "/point_0002_seed_7.h5"));
}
