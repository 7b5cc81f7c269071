// Helpers for tests that interrupt the glia binary: start it in the background (with
// an optional file-size limit), signal or kill it, wait for it, and compare what two
// runs wrote (output files and checkpoints) bit for bit.
#pragma once

#include "io/checkpoint.hpp"
#include "run_glia.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace glia::test {

// `a` followed by `b` (argument lists).
inline std::vector<std::string> with(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A glia process running in the background; stdout and stderr go to <tag>.out/.err.
class GliaProcess {
public:
  // `file_limit` > 0: RLIMIT_FSIZE in bytes (writes beyond fail with EFBIG).
  GliaProcess(const std::vector<std::string>& args, const ScratchDir& dir, const std::string& tag,
              rlim_t file_limit = 0)
      : out_(dir / (tag + ".out")), err_(dir / (tag + ".err")) {
    std::vector<std::string> all{GLIA_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      if (file_limit > 0) {
        const rlimit lim{file_limit, file_limit};
        ::setrlimit(RLIMIT_FSIZE, &lim);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~GliaProcess() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  GliaProcess(const GliaProcess&) = delete;
  GliaProcess& operator=(const GliaProcess&) = delete;

  void signal(int sig) const { ::kill(pid_, sig); }
  // Exit code, or -signal when killed by one.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    done_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  bool running() {
    int status = 0;
    if (done_) return false;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    done_ = true;
    return false;
  }
  // Waits until stderr contains `text` (or the process ends); true if it appeared.
  bool wait_for(const std::string& text, double timeout_s = 60) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < until) {
      if (slurp(err_).find(text) != std::string::npos) return true;
      if (!running()) return slurp(err_).find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::string err() const { return slurp(err_); }
  std::string out() const { return slurp(out_); }

private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
};

// Runs glia to the end and returns its exit code (stderr shown on failure).
inline int run_to_end(const std::vector<std::string>& args, const ScratchDir& dir,
                      const std::string& tag, rlim_t file_limit = 0) {
  GliaProcess p(args, dir, tag, file_limit);
  const int code = p.wait();
  if (code != 0) UNSCOPED_INFO(tag << " stderr: " << p.err());
  return code;
}

inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// The spike reports of `populations` and the state reports `reports` of two output files
// are bitwise the same (and not empty).
inline void check_same_output(const std::string& a, const std::string& b,
                              const std::vector<std::string>& populations,
                              const std::vector<std::string>& reports = {}) {
  for (const auto& p : populations) {
    INFO("population " << p);
    const auto ta = read_dataset<double>(a, "/spikes/" + p + "/timestamps");
    CHECK(!ta.empty());
    CHECK(same_bits(ta, read_dataset<double>(b, "/spikes/" + p + "/timestamps")));
    CHECK(read_dataset<std::uint64_t>(a, "/spikes/" + p + "/node_ids") ==
          read_dataset<std::uint64_t>(b, "/spikes/" + p + "/node_ids"));
  }
  for (const auto& r : reports) {
    INFO("report " << r);
    const auto da = read_dataset<double>(a, "/report/" + r + "/data");
    CHECK(!da.empty());
    CHECK(same_bits(da, read_dataset<double>(b, "/report/" + r + "/data")));
    CHECK(same_bits(read_dataset<double>(a, "/report/" + r + "/mapping/time"),
                    read_dataset<double>(b, "/report/" + r + "/mapping/time")));
  }
}

// Every state entry of two checkpoints is bitwise the same; returns the number compared.
inline std::size_t check_same_state(const std::string& a, const std::string& b) {
  const Checkpoint ca = read_checkpoint(a), cb = read_checkpoint(b);
  CHECK(ca.info.step == cb.info.step);
  const auto& ea = ca.state.entries();
  const auto& eb = cb.state.entries();
  CHECK(ea.size() == eb.size());
  for (const auto& [key, entry] : ea) {
    INFO("checkpoint entry " << key);
    const auto it = eb.find(key);
    REQUIRE(it != eb.end());
    CHECK(entry.type == it->second.type);
    CHECK((entry.bytes == it->second.bytes)); // parenthesised: no dump of the bytes
  }
  return ea.size();
}

} // namespace glia::test
