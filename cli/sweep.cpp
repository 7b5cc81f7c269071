// glia sweep: every point of an experiment's [sweep] table run as its own `glia run`
// child process, several at once (oneTBB), one HDF5 file per point and a summary
// table. Processes, not threads: a point that crashes, hits the NaN guard or runs out
// of memory takes no other point down, and a point runs exactly what `glia run` runs.
//
// DIR/point_NNNN_seed_S.h5    a point's output, renamed from .partial.h5 once its run
//                             ended with exit code 0: its presence means "done"
// DIR/point_NNNN_seed_S.log   the run's stdout and stderr, then "glia sweep: exit code N"
// DIR/point_NNNN_seed_S.failed.h5  what a failed run wrote (until it runs again)
// DIR/summary.csv             every point: values, status, exit code, /metrics
// DIR/.lock/                  flock(2) files: a point is run by one process at a time
//                             (shards sharing DIR, a run killed but still stopping)
#include "cli/commands.hpp"

#include "cli/progress.hpp"
#include "cli/run_control.hpp"
#include "io/hdf5_output.hpp"
#include "io/sweep.hpp"
#include "io/sweep_summary.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace glia {
namespace fs = std::filesystem;

namespace {

// Children running now, for the signal handler to pass SIGINT / SIGTERM on to (they are
// in their own process groups, so a terminal's Ctrl-C reaches only glia sweep).
constexpr int kMaxJobs = 1024;
std::atomic<pid_t> g_children[kMaxJobs];
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_sweep_signal(int sig) {
  g_stop = sig;
  for (auto& c : g_children) {
    const pid_t pid = c.load(std::memory_order_relaxed);
    if (pid > 0) ::kill(pid, sig);
  }
}

class SweepSignals {
public:
  SweepSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sweep_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SweepSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SweepSignals(const SweepSignals&) = delete;
  SweepSignals& operator=(const SweepSignals&) = delete;

private:
  struct sigaction old_int_ {
  }, old_term_{};
};

struct Shard {
  int index = 1, count = 1; // 1-based: points with (number - 1) % count == index - 1
  bool mine(const SweepPoint& p) const { return (p.number - 1) % count == index - 1; }
};

Shard parse_shard(const std::string& text) {
  Shard s;
  if (text.empty()) return s;
  const auto slash = text.find('/');
  auto whole = [](const std::string& t, int& out) {
    if (t.empty() || t.size() > 9 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    out = std::stoi(t);
    return true;
  };
  if (slash == std::string::npos || !whole(text.substr(0, slash), s.index) ||
      !whole(text.substr(slash + 1), s.count) || s.count < 1 || s.index < 1 || s.index > s.count)
    throw InputError("--shard " + text + ": expected i/n with 1 <= i <= n (e.g. --shard 2/8)");
  return s;
}

std::string exit_meaning(int code) {
  switch (code) {
  case kExitFailure:
    return "I/O or other failure";
  case kExitBadInput:
    return "bad input";
  case kExitNonFinite:
    return "non-finite state";
  case kExitWallLimit:
    return "stopped by --max-wall";
  case 127:
    return "could not start";
  default:
    if (code > 128) return "killed by " + signal_name(code - 128);
    return "";
  }
}

// What a failed run's log says: its error lines ("glia: error: ..."), else its last `n`
// non-empty lines (stdout is flushed at exit, after the errors, so the errors would not
// be the last lines).
std::vector<std::string> failure_lines(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  std::vector<std::string> lines, errors;
  std::string line;
  while (std::getline(in, line)) {
    const auto cr = line.rfind('\r'); // a progress line redrawn in place
    if (cr != std::string::npos) line = line.substr(cr + 1);
    if (line.empty() || line.rfind("glia sweep:", 0) == 0) continue;
    if (line.find("error:") != std::string::npos) errors.push_back(line);
    lines.push_back(line);
    if (lines.size() > n) lines.erase(lines.begin());
  }
  if (errors.size() > n)
    errors.erase(errors.begin(), errors.end() - static_cast<std::ptrdiff_t>(n));
  return errors.empty() ? lines : errors;
}

// The exit code a finished run left at the end of its log ("glia sweep: exit code N"),
// -1 when the log has none (never ran, or ran by a sweep that was killed).
int logged_exit_code(const std::string& log) {
  std::ifstream in(log, std::ios::binary);
  if (!in) return -1;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  in.seekg(std::max<std::streamoff>(0, size - 256));
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string marker = "glia sweep: exit code ";
  const auto at = tail.rfind(marker);
  if (at == std::string::npos) return -1;
  return std::atoi(tail.c_str() + at + marker.size());
}

// The resolved experiment without its [sweep] tables (TomlWriter's text: one header per
// line), so that a sweep given more samples or seeds still recognises its done points.
std::string without_sweep(const std::string& resolved) {
  std::istringstream in(resolved);
  std::string out, line;
  bool skip = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '[')
      skip = line.rfind("[sweep]", 0) == 0 || line.rfind("[sweep.", 0) == 0;
    else if (line.rfind("sweep = ", 0) == 0)
      continue;
    if (!skip) out += line + "\n";
  }
  return out;
}

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(x, la));
    const bool gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) return "";
    if (!ga || !gb || la != lb)
      return "line " + std::to_string(line) + " of the resolved experiment is '" +
             (ga ? la : "(end)") + "' there, '" + (gb ? lb : "(end)") + "' now";
  }
}

