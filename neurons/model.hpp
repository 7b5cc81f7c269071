// The contract every neuron model fulfils, and the traits the engine uses to read the
// optional parts of it. A model is one header with one struct:
//
//   static constexpr std::string_view name, doc;
//   static constexpr ParamSpec params[];      // per-neuron parameters (may be heterogeneous)
//   static constexpr StateSpec state[];       // state variables (scalar or vector per neuron)
//   static constexpr PortSpec ports[];        // receptor ports fed by the delay ring buffers
//   static constexpr std::string_view integrators[];   // first is the default
//   static constexpr int n_derived;           // coefficients precomputed from params and dt
//   static void derive(const double* p, double dt, int integrator, double* d);
//   template <class N> GLIA_HD static bool step(N& n);   // one neuron, one step; true = spike
//
// Optional, for models that need them (ELM, meta-neuron, ...):
//   struct Shared;                                     // population-wide data (an MLP, ...)
//   static Shared make_shared(const SharedConfig&, double dt);   // from [population.shared]
//                                                      // (or make_shared(cfg) if dt is not needed)
//   static int state_width(const Shared&, int k);      // width of vector state k
//   static int num_ports(const Shared&);               // ports beyond the static table
//
// The view N passed to step() gives, for the neuron being updated:
//   n.p(k)      parameter k              n.d(k)     derived coefficient k
//   n.s(k)      scalar state k (ref)     n.s(k, j)  element j of vector state k (ref)
//   n.in(port)  input arriving now on a port (sum of weights)
//   n.i_ext()   external current set by current inputs (pA)
//   n.uniform(k) uniform (0,1) keyed by (seed, population, step, neuron, k)
//   n.shared()  the population's Shared data
//   n.dt(), n.t(), n.integrator(), n.index()
// The same step() is instantiated for the CPU loop and for the CUDA kernel.
#pragma once

#include "sim/device.hpp"
#include "sim/spec.hpp"

#include <bit>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

// Population-wide settings for models that have shared data: name -> numbers.
using SharedConfig = std::map<std::string, std::vector<double>>;

struct NoShared {};

template <class M> struct ModelTraits {
  static constexpr bool has_shared = requires { typename M::Shared; };

  template <class T> struct SharedOf { using type = NoShared; };
  template <class T>
  requires requires { typename T::Shared; }
  struct SharedOf<T> {
    using type = typename T::Shared;
  };
  using Shared = typename SharedOf<M>::type;

  static Shared make_shared(const SharedConfig& cfg, double dt) {
    if constexpr (requires { M::make_shared(cfg, dt); }) {
      return M::make_shared(cfg, dt);
    } else if constexpr (requires { M::make_shared(cfg); }) {
      return M::make_shared(cfg);
    } else {
      if (!cfg.empty())
        throw std::invalid_argument("model '" + std::string(M::name) +
                                    "' takes no shared settings, got '" + cfg.begin()->first + "'");
      return Shared{};
    }
  }
  static int state_width(const Shared& sh, int k) {
    if constexpr (requires { M::state_width(sh, k); }) {
      return M::state[k].width > 0 ? M::state[k].width : M::state_width(sh, k);
    } else {
      return M::state[k].width > 0 ? M::state[k].width : 1;
    }
  }
  static int num_ports(const Shared& sh) {
    if constexpr (requires { M::num_ports(sh); }) {
      return M::num_ports(sh);
    } else {
      return static_cast<int>(std::size(M::ports));
    }
  }
  static constexpr int n_params = static_cast<int>(std::size(M::params));
  static constexpr int n_state = static_cast<int>(std::size(M::state));
  // Every state variable one value per neuron and every port in the static table, known
  // at compile time: the CPU loop then clears the ring slots and checks the state for
  // non-finite values inside the neuron loop, while the values are in registers.
  static constexpr bool fixed_layout = [] {
    if constexpr (
        requires(const Shared& sh) { M::num_ports(sh); } ||
        requires(const Shared& sh) { M::state_width(sh, 0); })
      return false;
    for (const auto& st : M::state)
      if (st.width != 1) return false;
    return true;
  }();
};

// `c ? a : b` without a branch, bitwise a or b. The LIF steps compute both the
// refractory and the integrating update of every neuron and pick one with this, so
// that the CPU loop over neurons vectorises: GCC neither if-converts floating-point
// operations that a `?:` or `if` guards (they might trap) nor keeps an operation used
// by one arm of a `?:` outside that arm, whereas a select on the bits guards nothing.
// On the device a `?:` is already a select.
GLIA_HD double select_bits(bool c, double a, double b) {
#if defined(__CUDA_ARCH__)
  return c ? a : b;
#else
  const std::uint64_t m = c ? ~std::uint64_t{0} : 0;
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(a) & m) |
                               (std::bit_cast<std::uint64_t>(b) & ~m));
#endif
}

// Refractory periods are counted in whole steps, as NEST does.
GLIA_HD double refractory_steps(double t_ref, double dt) {
  return static_cast<double>(static_cast<long>(t_ref / dt + 0.5));
}

} // namespace glia
