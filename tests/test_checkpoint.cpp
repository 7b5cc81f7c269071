// Checkpoint and resume: a run split by a checkpoint (at a chosen time, by SIGINT,
// SIGTERM or --max-wall, or by SIGKILL at random moments) continues to exactly the
// output of an uninterrupted run, also when the thread count changes at the resume;
// the checkpoint holds the network's complete state (weights and rule state of plastic
// projections included). Networks are reduced via --set so each case takes seconds.
#include "small_stdp_experiment.hpp"
#include "spawn_glia.hpp"

#include "io/checkpoint.hpp"
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <filesystem>
#include <random>

using namespace glia;
using namespace glia::test;

namespace {

const std::string kBrunel = source_path("experiments/brunel.toml");
const std::string kStdp = small_stdp_experiment();

// `file` run straight for 2T ms, and for T ms with 2 threads, then resumed for T ms
// with 1 thread: the outputs and the final checkpoints are bitwise the same.
void check_split_run(const std::string& file, const std::vector<std::string>& sets, double t_ms,
                     bool weights = false) {
  ScratchDir dir("ckpt-split");
  const std::string whole = std::to_string(2 * t_ms), half = std::to_string(t_ms);
  const auto base = with({"run", file, "-q"}, sets);
  REQUIRE(run_to_end(with(base, {"-o", dir / "straight.h5", "--set", "run.duration=" + whole,
                                 "--checkpoint-every", whole}),
                     dir, "straight") == 0);
  REQUIRE(run_to_end(with(base, {"-o", dir / "split.h5", "--set", "run.duration=" + half,
                                 "--threads", "2", "--checkpoint-every", half}),
                     dir, "first") == 0);
  // The first half's checkpoint is at its end; the second half continues from it.
  const Checkpoint mid = read_checkpoint(dir / "split.ckpt.h5");
  CHECK(mid.info.step == static_cast<std::uint64_t>(std::llround(t_ms / 0.1)));
  CHECK(mid.info.threads == 2);
  REQUIRE(run_to_end({"run", "--resume", dir / "split.ckpt.h5", "-q", "--set",
                      "run.duration=" + whole, "--threads", "1", "--checkpoint-every", whole},
                     dir, "second") == 0);
  check_same_output(dir / "straight.h5", dir / "split.h5", {"E", "I"}, {"E/V_m"});
  if (weights) {
    // The weight histogram continues in the resumed output, row for row.
    const std::string counts = "/weights/E->E/weight/histogram/counts";
    const auto a = read_dataset<std::uint64_t>(dir / "straight.h5", counts);
    CHECK(a.size() == 3 * 200); // t = 0, 100, 200 ms
    CHECK(a == read_dataset<std::uint64_t>(dir / "split.h5", counts));
  }
  CHECK(read_attribute(dir / "straight.h5", "/metrics", "rate_E_hz") ==
        read_attribute(dir / "split.h5", "/metrics", "rate_E_hz"));
  CHECK(read_attribute(dir / "straight.h5", "/metrics", "cv_isi_E") ==
        read_attribute(dir / "split.h5", "/metrics", "cv_isi_E"));
  CHECK(check_same_state(dir / "straight.ckpt.h5", dir / "split.ckpt.h5") > 20);
}

// In memory, without an output file: `total` steps straight with 2 threads, and `first`
// steps with 2 threads, a checkpoint file, then the rest with 1 thread. Every spike and
// state record (modulators' too) and the final state are bitwise the same.
void check_library_resume(const Experiment& ex, std::uint64_t first, std::uint64_t total) {
  auto straight_net = build_network(ex, 2);
  Simulator straight(*straight_net);
  attach_records(ex, straight);
  straight.run(total);

  auto first_net = build_network(ex, 2);
  Simulator one(*first_net);
  attach_records(ex, one);
  one.run(first);
  StateArchive ar;
  one.save(ar);
  // Through a checkpoint file, so that the HDF5 round trip is covered too.
  ScratchDir dir("ckpt-lib");
  CheckpointInfo info;
  info.step = one.current_step();
  info.dt = ex.run.dt;
  write_checkpoint(dir / "c.h5", info, ar);
  const Checkpoint back = read_checkpoint(dir / "c.h5");
  CHECK(back.state.entries().size() == ar.entries().size());

  auto second_net = build_network(ex, 1); // another thread count
  Simulator two(*second_net);
  attach_records(ex, two);
  two.load(back.state);
  CHECK(two.current_step() == first);
  two.run(total - first);

  REQUIRE(straight.spike_records().size() == two.spike_records().size());
  for (std::size_t r = 0; r < straight.spike_records().size(); ++r) {
    const auto& a = straight.spike_records()[r];
    const auto& b = two.spike_records()[r];
    CHECK(a.times.size() > 10);
    CHECK(same_bits(a.times, b.times));
    CHECK(a.ids == b.ids);
  }
  // Row buffers are allocated ahead; the rows recorded so far are what counts.
  auto recorded = [](const Simulator::StateRecord& r) {
    return std::vector<double>(
        r.rows.begin(), r.rows.begin() + static_cast<std::ptrdiff_t>(r.n_rows * r.neurons.size()));
  };
  REQUIRE(straight.state_records().size() == two.state_records().size());
  for (std::size_t r = 0; r < straight.state_records().size(); ++r) {
    CHECK(straight.state_records()[r].n_rows == total / straight.state_records()[r].every);
    CHECK(same_bits(recorded(straight.state_records()[r]), recorded(two.state_records()[r])));
  }
  StateArchive sa, sb;
  straight.save(sa);
  two.save(sb);
  for (const auto& [key, e] : sa.entries()) {
    INFO(key);
    CHECK((e.bytes == sb.entries().at(key).bytes));
  }
}

} // namespace