struct Outcome {
  enum class State { pending, running, done, failed, busy, stopped } state = State::pending;
  int exit_code = -1;
};

class Sweep {
public:
  Sweep(const SweepOptions& opt, SweepPlan plan, fs::path dir, Shard shard)
      : opt_(opt), plan_(std::move(plan)), dir_(std::move(dir)), shard_(shard),
        outcomes_(plan_.sweep.points.size()) {}

  const SweepSpec& spec() const { return plan_.sweep; }
  std::string file(const SweepPoint& p, const char* suffix) const {
    return (dir_ / (p.stem() + suffix)).string();
  }
  std::string label(const SweepPoint& p) const {
    return "point " + std::to_string(p.number) + "/" + std::to_string(spec().points.size()) + " (" +
           spec().describe(p) + ")";
  }

  // The resolved experiment of a point, [sweep] left out: what its file's "experiment"
  // attribute holds.
  std::string resolved(const SweepPoint& p) const {
    std::vector<std::string> all = opt_.overrides;
    const auto extra = spec().overrides(p);
    all.insert(all.end(), extra.begin(), extra.end());
    return without_sweep(parse_experiment(plan_.text, opt_.experiment, all).resolved_text);
  }

  // Whether the point's output is there and whole. Throws InputError when it holds a run
  // of something else than this point (DIR reused for another sweep).
  bool done(const SweepPoint& p) {
    const std::string path = file(p, ".h5");
    std::error_code ec;
    if (!fs::exists(path, ec)) return false;
    const PointFile pf = point_file(path);
    if (!pf.readable || pf.status != "complete") return false;
    const std::string now = resolved(p), then = without_sweep(pf.experiment);
    if (then != now)
      throw InputError(path + ": holds a run of another experiment than " + label(p) + " (" +
                       first_difference(then, now) +
                       "): remove it, or give glia sweep another -o directory");
    return true;
  }

  // --dry-run: the shard's points and what a run would do with each.
  void list() {
    say("glia sweep: %s: %s\n", opt_.experiment.c_str(), spec().describe().c_str());
    for (const auto& p : spec().points) {
      if (!shard_.mine(p)) continue;
      const int code = logged_exit_code(file(p, ".log"));
      const std::string what = done(p)    ? "done"
                               : code > 0 ? "to run again (exit code " + std::to_string(code) + ")"
                                          : "to run";
      say("%s: %s\n", label(p).c_str(), what.c_str());
    }
  }

