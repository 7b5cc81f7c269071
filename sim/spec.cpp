// Human-readable descriptions of valid ranges, used in error messages and `glia info`.
#include "sim/spec.hpp"

#include <sstream>

namespace glia {

std::string Range::describe() const {
  std::ostringstream s;
  s.precision(12);
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (!has_lo && !has_hi) return "any number";
  if (has_lo && !has_hi) {
    s << (lo_open ? "> " : ">= ") << lo;
  } else if (!has_lo) {
    s << (hi_open ? "< " : "<= ") << hi;
  } else {
    s << "in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  }
  return s.str();
}

} // namespace glia