TEST_CASE("resume is exact: brunel.toml, 2T straight = T (2 threads) + resume T (1 thread)",
          "[checkpoint]") {
  check_split_run(kBrunel, {}, 100.0);
}

TEST_CASE("resume is exact: Brunel + STDP, spikes, final weights and traces bitwise",
          "[checkpoint]") {
  const std::vector<std::string> small{"--set", "population.E.size=2000", "--set",
                                       "population.I.size=500"};
  check_split_run(kStdp, small, 100.0, true);
  // The weights did change, so their equality above means something.
  ScratchDir dir("ckpt-stdp");
  REQUIRE(run_to_end(with({"run", kStdp, "-q", "-o", dir / "w.h5", "--set", "run.duration=50",
                           "--checkpoint-every", "50"},
                          small),
                     dir, "w") == 0);
  const Checkpoint c = read_checkpoint(dir / "w.ckpt.h5");
  const auto w = c.state.get<double>("projection/0/plastic_weight");
  REQUIRE(w.size() == 2000u * 1000u);
  std::size_t changed = 0;
  for (double x : w) changed += x != 0.1;
  CHECK(changed > w.size() / 2);
}

TEST_CASE("Simulator save/load without an output file continues the in-memory records exactly",
          "[checkpoint]") {
  check_library_resume(
      load_experiment(kStdp,
                      {"population.E.size=400", "population.I.size=100",
                       "projection.0.connect.indegree=100", "projection.1.connect.indegree=100",
                       "projection.2.connect.indegree=25", "projection.3.connect.indegree=25"}),
      250, 600);
}

TEST_CASE("inputs, models, drawn weights and delays and modulators resume exactly",
          "[checkpoint]") {
  // Current inputs that change inside the run (noise redrawn every 0.7 ms, steps, a DC
  // window), spike times, Poisson; three models; per-synapse weights and delays; STDP
  // with a 2 ms delay; an attention gate. The split (step 137) falls inside a noise
  // interval and a DC window, so i_ext must be recomputed right at the resume.
  const Experiment ex = parse_experiment(R"([run]
duration = 30.0
dt = 0.1
seed = 7

[[population]]
name = "A"
model = "lif_exp"
size = 200
[population.init]
V_m = { dist = "uniform", low = -70.0, high = -50.0 }

[[population]]
name = "B"
model = "izhikevich"
size = 100

[[population]]
name = "C"
model = "lif_cond_exp"
size = 50

[[projection]]
pre = "A"
post = "B"
weight = { dist = "uniform", low = 0.0, high = 4.0 }
delay = { dist = "uniform", low = 0.5, high = 3.0 }
[projection.connect]
rule = "fixed_probability"
p = 0.1

[[projection]]
pre = "B"
post = "A"
weight = 50.0
delay = 2.0
[projection.connect]
rule = "fixed_indegree"
indegree = 20
[projection.plasticity]
rule = "stdp"
A_plus = 5.0
w_max = 200.0

[[projection]]
pre = "A"
post = "C"
weight = 2.0
delay = 1.0
[projection.connect]
rule = "fixed_outdegree"
outdegree = 10

[[input]]
type = "noise"
target = "A"
mean = 300.0
std = 200.0
interval = 0.7

[[input]]
type = "step_current"
target = "A"
times = [5.0, 12.0]
amplitudes = [100.0, 250.0]

[[input]]
type = "dc"
target = "B"
amplitude = 8.0
start = 10.0
stop = 20.0

[[input]]
type = "spike_times"
target = "B"
times = [1.0, 13.5, 14.0, 25.0]
weight = 20.0

[[input]]
type = "poisson"
target = "C"
rate = 6000.0
weight = 10.0

[[modulator]]
name = "gate"
type = "attention"
times = [2.0, 5.0]
values = [1.0, 0.25]
period = 8.0

[[record]]
type = "spikes"
population = "A"

[[record]]
type = "spikes"
population = "B"

[[record]]
type = "spikes"
population = "C"

[[record]]
type = "state"
population = "A"
variables = ["V_m"]
neurons = [0, 1, 150]

[[record]]
type = "modulator"
modulator = "gate"
)",
                                         "inputs.toml");
  check_library_resume(ex, 137, 300);
}