  int run() {
    const auto& points = spec().points;
    say("glia sweep: %s: %s\n", opt_.experiment.c_str(), spec().describe().c_str());
    std::vector<const SweepPoint*> pending;
    int skipped = 0, mine = 0;
    for (const auto& p : points) {
      if (!shard_.mine(p)) continue;
      ++mine;
      if (done(p)) {
        outcomes_[index(p)] = {Outcome::State::done, 0};
        ++skipped;
        say("%s skipped: done already (%s)\n", label(p).c_str(), file(p, ".h5").c_str());
      } else {
        pending.push_back(&p);
      }
    }
    for (const auto& p : points)
      if (!shard_.mine(p)) (void)done(p); // another shard's: checked the same way
    const int jobs = std::max(1, std::min<int>({opt_.jobs > 0 ? opt_.jobs : default_jobs(),
                                                static_cast<int>(pending.size()), kMaxJobs}));
    say("  %s%d point%s to run, %d done, %d job%s; output %s\n",
        shard_.count > 1
            ? ("shard " + std::to_string(shard_.index) + "/" + std::to_string(shard_.count) + ": ")
                  .c_str()
            : "",
        static_cast<int>(pending.size()), pending.size() == 1 ? "" : "s", skipped, jobs,
        jobs == 1 ? "" : "s", dir_.string().c_str());
    write_summary();

    std::atomic<std::size_t> next{0};
    tbb::task_arena arena(jobs);
    arena.execute([&] {
      tbb::task_group group;
      for (int slot = 0; slot < jobs; ++slot)
        group.run([&, slot] {
          for (;;) {
            if (g_stop != 0) return;
            const std::size_t k = next.fetch_add(1);
            if (k >= pending.size()) return;
            run_point(*pending[k], slot);
          }
        });
      group.wait();
    });

    int done_n = 0, failed = 0, busy = 0, stopped = 0;
    for (const auto& p : points) {
      if (!shard_.mine(p)) continue;
      switch (outcomes_[index(p)].state) {
      case Outcome::State::done:
        ++done_n;
        break;
      case Outcome::State::failed:
        ++failed;
        break;
      case Outcome::State::busy:
        ++busy;
        break;
      default:
        ++stopped;
      }
    }
    write_summary();
    say("sweep: %d of %d point%s done (%d skipped), %d failed", done_n, mine, mine == 1 ? "" : "s",
        skipped, failed);
    if (busy) say(", %d run by another process", busy);
    if (stopped) say(", %d not run", stopped);
    say("; summary %s\n", (dir_ / "summary.csv").string().c_str());
    if (g_stop != 0) {
      say("glia sweep: stopped by %s; run the same command again to continue\n",
          signal_name(g_stop).c_str());
      return 128 + g_stop;
    }
    if (busy)
      say("glia sweep: run it again once the other process is done, to take its points if it "
          "stopped\n");
    return failed || busy ? kExitFailure : kExitOk;
  }

private:
  std::size_t index(const SweepPoint& p) const { return static_cast<std::size_t>(p.number - 1); }
  int default_jobs() const {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, hw / spec().threads_per_point);
  }

  template <class... A> void say(const char* format, A... args) {
    std::lock_guard lock(print_mutex_);
    std::printf(format, args...);
    std::fflush(stdout);
  }

  // Point files are read once per version (mtime and size), so rewriting the summary
  // after each point opens only the files that are new.
  PointFile point_file(const std::string& path) {
    std::lock_guard lock(hdf5_mutex_);
    struct stat st {};
    ::stat(path.c_str(), &st);
    const auto version =
        std::pair(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000ll + st.st_mtim.tv_nsec,
                  static_cast<long long>(st.st_size));
    auto it = files_.find(path);
    if (it == files_.end() || it->second.first != version)
      it = files_.insert_or_assign(path, std::pair(version, read_point_file(path))).first;
    return it->second.second;
  }

  // An exclusive flock on the point's lock file, or -1 when another process holds it.
  int lock_point(const SweepPoint& p) {
    const std::string path = (dir_ / ".lock" / (p.stem() + ".lock")).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw OutputError("cannot create lock file '" + path + "': " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void run_point(const SweepPoint& p, int slot) {
    auto set = [&](Outcome::State state, int code) {
      std::lock_guard lock_summary(summary_mutex_); // write_summary reads it from other slots
      outcomes_[index(p)] = {state, code};
    };
    const int lock = lock_point(p);
    if (lock < 0) {
      set(Outcome::State::busy, -1);
      say("%s left to the process running it (another shard, or a sweep still stopping)\n",
          label(p).c_str());
      return;
    }
    // Another shard may have finished it between the scan and the lock.
    if (done(p)) {
      ::close(lock);
      set(Outcome::State::done, 0);
      say("%s skipped: done already (%s)\n", label(p).c_str(), file(p, ".h5").c_str());
      return;
    }
    const std::string partial = file(p, ".partial.h5"), final_path = file(p, ".h5"),
                      log = file(p, ".log");
    std::error_code ec;
    fs::remove(partial, ec);
    fs::remove(file(p, ".partial.ckpt.h5"), ec);
    fs::remove(file(p, ".failed.h5"), ec);

    std::vector<std::string> args = {"glia",
                                     "run",
                                     opt_.experiment,
                                     "-o",
                                     partial,
                                     "--threads",
                                     std::to_string(spec().threads_per_point),
                                     "-q"};
    for (const auto& o : opt_.overrides) args.insert(args.end(), {"--set", o});
    for (const auto& o : spec().overrides(p)) args.insert(args.end(), {"--set", o});
    std::string command;
    for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      ::close(lock);
      throw OutputError("cannot write '" + log + "': " + std::strerror(errno));
    }
    const std::string head = "glia sweep: " + label(p) + "\nglia sweep: " + command + "\n";
    if (::write(log_fd, head.data(), head.size()) < 0) { /* the log is a courtesy */
    }
    set(Outcome::State::running, -1);
    const auto start = std::chrono::steady_clock::now();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec. The child stops (SIGTERM,
      // a clean stop) when glia sweep dies, even by SIGKILL; it keeps the point's lock
      // (its descriptor, inherited) until it has exited.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(128 + SIGTERM);
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::fcntl(lock, F_SETFD, 0);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGINT, &dfl, nullptr);
      ::sigaction(SIGTERM, &dfl, nullptr);
      sigset_t none; // whatever this thread had blocked, glia run must see its signals
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid < 0) {
      ::close(lock);
      set(Outcome::State::failed, 127);
      say("%s failed: cannot start glia run: %s\n", label(p).c_str(), std::strerror(errno));
      return;
    }
    g_children[slot].store(pid);
    if (g_stop != 0) ::kill(pid, g_stop); // a signal that came before the pid was known
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_children[slot].store(0);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    {
      std::ofstream(log, std::ios::app)
          << "glia sweep: exit code " << code << " after " << format_seconds(secs) << "\n";
    }
    bool renamed = false;
    if (code == 0) renamed = ::rename(partial.c_str(), final_path.c_str()) == 0;
    ::close(lock); // after the rename: whoever takes the lock next sees the point done
    if (renamed) {
      set(Outcome::State::done, 0);
      say("%s done in %s\n", label(p).c_str(), format_seconds(secs).c_str());
    } else if (g_stop != 0 && (code == 128 + g_stop || code == 128 + SIGKILL)) {
      fs::remove(partial, ec); // it runs again from the start
      fs::remove(file(p, ".partial.ckpt.h5"), ec);
      set(Outcome::State::stopped, code);
      say("%s stopped by %s; it runs again next time\n", label(p).c_str(),
          signal_name(g_stop).c_str());
    } else {
      set(Outcome::State::failed, code == 0 ? kExitFailure : code);
      std::string text = label(p) + " failed: exit code " + std::to_string(code);
      const std::string meaning = code == 0 ? "no output file " + partial : exit_meaning(code);
      if (!meaning.empty()) text += " (" + meaning + ")";
      text += " after " + format_seconds(secs) + "; log " + log;
      // What the run wrote up to its failure (a NaN guard stop leaves the run up to then).
      const std::string failed_path = file(p, ".failed.h5");
      fs::remove(failed_path, ec);
      if (fs::exists(partial, ec) && ::rename(partial.c_str(), failed_path.c_str()) == 0)
        text += ", output up to the failure " + failed_path;
      fs::remove(file(p, ".partial.ckpt.h5"), ec);
      text += "\n";
      for (const auto& l : failure_lines(log, 6)) text += "    " + l + "\n";
      std::lock_guard lock_print(print_mutex_);
      std::fputs(text.c_str(), stderr);
      std::fflush(stderr);
    }
    write_summary();
  }

  // Every point of the sweep as this process sees it, shards included: done when its
  // file is there, failed when its log says so, else what this process knows.
  void write_summary() {
    std::lock_guard lock(summary_mutex_);
    const std::string lock_path = (dir_ / ".lock" / "summary.lock").string();
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::flock(fd, LOCK_EX); // shards write one at a time, the last sees all
    std::vector<SummaryRow> rows(spec().points.size());
    for (const auto& p : spec().points) {
      SummaryRow& r = rows[index(p)];
      const Outcome o = outcomes_[index(p)];
      std::error_code ec;
      const std::string path = file(p, ".h5");
      if (fs::exists(path, ec)) {
        const PointFile pf = point_file(path);
        if (pf.readable && pf.status == "complete") {
          r.status = "done";
          r.exit_code = 0;
          r.metrics = pf.metrics;
          continue;
        }
      }
      // 130 / 143: stopped by SIGINT / SIGTERM, to run again; anything else failed.
      auto stopped = [](int code) { return code == 128 + SIGINT || code == 128 + SIGTERM; };
      if (o.state == Outcome::State::running) {
        r.status = "running";
      } else if (o.state == Outcome::State::failed || o.state == Outcome::State::stopped) {
        r.status = o.state == Outcome::State::failed ? "failed" : "stopped";
        r.exit_code = o.exit_code;
      } else if (const int c = logged_exit_code(file(p, ".log"));
                 c > 0 && o.state != Outcome::State::busy) {
        r.status = stopped(c) ? "stopped" : "failed"; // by an earlier sweep or another shard
        r.exit_code = c;
      }
    }
    try {
      write_file_atomically((dir_ / "summary.csv").string(), summary_csv(spec(), rows));
    } catch (const OutputError& e) {
      std::lock_guard lock_print(print_mutex_);
      std::fprintf(stderr, "glia sweep: error: %s\n", e.what());
    }
    if (fd >= 0) ::close(fd);
  }

  const SweepOptions& opt_;
  SweepPlan plan_;
  fs::path dir_;
  Shard shard_;
  std::vector<Outcome> outcomes_; // per point; written under summary_mutex_ once running
  std::mutex print_mutex_, hdf5_mutex_, summary_mutex_;
  std::map<std::string, std::pair<std::pair<long long, long long>, PointFile>> files_;
};

} // namespace

