// Nothing silently wrong: a full disk (a small tmpfs when this machine lets the test
// mount one, and always a file-size limit, RLIMIT_FSIZE, which needs no privileges)
// gives exit code 1 and a message naming the file and the reason, the last checkpoint
// stays whole and resumes exactly; a checkpoint path that cannot be written is refused
// before the run; NaN or infinite state stops the run (exit code 3) naming the
// population, neuron, variable and time, the same for any thread count.
#include "small_stdp_experiment.hpp"
#include "spawn_glia.hpp"

#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>
#include <sys/mount.h>

#include <cmath>
#include <filesystem>
#include <limits>

using namespace glia;
using namespace glia::test;
namespace fs = std::filesystem;

namespace {

const std::string kBrunel = source_path("experiments/brunel.toml");
const std::string kStdp = small_stdp_experiment(false);

// A small Brunel network that records V_m of 500 neurons every step: its output grows
// by 4 MB per 100 ms of model time, so it fills a small file system quickly.
std::vector<std::string> growing_run(double duration_ms) {
  std::string neurons = "record.2.neurons=[0";
  for (int i = 1; i < 500; ++i) {
    neurons += ',';
    neurons += std::to_string(i);
  }
  neurons += "]";
  return {"--set", "population.E.size=1000",
          "--set", "population.I.size=250",
          "--set", "run.duration=" + std::to_string(duration_ms),
          "--set", neurons};
}

// A tmpfs of `bytes` mounted at `dir` while alive; mounted() is false where the
// machine does not allow it (no privileges, a container without CAP_SYS_ADMIN).
class Tmpfs {
public:
  Tmpfs(const std::string& dir, std::size_t bytes) : dir_(dir) {
    fs::create_directories(dir);
    const std::string options = "size=" + std::to_string(bytes);
    ok_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!ok_) why_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return ok_; }
  const std::string& why() const { return why_; }

private:
  std::string dir_, why_;
  bool ok_ = false;
};

// After a failed run: exit code 1, the reason and the intact checkpoint named, no
// temporary checkpoint left, and the checkpoint readable.
void check_failed_cleanly(const GliaProcess& p, int code, const std::string& reason,
                          const std::string& ckpt) {
  INFO(p.err());
  CHECK(code == 1);
  CHECK_THAT(p.err(), Catch::Contains(reason));
  CHECK_THAT(p.err(), Catch::Contains("is intact: " + ckpt));
  CHECK_FALSE(fs::exists(ckpt + ".tmp"));
  CHECK_NOTHROW(read_checkpoint(ckpt));
}

// The output filled the disk: the checkpoint and output, copied to a disk with room,
// resume to exactly the output of a run that had room all along.
void check_resumes_elsewhere(const std::string& out, const std::string& ckpt, const ScratchDir& dir,
                             const std::string& reference) {
  const std::string out2 = dir / "moved.h5", ckpt2 = dir / "moved.ckpt.h5";
  fs::copy_file(out, out2, fs::copy_options::overwrite_existing);
  fs::copy_file(ckpt, ckpt2, fs::copy_options::overwrite_existing);
  REQUIRE(run_to_end({"run", "--resume", ckpt2, "-o", out2, "-q"}, dir, "moved") == 0);
  check_same_output(reference, out2, {"E", "I"}, {"E/V_m"});
}

} // namespace