TEST_CASE("resume refuses another experiment, a file that is no checkpoint, a missing output",
          "[checkpoint]") {
  ScratchDir dir("ckpt-refuse");
  const std::vector<std::string> small{"--set", "population.E.size=500", "--set",
                                       "population.I.size=125"};
  REQUIRE(run_to_end(with({"run", kBrunel, "-q", "-o", dir / "o.h5", "--set", "run.duration=20",
                           "--checkpoint-every", "10"},
                          small),
                     dir, "o") == 0);
  const std::string ckpt = dir / "o.ckpt.h5";
  {
    // Another network size: refused, naming what differs.
    const RunResult r = run_glia("run " + kBrunel + " --resume " + ckpt +
                                     " -q --set population.E.size=500 --set population.I.size=126",
                                 dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("differs") && Catch::Contains("size = 126"));
  }
  {
    // The same file and --set (a longer duration is allowed): accepted.
    const RunResult r = run_glia("run " + kBrunel + " --resume " + ckpt +
                                     " -q --set population.E.size=500 --set population.I.size=125 "
                                     "--set run.duration=30",
                                 dir);
    INFO(r.err);
    CHECK(r.code == 0);
  }
  {
    const RunResult r = run_glia("run --resume " + ckpt + " -q --set projection.0.weight=0.2", dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("weight = 0.2"));
  }
  {
    const RunResult r = run_glia("run --resume " + ckpt + " -q --set run.duration=5", dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("ends before the checkpoint"));
  }
  {
    const RunResult r = run_glia("run --resume " + (dir / "o.h5") + " -q", dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("not a glia checkpoint"));
  }
  {
    std::filesystem::rename(dir / "o.h5", dir / "moved.h5");
    const RunResult r = run_glia("run --resume " + ckpt + " -q --set run.duration=40", dir);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("o.h5"));
    // Continuing into the moved file works, and extends the finished run.
    const RunResult ok = run_glia(
        "run --resume " + ckpt + " -o " + (dir / "moved.h5") + " -q --set run.duration=40", dir);
    INFO(ok.err);
    CHECK(ok.code == 0);
    CHECK(read_attribute(dir / "moved.h5", "/metrics", "simulated_ms") == Approx(40.0));
  }
}

namespace {

// The step of the checkpoint at `path`, 0 when there is none (yet).
std::uint64_t checkpoint_step(const std::string& path) {
  if (!std::filesystem::exists(path)) return 0;
  return read_checkpoint(path).info.step;
}

// Which file `path` is now: each checkpoint is a new file renamed over the old one.
ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

} // namespace

