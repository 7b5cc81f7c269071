// What `glia run` needs to survive long runs: signal handling that turns SIGINT and
// SIGTERM into a clean stop, the experiment of a resumed run, the memory guard, and the
// exit codes.
#pragma once

#include "io/checkpoint.hpp"
#include "io/experiment.hpp"

#include <csignal>
#include <string>
#include <vector>

namespace glia {

// Exit codes of glia (README.md, "Checkpoints and fault tolerance").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;    // I/O failure (full disk, unwritable file), other errors
inline constexpr int kExitBadInput = 2;   // experiment, arguments, checkpoint, memory guard
inline constexpr int kExitNonFinite = 3;  // NaN or infinite state
inline constexpr int kExitWallLimit = 75; // --max-wall reached (EX_TEMPFAIL: resume later)
// Stopped by signal s: 128 + s (130 SIGINT, 143 SIGTERM), as shells report it.

// While alive: the first SIGINT or SIGTERM is recorded instead of killing the process (a
// second one kills it as usual); SIGXFSZ is ignored, so that a write beyond the file-size
// limit fails (EFBIG) and is reported like a full disk instead of killing glia.
class SignalGuard {
public:
  SignalGuard();
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  // The signal received, 0 if none (async-signal-safe to read).
  static int received();

private:
  struct sigaction old_int_ {
  }, old_term_{};
  void (*old_xfsz_)(int) = SIG_DFL;
};

std::string signal_name(int sig);

// The experiment to continue a checkpoint with: the checkpoint's own, with `overrides`
// applied, or `file` (with `overrides`) when given, which must describe the same
// network. Only run.duration, run.threads and run.flush_interval may differ; the
// duration must not end before the checkpoint. Throws InputError.
Experiment resume_experiment(const Checkpoint& c, const std::string& file,
                             const std::vector<std::string>& overrides);

// Where checkpoints of a run writing `output` go by default: "x.h5" -> "x.ckpt.h5".
std::string default_checkpoint_path(const std::string& output);

// Prints the estimate (and refuses, returning false, when it exceeds the memory
// available and `ignore_limit` is false).
bool memory_guard(const Experiment& ex, int threads, bool checkpoints, bool ignore_limit);
// "about 1.2 GiB (synapses 1.1 GiB, ring buffers 40 MiB, ...)"
std::string describe_memory(const Experiment& ex, int threads, bool checkpoints);

} // namespace glia
