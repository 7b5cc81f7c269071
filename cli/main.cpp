// The glia command line: run, sweep, check and info.
//   glia run FILE [-o OUT.h5] [--set key=value]... [--threads N] [--quiet]
//            [--checkpoint-every MS] [--checkpoint CKPT] [--max-wall S] [--ignore-memory-limit]
//   glia run --resume CKPT [FILE] [--set key=value]... [--threads N] ...
//   glia sweep FILE [-o DIR] [--jobs N] [--shard i/n] [--set key=value]... [--dry-run]
//   glia check FILE [--set key=value]... [--threads N]
//   glia info [MODEL]
// Exit codes (cli/run_control.hpp): 0 success, 1 I/O and other failures, 2 bad input
// (experiment, arguments, output path, checkpoint, too little memory), 3 non-finite state,
// 75 stopped by --max-wall, 128 + signal when stopped by SIGINT (130) or SIGTERM (143).
#include "cli/commands.hpp"
#include "glia_version.hpp"
#include "gpu/backend.hpp"

#include <CLI/CLI.hpp>
#include <hdf5.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // HDF5 would otherwise close its files again at exit, and HDF5 1.10 crashes doing so
  // for a file whose close failed (a full disk). glia closes every file itself.
  H5dont_atexit();
  CLI::App app{"glia: a simulator for spiking neural networks"};
  app.set_version_flag("--version", std::string("glia ") + GLIA_VERSION +
                                        "\ncuda backend: " + glia::gpu::cuda_build_description());
  app.require_subcommand(1);

  glia::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run an experiment file and write the results (HDF5)");
  run_cmd->add_option("file", run.experiment,
                      "experiment file (TOML); with --resume optional, and checked against the "
                      "checkpoint's");
  run_cmd->add_option("-o,--output", run.output,
                      "output file (default: results/<experiment name>.h5)");
  run_cmd->add_option("--set", run.overrides, "override a value: key=value (repeatable)")
      ->take_all();
  run_cmd->add_option("--threads", run.threads, "threads (overrides run.threads)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_flag("-q,--quiet", run.quiet, "no progress line");
  run_cmd->add_option("--checkpoint-every", run.checkpoint_every,
                      "write a checkpoint every MS ms of model time (and at the end)");
  run_cmd->add_option("--checkpoint", run.checkpoint,
                      "checkpoint file (default: OUT.ckpt.h5, or the one resumed from)");
  run_cmd->add_option("--resume", run.resume,
                      "continue the run saved in this checkpoint, appending to its output");
  run_cmd->add_option("--max-wall", run.max_wall,
                      "stop cleanly, with a checkpoint, after this many seconds (exit code 75)");
  run_cmd->add_flag("--ignore-memory-limit", run.ignore_memory_limit,
                    "run even if the memory estimate exceeds the memory available");

  glia::SweepOptions sweep;
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "Run every point of an experiment's [sweep] table, one glia run per point");
  sweep_cmd->add_option("file", sweep.experiment, "experiment file (TOML) with a [sweep] table")
      ->required();
  sweep_cmd->add_option("-o,--output", sweep.output,
                        "directory for the points' files and summary.csv (default: "
                        "results/<experiment name>_sweep)");
  sweep_cmd
      ->add_option("--set", sweep.overrides,
                   "override a value of every point: key=value (repeatable)")
      ->take_all();
  sweep_cmd
      ->add_option("--jobs", sweep.jobs,
                   "points run at once (default: hardware threads / threads_per_point)")
      ->check(CLI::PositiveNumber);
  sweep_cmd->add_option("--shard", sweep.shard,
                        "run only part i of n (1-based): the points whose number - 1 is i - 1 "
                        "modulo n");
  sweep_cmd->add_flag("--dry-run", sweep.dry_run, "list the points and exit");

  glia::CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Validate an experiment file without running it");
  check_cmd->add_option("file", check.experiment, "experiment file (TOML)")->required();
  check_cmd->add_option("--set", check.overrides, "override a value: key=value (repeatable)")
      ->take_all();
  check_cmd->add_option("--threads", check.threads, "threads, for the memory estimate")
      ->check(CLI::PositiveNumber);

  std::string model;
  auto* info_cmd = app.add_subcommand("info", "List models, or describe one model's parameters");
  info_cmd->add_option("model", model, "model name");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (*run_cmd) return glia::run_command(run);
    if (*sweep_cmd) return glia::sweep_command(sweep);
    if (*check_cmd) return glia::check_command(check);
    if (*info_cmd) return glia::info_command(model);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