TEST_CASE("SIGKILL at random moments, resumed each time: the output equals an uninterrupted run's",
          "[checkpoint][kill]") {
  ScratchDir dir("ckpt-kill");
  // Plastic, so that weights and traces must survive too; threads alternate 2 and 1.
  const std::vector<std::string> net{
      "--set", "population.E.size=1000", "--set", "population.I.size=250",
      "--set", "run.duration=800",       "--set", "run.flush_interval=10"};
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_end(with({"run", kStdp, "-q", "-o", dir / "ref.h5"}, net), dir, "ref") == 0);
  const double t_ref = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const std::string out = dir / "k.h5", ckpt = dir / "k.ckpt.h5";
  std::random_device seed;
  std::mt19937 rng(seed());
  // The first run is killed anywhere in its middle; each later one once it has written
  // a checkpoint of its own, anywhere in the next fifth of a whole run's time (so the
  // kill can fall while it writes the next checkpoint, or flushes, or computes). Later
  // runs wait for that checkpoint even when they start from scratch (the first run
  // killed before it wrote one): a short run is mostly start-up, and five runs killed
  // at random could otherwise all fall before their first checkpoint.
  std::uniform_real_distribution<double> first(0.2 * t_ref, 0.8 * t_ref), later(0.0, 0.2 * t_ref);
  int resumed_and_killed = 0;
  std::string log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::string threads = attempt % 2 ? "1" : "2";
    const std::uint64_t from = checkpoint_step(ckpt);
    const std::vector<std::string> args =
        from > 0 ? std::vector<std::string>{"run", "--resume",  ckpt,   "-q", "--checkpoint-every",
                                            "20",  "--threads", threads}
                 : with({"run", kStdp, "-q", "-o", out, "--checkpoint-every", "20", "--threads",
                         threads},
                        net);
    const ino_t before = inode_of(ckpt);
    GliaProcess p(args, dir, "attempt" + std::to_string(attempt));
    if (attempt > 0)
      while (p.running() && inode_of(ckpt) == before)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double at = attempt > 0 ? later(rng) : first(rng);
    std::this_thread::sleep_for(std::chrono::duration<double>(at));
    p.signal(SIGKILL);
    const int code = p.wait();
    log += "attempt " + std::to_string(attempt) + " from step " + std::to_string(from) +
           ": SIGKILL " + std::to_string(at) + " s in, exit " + std::to_string(code) + "\n";
    resumed_and_killed += from > 0 && code == -SIGKILL;
    // Whatever the moment, the checkpoint on disk is whole.
    if (std::filesystem::exists(ckpt)) CHECK_NOTHROW(read_checkpoint(ckpt));
  }
  INFO(log);
  CHECK(resumed_and_killed > 0);
  const std::vector<std::string> last =
      std::filesystem::exists(ckpt)
          ? std::vector<std::string>{"run", "--resume", ckpt, "-q", "--checkpoint-every", "20"}
          : with({"run", kStdp, "-q", "-o", out}, net);
  REQUIRE(run_to_end(last, dir, "final") == 0);
  check_same_output(dir / "ref.h5", out, {"E", "I"}, {"E/V_m"});
}

TEST_CASE("SIGINT, SIGTERM and --max-wall stop cleanly with a checkpoint, exit 130/143/75",
          "[checkpoint]") {
  ScratchDir dir("ckpt-stop");
  const std::vector<std::string> net{"--set", "population.E.size=2000",
                                     "--set", "population.I.size=500",
                                     "--set", "run.duration=4000"};
  REQUIRE(run_to_end(with({"run", kBrunel, "-q", "-o", dir / "ref.h5"}, net), dir, "ref") == 0);

  struct Stop {
    const char* name;
    int sig;
    std::vector<std::string> extra;
    int code;
  };
  for (const Stop& stop : {Stop{"int", SIGINT, {}, 130}, Stop{"term", SIGTERM, {}, 143},
                           Stop{"wall", 0, {"--max-wall", "0.2"}, 75}}) {
    INFO("stopped by " << stop.name);
    const std::string out = dir / (std::string(stop.name) + ".h5");
    GliaProcess p(with(with({"run", kBrunel, "-q", "-o", out}, net), stop.extra), dir, stop.name);
    REQUIRE(p.wait_for("built in"));
    if (stop.sig != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      p.signal(stop.sig);
    }
    const int code = p.wait();
    INFO(p.err());
    CHECK(code == stop.code);
    const std::string ckpt = dir / (std::string(stop.name) + ".ckpt.h5");
    CHECK_THAT(p.err(), Catch::Contains("resume with: glia run --resume " + ckpt));
    const Checkpoint c = read_checkpoint(ckpt);
    CHECK(c.info.step > 0);
    CHECK(c.info.step < 40000);
    CHECK(read_attribute(out, "/metrics", "simulated_ms") ==
          Approx(static_cast<double>(c.info.step) * 0.1));
    REQUIRE(run_to_end({"run", "--resume", ckpt, "-q"}, dir, std::string(stop.name) + "-resume") ==
            0);
    check_same_output(dir / "ref.h5", out, {"E", "I"}, {"E/V_m"});
  }
}

// Every rule with state of its own (astro_stdp's traces and the astrocyte, three_factor's
// eligibility traces and the reward's pending pulses, homeostasis' gains, delay_plasticity's
// moved delays) continues exactly after a checkpoint taken with 2 threads and resumed with 1.
TEST_CASE("plastic experiments resume exactly across thread counts: every rule's own state",
          "[checkpoint]") {
  struct Case {
    const char* file;
    std::vector<std::string> sets;
    std::uint64_t first, total;
  };
  const std::vector<Case> cases{
      {"nalsm_liquid", {"run.duration=400"}, 170, 400},
      {"distal_reward", {"run.duration=6000"}, 3201, 6000},
      {"homeostasis", {"run.duration=500"}, 2333, 5000},
      {"delay_learning", {"run.duration=1000"}, 4321, 10000},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    check_library_resume(
        load_experiment(source_path(std::string("experiments/") + c.file + ".toml"), c.sets),
        c.first, c.total);
  }
}
