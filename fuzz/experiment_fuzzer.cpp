// libFuzzer target: the experiment-file parser and validator (parse_experiment in
// io/experiment.cpp) and the [sweep] table's (io/sweep.cpp) on arbitrary input. Lines at the start
// of the input of the form
// "#set key=value" are passed as --set overrides, so the override parser is fuzzed too
// (they are TOML comments, so the seed corpus of experiments/*.toml works unchanged).
// Every rejection must be an InputError with a message; anything else escaping, a
// crash, a hang or a sanitizer report is a bug.
#include "io/experiment.hpp"
#include "io/sweep.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  std::size_t at = 0;
  while (text.compare(at, 5, "#set ") == 0 && overrides.size() < 8) {
    const std::size_t end = text.find('\n', at);
    overrides.push_back(text.substr(at + 5, end == std::string::npos ? end : end - at - 5));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  try {
    // A directory that does not exist: connection files named in the input are not found.
    const glia::Experiment ex =
        glia::parse_experiment(text, "/nonexistent-glia-fuzz/fuzz.toml", overrides);
    // The resolved text of a valid experiment is valid and resolves to itself.
    const glia::Experiment again = glia::parse_experiment(ex.resolved_text, ex.path);
    if (again.resolved_text != ex.resolved_text) __builtin_trap();
    // The sweep's points, checked against the experiment when there are few (each
    // check parses the experiment again).
    const auto sweep = glia::parse_sweep(text, ex.path, ex.run.seed);
    if (sweep && sweep->points.size() <= 16) glia::validate_sweep(*sweep, text, ex.path, overrides);
  } catch (const glia::InputError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
