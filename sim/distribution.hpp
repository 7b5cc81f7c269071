// Values that are either constant or drawn per element (synapse, neuron) from a
// distribution, or computed per neuron from an expression. Draws are keyed by what is
// drawn (e.g. target neuron and synapse ordinal), never by the order of drawing.
#pragma once

#include "sim/random.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace glia {

struct Distribution {
  enum class Kind { constant, uniform, normal, lognormal, expression };
  Kind kind = Kind::constant;
  double value = 0.0;        // constant
  double low = 0.0;          // uniform lower bound
  double high = 1.0;         // uniform upper bound
  double mean = 0.0;         // normal mean; lognormal mu (of the underlying normal)
  double std = 1.0;          // normal std; lognormal sigma
  double min = -kInfinity(); // normal: redrawn outside [min, max] (NEST normal_clipped)
  double max = kInfinity();
  double scale = 1.0;     // lognormal: multiplies the draw (negative for inhibition)
  std::string expression; // per-neuron expression over parameters and random variables

  static constexpr double kInfinity() { return __builtin_huge_val(); }
  static Distribution constant_of(double v) {
    Distribution d;
    d.value = v;
    return d;
  }
  bool is_constant() const { return kind == Kind::constant; }

  // One draw keyed by (a, b); `stream` names what is drawn.
  double draw(const Stream& stream, std::uint32_t a, std::uint32_t b) const {
    switch (kind) {
    case Kind::constant:
    case Kind::expression:
      return value;
    case Kind::uniform: {
      const auto r = stream.draw(a, b, 0, 0);
      return low + (high - low) * u01(r[0], r[1]);
    }
    case Kind::normal: {
      for (std::uint32_t attempt = 0; attempt < 1000; ++attempt) {
        const auto r = stream.draw(a, b, attempt, 0);
        const double x = mean + std * normal01(r[0], r[1], r[2]);
        if (x >= min && x <= max) return x;
      }
      return std::fmin(std::fmax(mean, min), max);
    }
    case Kind::lognormal: {
      const auto r = stream.draw(a, b, 0, 0);
      return scale * std::exp(mean + std * normal01(r[0], r[1], r[2]));
    }
    }
    return value;
  }

  // Bounds of the values this can produce (for delays and validation).
  double lowest() const {
    switch (kind) {
    case Kind::uniform:
      return low;
    case Kind::normal:
      return min;
    case Kind::lognormal:
      return scale >= 0 ? 0.0 : -kInfinity();
    default:
      return value;
    }
  }
  double highest() const {
    switch (kind) {
    case Kind::uniform:
      return high;
    case Kind::normal:
      return max;
    case Kind::lognormal:
      return scale >= 0 ? kInfinity() : 0.0;
    default:
      return value;
    }
  }
};

} // namespace glia