int sweep_command(const SweepOptions& opt) {
  SweepSignals signals;
  std::optional<SweepPlan> plan;
  Shard shard;
  fs::path dir;
  try {
    shard = parse_shard(opt.shard);
    if (opt.jobs < 0) throw InputError("--jobs " + std::to_string(opt.jobs) + ": must be >= 1");
    plan = load_sweep(opt.experiment, opt.overrides);
    dir = opt.output.empty()
              ? fs::path("results") / (fs::path(opt.experiment).stem().string() + "_sweep")
              : fs::path(opt.output);
  } catch (const InputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitBadInput;
  }
  if (opt.dry_run) {
    try {
      Sweep(opt, std::move(*plan), dir, shard).list();
      return kExitOk;
    } catch (const InputError& e) {
      std::fprintf(stderr, "glia: error: %s\n", e.what());
      return kExitBadInput;
    }
  }
  try {
    std::error_code ec;
    fs::create_directories(dir / ".lock", ec);
    if (ec)
      throw OutputError("cannot create sweep directory '" + dir.string() + "': " + ec.message());
    if (::access(dir.c_str(), W_OK) != 0)
      throw OutputError("cannot write into sweep directory '" + dir.string() + "'");
  } catch (const OutputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitBadInput;
  }
  try {
    Sweep sweep(opt, std::move(*plan), dir, shard);
    return sweep.run();
  } catch (const InputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const OutputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitFailure;
  }
}

} // namespace glia
