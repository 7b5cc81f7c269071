// The reduced microcircuit used by tests: --set overrides that scale every population of
// experiments/microcircuit.toml and every synapse count by the same factor (what
// experiments/microcircuit.py --scale writes), so that in-degrees stay those of the full model.
#pragma once

#include "io/experiment.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace glia::test {

inline std::vector<std::string> microcircuit_scaled(const Experiment& full, double scale,
                                                    double duration) {
  std::vector<std::string> set = {"run.duration=" + std::to_string(duration)};
  for (const auto& p : full.populations)
    set.push_back("population." + p.name + ".size=" +
                  std::to_string(static_cast<std::uint64_t>(std::round(p.size * scale))));
  for (const auto& p : full.projections)
    set.push_back("projection." + p.name + ".connect.N=" +
                  std::to_string(static_cast<std::uint64_t>(
                      std::round(static_cast<double>(p.connect.total) * scale))));
  return set;
}

} // namespace glia::test