TEST_CASE("full disk (tmpfs): exit 1 with the reason, the previous checkpoint whole and resumable",
          "[disk]") {
  ScratchDir dir("disk-tmpfs");
  REQUIRE(run_to_end(with({"run", kBrunel, "-q", "-o", dir / "ref.h5"}, growing_run(300)), dir,
                     "ref") == 0);
  {
    // The output fills 8 MiB after about 150 ms; checkpoints every 10 ms.
    Tmpfs small(dir / "small", 8u << 20);
    if (!small.mounted()) {
      WARN("cannot mount a tmpfs here (" << small.why()
                                         << "): the file-size-limit test below stands in for it");
      return;
    }
    const std::string out = dir / "small/out.h5", ckpt = dir / "small/out.ckpt.h5";
    GliaProcess p(
        with({"run", kBrunel, "-q", "-o", out, "--checkpoint-every", "10"}, growing_run(300)), dir,
        "full");
    const int code = p.wait();
    check_failed_cleanly(p, code, "No space left on device", ckpt);
    CHECK_THAT(p.err(), Catch::Contains("output file '" + out + "'"));
    check_resumes_elsewhere(out, ckpt, dir, dir / "ref.h5");
  }
  {
    // The checkpoint is what does not fit: room for the output and one and a half
    // checkpoints (of a plastic network: 8 MB of weights), not for the replacement.
    const std::vector<std::string> plastic{kStdp,
                                           "-q",
                                           "--set",
                                           "population.E.size=1000",
                                           "--set",
                                           "population.I.size=250",
                                           "--checkpoint-every",
                                           "10"};
    REQUIRE(run_to_end(
                with(with({"run"}, plastic), {"-o", dir / "probe.h5", "--set", "run.duration=10"}),
                dir, "probe") == 0);
    const auto size =
        fs::file_size(dir / "probe.h5") + fs::file_size(dir / "probe.ckpt.h5") * 3 / 2;
    Tmpfs small(dir / "small2", size);
    REQUIRE(small.mounted());
    const std::string out = dir / "small2/out.h5", ckpt = dir / "small2/out.ckpt.h5";
    GliaProcess p(with(with({"run"}, plastic), {"-o", out, "--set", "run.duration=100"}), dir,
                  "full2");
    const int code = p.wait();
    check_failed_cleanly(p, code, "No space left on device", ckpt);
    CHECK_THAT(p.err(), Catch::Contains("checkpoint '" + ckpt + "'"));
    CHECK(read_checkpoint(ckpt).info.step == 100u); // the first one, at 10 ms
  }
}

TEST_CASE("file-size limit (RLIMIT_FSIZE, no privileges needed): exit 1, checkpoints stay whole",
          "[disk]") {
  ScratchDir dir("disk-ulimit");
  {
    // The output grows past 4 MiB: EFBIG ("File too large"), reported, not a crash.
    const std::string out = dir / "out.h5", ckpt = dir / "out.ckpt.h5";
    GliaProcess p(
        with({"run", kBrunel, "-q", "-o", out, "--checkpoint-every", "5"}, growing_run(200)), dir,
        "limited", 4u << 20);
    const int code = p.wait();
    check_failed_cleanly(p, code, "File too large", ckpt);
    REQUIRE(run_to_end(with({"run", kBrunel, "-q", "-o", dir / "ref.h5"}, growing_run(200)), dir,
                       "ref") == 0);
    check_resumes_elsewhere(out, ckpt, dir, dir / "ref.h5");
  }
  {
    // A checkpoint larger than the limit (8 MB of plastic weights; the output stays
    // under 2 MB): the one already there is left as it was.
    const std::string out = dir / "c.h5", ckpt = dir / "c.ckpt.h5";
    const std::vector<std::string> args = {"run",
                                           kStdp,
                                           "-q",
                                           "-o",
                                           out,
                                           "--checkpoint-every",
                                           "1",
                                           "--set",
                                           "population.E.size=1000",
                                           "--set",
                                           "population.I.size=250",
                                           "--set",
                                           "run.duration=2"};
    REQUIRE(run_to_end(args, dir, "first") == 0);
    const std::string before = slurp(ckpt);
    GliaProcess p(args, dir, "second", 4u << 20);
    const int code = p.wait();
    INFO(p.err());
    CHECK(code == 1);
    CHECK_THAT(p.err(),
               Catch::Contains("checkpoint '" + ckpt + "'") && Catch::Contains("File too large"));
    CHECK_FALSE(fs::exists(ckpt + ".tmp"));
    CHECK(slurp(ckpt) == before);
  }
}

