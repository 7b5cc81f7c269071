// The [sweep] table of an experiment file: which values of which keys `glia sweep`
// runs, and with which seeds. The table is expanded here into an ordered list of
// points, each a set of --set overrides, and every point is checked against the
// experiment exactly as `glia run --set` would check it, so a key that names nothing
// or a value out of range is reported (file, line, key) before anything runs.
//
//   [sweep]
//   mode = "grid"              # every combination of the values | "random": `samples` draws
//   seeds = [1, 2]             # run.seed of each point's runs (or seeds = N: 1..N)
//   threads_per_point = 1      # --threads of each point's run
//   [sweep.values]             # --set keys; grid: arrays; random: arrays (a uniform choice)
//   "projection.0.weight" = [0.05, 0.1]   # or { dist = "uniform" | "log_uniform", low, high,
//                                         #      integer = false }
#pragma once

#include "io/experiment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace glia {

struct SweepPoint {
  int number = 0;                  // 1-based, the order of the sweep
  int combination = 0;             // 0-based index of the values (the same for each seed)
  std::uint32_t seed = 0;          // run.seed of the point
  std::vector<std::string> values; // TOML text of each key's value, in the order of `keys`

  // "point_0003_seed_2": the stem of the point's files.
  std::string stem() const;
};

struct SweepSpec {
  enum class Mode { grid, random };
  Mode mode = Mode::grid;
  std::vector<std::string> keys; // in file order
  std::vector<SourceLocation> key_where;
  std::vector<std::uint32_t> seeds;
  int samples = 0;               // random mode
  std::uint32_t sample_seed = 1; // random mode: keys the draws
  int threads_per_point = 1;
  std::vector<SweepPoint> points; // combinations x seeds, seeds innermost
  // Per key, the values the file lists (grid arrays, random choices) and where: messages
  // about a value point at its line.
  std::vector<std::vector<std::pair<std::string, SourceLocation>>> listed;
  SourceLocation where; // of the [sweep] table

  int combinations() const {
    return seeds.empty() ? 0 : static_cast<int>(points.size() / seeds.size());
  }
  // "--set" overrides of a point: each key=value, then run.seed=S.
  std::vector<std::string> overrides(const SweepPoint& p) const;
  // "seed 2, modulator.astro.w_astro=0.01"
  std::string describe(const SweepPoint& p) const;
  // "grid of 5 x 2 values, 2 seeds: 20 points"
  std::string describe() const;
};

// The [sweep] table of the experiment text, expanded; nullopt when there is none.
// `run_seed` is the experiment's run.seed, the one seed when the table gives none.
// Throws InputError (file:line:col: sweep.key: message).
std::optional<SweepSpec> parse_sweep(const std::string& text, const std::string& path,
                                     std::uint32_t run_seed);

// Checks every key and value of the sweep, and every combination of values, against the
// experiment (after `overrides`, the command line's --set) as --set would apply them.
// Throws InputError naming the [sweep.values] entry, its line and the reason.
void validate_sweep(const SweepSpec& sweep, const std::string& text, const std::string& path,
                    const std::vector<std::string>& overrides);

// Reads the experiment file and its [sweep] table and validates both (throws InputError;
// a file without [sweep] is an error here).
struct SweepPlan {
  std::string text;      // the file as read
  Experiment experiment; // after the command line's --set, before any point's
  SweepSpec sweep;
};
SweepPlan load_sweep(const std::string& path, const std::vector<std::string>& overrides);

} // namespace glia
