// The subcommands of the glia binary. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace glia {

struct RunOptions {
  std::string experiment;
  std::string output;
  std::vector<std::string> overrides;
  int threads = 0;
  bool quiet = false;
  std::string resume;          // checkpoint to continue from
  std::string checkpoint;      // where checkpoints go (default: OUT as OUT.ckpt.h5)
  double checkpoint_every = 0; // ms of model time; 0: only when stopped early
  double max_wall = 0;         // s of wall time before a clean stop; 0: no limit
  bool ignore_memory_limit = false;
};

struct CheckOptions {
  std::string experiment;
  std::vector<std::string> overrides;
  int threads = 0;
};

struct SweepOptions {
  std::string experiment;
  std::string output; // directory (default: results/<experiment name>_sweep)
  std::vector<std::string> overrides;
  int jobs = 0;      // points at once; 0: hardware threads / threads_per_point
  std::string shard; // "i/n"; empty: every point
  bool dry_run = false;
};

int run_command(const RunOptions& opt);
int sweep_command(const SweepOptions& opt);
int check_command(const CheckOptions& opt);
int info_command(const std::string& model);

// Peak resident memory of this process so far, in bytes.
std::size_t peak_rss_bytes();

} // namespace glia