TEST_CASE("a checkpoint path that cannot be written is refused before running", "[disk]") {
  ScratchDir dir("disk-path");
  const RunResult r = run_glia("run " + kBrunel + " -q -o " + (dir / "o.h5") +
                                   " --checkpoint-every 5 --checkpoint " + (dir / "missing/c.h5") +
                                   " --set population.E.size=100",
                               dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("missing") && Catch::Contains("does not exist"));
  CHECK_FALSE(fs::exists(dir / "o.h5"));
}

TEST_CASE("NaN guard: the first non-finite value is found, by population, neuron, variable",
          "[guard]") {
  const Experiment ex = load_experiment(
      kBrunel, {"population.E.size=1000", "population.I.size=250", "run.duration=20"});
  for (int threads : {1, 2}) {
    INFO(threads << " thread(s)");
    auto net = build_network(ex, threads);
    Simulator sim(*net);
    Population& e = *net->populations()[0];
    Population& i = *net->populations()[1];
    // Planted in both thread blocks and in the second population: the smallest
    // (population, neuron, variable) is the one reported. An infinite refractory count
    // holds the neuron (and its V_m) for good; lif_delta would reset a NaN V_m otherwise.
    const double inf = std::numeric_limits<double>::infinity();
    e.state(1)[900] = inf;
    e.state(1)[7] = inf;
    e.state(0)[7] = std::numeric_limits<double>::quiet_NaN();
    i.state(1)[3] = inf;
    REQUIRE(sim.finite_check_interval() == 10u); // every 1 ms at dt = 0.1 ms
    CHECK(sim.run(200) == RunEnd::non_finite);
    const NonFinite& nf = sim.non_finite();
    CHECK(nf.population == 0);
    CHECK(nf.neuron == 7u);
    CHECK(nf.variable == 0);
    CHECK(std::isnan(nf.value));
    CHECK(nf.step == 9u); // the first check, after step 9 (t = 1 ms)
    CHECK(sim.current_step() == 10u);
  }
  auto net = build_network(ex, 1);
  Simulator sim(*net);
  CHECK(sim.run(200) == RunEnd::completed); // a healthy network passes every check
}

TEST_CASE("NaN guard: an unstable experiment stops with exit 3 and says where and when",
          "[guard]") {
  ScratchDir dir("guard");
  // Huge excitatory and inhibitory weights: their sum overflows to -inf, then NaN.
  const std::string args = " -q --set population.E.size=1000 --set population.I.size=250 "
                           "--set run.duration=100 --set projection.0.weight=1e306 "
                           "--set projection.2.weight=-1e307 --checkpoint-every 1";
  std::string message;
  for (int threads : {1, 2}) {
    const std::string out = dir / ("nan" + std::to_string(threads) + ".h5");
    const RunResult r = run_glia(
        "run " + kBrunel + " -o " + out + " --threads " + std::to_string(threads) + args, dir);
    INFO(r.err);
    CHECK(r.code == 3);
    const auto at = r.err.find("non-finite state");
    REQUIRE(at != std::string::npos);
    const std::string line = r.err.substr(at, r.err.find('\n', at) - at);
    CHECK_THAT(line, Catch::Contains("population 'E'") && Catch::Contains("neuron ") &&
                         Catch::Contains("variable 'V_m'") && Catch::Contains("at t = "));
    if (message.empty()) message = line;
    CHECK(line == message); // the same report for any thread count
    // The output holds the run up to the stop; the last checkpoint is from before it.
    CHECK(read_attribute(out, "/metrics", "simulated_ms") > 0.0);
    const Checkpoint c = read_checkpoint(dir / ("nan" + std::to_string(threads) + ".ckpt.h5"));
    CHECK(static_cast<double>(c.info.step) * 0.1 < read_attribute(out, "/metrics", "simulated_ms"));
    for (double v : c.state.get<double>("population/0/state/V_m")) REQUIRE(std::isfinite(v));
  }
}
