// Signals, resumed experiments and the memory guard of `glia run` (see run_control.hpp).
#include "cli/run_control.hpp"

#include "cli/progress.hpp"
#include "io/memory_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace glia {
namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
}

// The resolved experiment without the [run] keys that may change on resume: what
// must be the same for a checkpoint to continue. Works on the text glia itself writes
// (io/experiment.cpp, TomlWriter): one "key = value" per line under a "[run]" header.
std::vector<std::string> network_lines(const std::string& resolved) {
  std::vector<std::string> out;
  std::istringstream in(resolved);
  std::string line, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '[') section = line;
    const bool free_key = section == "[run]" &&
                          (line.rfind("duration = ", 0) == 0 || line.rfind("threads = ", 0) == 0 ||
                           line.rfind("flush_interval = ", 0) == 0);
    if (!free_key) out.push_back(line);
  }
  return out;
}

} // namespace

SignalGuard::SignalGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND; // a second signal acts as usual
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
  old_xfsz_ = std::signal(SIGXFSZ, SIG_IGN);
}

SignalGuard::~SignalGuard() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  std::signal(SIGXFSZ, old_xfsz_);
}

int SignalGuard::received() {
  return g_signal;
}

std::string signal_name(int sig) {
  switch (sig) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  default:
    return "signal " + std::to_string(sig);
  }
}

Experiment resume_experiment(const Checkpoint& c, const std::string& file,
                             const std::vector<std::string>& overrides) {
  const CheckpointInfo& info = c.info;
  const Experiment saved = parse_experiment(info.experiment, info.experiment_path);
  Experiment ex = file.empty() ? parse_experiment(info.experiment, info.experiment_path, overrides)
                               : load_experiment(file, overrides);
  if (file.empty()) ex.source_text = info.experiment_source;
  const auto a = network_lines(saved.resolved_text), b = network_lines(ex.resolved_text);
  if (a != b) {
    const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    const std::string was = ia == a.end() ? "(nothing)" : "'" + *ia + "'";
    const std::string now = ib == b.end() ? "(nothing)" : "'" + *ib + "'";
    throw InputError((file.empty() ? std::string("--set") : file) +
                     ": the experiment differs from the one checkpointed in '" +
                     info.experiment_path + "': " + now + " where the checkpoint has " + was +
                     " (only run.duration, run.threads and run.flush_interval may change when "
                     "resuming)");
  }
  const auto steps = static_cast<std::uint64_t>(std::llround(ex.run.duration / ex.run.dt));
  if (steps < info.step)
    throw InputError("run.duration = " + std::to_string(ex.run.duration) +
                     " ms ends before the checkpoint, which is at t = " +
                     std::to_string(info.time_ms()) + " ms");
  return ex;
}

std::string default_checkpoint_path(const std::string& output) {
  std::filesystem::path p(output);
  if (p.extension() == ".h5") p.replace_extension();
  return p.string() + ".ckpt.h5";
}

std::string describe_memory(const Experiment& ex, int threads, bool checkpoints) {
  const MemoryEstimate m = estimate_memory(ex, threads, checkpoints);
  auto parts = m.parts;
  std::stable_sort(parts.begin(), parts.end(),
                   [](const auto& x, const auto& y) { return x.bytes > y.bytes; });
  std::string text = "about " + format_bytes(m.total()) + " (";
  const char* sep = "";
  for (const auto& p : parts) {
    if (p.bytes < 0.005 * m.total()) continue;
    text += sep + p.what + " " + format_bytes(p.bytes);
    sep = ", ";
  }
  char counts[96];
  std::snprintf(counts, sizeof counts, "; %.3g neurons, %.3g synapses", m.neurons, m.synapses);
  return text + counts + ")";
}

bool memory_guard(const Experiment& ex, int threads, bool checkpoints, bool ignore_limit) {
  const double need = estimate_memory(ex, threads, checkpoints).total();
  const auto available = available_memory_bytes();
  if (!available || need <= *available) return true;
  const std::string what = describe_memory(ex, threads, checkpoints);
  if (ignore_limit) {
    std::fprintf(stderr,
                 "glia: warning: the run needs %s, more than the %s available "
                 "(running anyway: --ignore-memory-limit)\n",
                 what.c_str(), format_bytes(*available).c_str());
    return true;
  }
  std::fprintf(stderr,
               "glia: error: the run needs %s, more than the %s of memory available "
               "(MemAvailable, or the cgroup's limit); nothing was built. Make the network "
               "smaller, or pass --ignore-memory-limit to run anyway\n",
               what.c_str(), format_bytes(*available).c_str());
  return false;
}

} // namespace glia
