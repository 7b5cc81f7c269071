// Declarative tables that models, rules and inputs use to describe their parameters,
// state variables and receptor ports once. Parsing, validation, `glia info`, error
// messages and recording names are all derived from these tables.
#pragma once

#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace glia {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
// Default of a parameter that has none: the experiment file must give it.
inline constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();

// Valid interval of a value. Open/closed ends are explicit so that messages can say
// "must be > 0" rather than "must be >= 0".
struct Range {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;

  constexpr bool contains(double v) const {
    if (!std::isfinite(v)) return false; // inf would pass "> 0" and then poison the propagators
    if (lo_open ? !(v > lo) : !(v >= lo)) return false;
    if (hi_open ? !(v < hi) : !(v <= hi)) return false;
    return true;
  }
  std::string describe() const;
};

inline constexpr Range kAny{};
inline constexpr Range kPositive{0.0, kInf, true, false};
inline constexpr Range kNonNegative{0.0, kInf, false, false};
inline constexpr Range kUnit{0.0, 1.0, false, false};

struct ParamSpec {
  std::string_view name;
  std::string_view unit;
  double default_value;
  Range range;
  std::string_view doc;
};

// width == 1 for a scalar per neuron; width == 0 means the model computes the width
// from its population-wide shared data (vector state, e.g. the ELM's memory units).
struct StateSpec {
  std::string_view name;
  std::string_view unit;
  double initial;
  std::string_view doc;
  int width = 1;
};

struct PortSpec {
  std::string_view name;
  std::string_view unit;
  std::string_view doc;
};

// Returns the index of `name` in a table of specs, or -1.
template <class Spec> int find_spec(std::span<const Spec> table, std::string_view name) {
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i].name == name) return static_cast<int>(i);
  return -1;
}

} // namespace glia
