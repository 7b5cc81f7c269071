// For tests of bad input: the message that parsing an experiment text raises.
#pragma once

#include "io/experiment.hpp"

#include <string>

namespace glia::test {

// The InputError's message for `text` read as file `path`, or "no error".
inline std::string input_error_of(const std::string& text, const std::string& path) {
  try {
    parse_experiment(text, path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace glia::test
