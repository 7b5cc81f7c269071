// experiments/brunel_stdp.toml for tests that shrink its populations with --set: the
// file's six chosen synapses are pairs that the full-size network connects, so they
// are left out; its weight histogram stays (checked like any other record) unless
// `weights` is false, for tests that size files and need the output small.
#pragma once

#include "run_glia.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace glia::test {

inline std::string small_stdp_experiment(bool weights = true) {
  std::string text = slurp(source_path("experiments/brunel_stdp.toml"));
  // Removes the [[record]] block around the first occurrence of `marker`.
  auto drop = [&text](const std::string& marker) {
    const auto at = text.find(marker);
    if (at == std::string::npos) return false;
    const auto begin = text.rfind("[[record]]", at);
    const auto end = text.find("\n\n", at);
    text.erase(begin, end == std::string::npos ? std::string::npos : end + 2 - begin);
    return true;
  };
  drop("synapses = [[");
  if (!weights)
    while (drop("type = \"weights\"")) {
    }
  const auto p = std::filesystem::temp_directory_path() /
                 ("glia-brunel_stdp-small-" + std::string(weights ? "w-" : "") +
                  std::to_string(::getpid()) + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

} // namespace glia::test
