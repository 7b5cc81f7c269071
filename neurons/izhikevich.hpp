// Izhikevich (2003) neuron: v' = 0.04 v^2 + 5 v + 140 - u + I, u' = a (b v - u);
// on v >= 30: v = c, u += d. Input on port "in" (mV) is a current pulse: the sum w that
// arrives in a step adds w / dt to I for that step's update, before the threshold test.
// That is the paper's loop (fired = v >= 30; reset; I += S(:, fired); update v and u),
// where a spike moves its targets' v in the very next update and can make them fire at
// the next threshold test; at dt = 1 ms the pulse is the paper's I += w exactly, and the
// same as NEST's izhikevich with the published numerics. (Adding w to v after the
// threshold test instead would cost every synaptic hop one more step, and the 2003
// network would then run away into all neurons firing every step for some seeds.)
// Integrators: "euler" (the paper's scheme: v in two half steps, then u), "rk4"
// (classical, fixed step) and "odeint" (Boost.Odeint's adaptive Dormand-Prince over
// each step, tolerance 1e-9; host only, for reference runs).
#pragma once

#include "neurons/model.hpp"

#include <cmath>

#if !defined(__CUDACC__)
#include <array>
#include <boost/numeric/odeint.hpp>
#endif

namespace glia {

struct Izhikevich {
  static constexpr std::string_view name = "izhikevich";
  static constexpr std::string_view doc =
      "Izhikevich (2003) quadratic integrate-and-fire neuron with recovery variable";

  enum P { a, b, c, d, I_e, V_peak };
  static constexpr ParamSpec params[] = {
      {"a", "1/ms", 0.02, kPositive, "time scale of the recovery variable u"},
      {"b", "1", 0.2, kAny, "sensitivity of u to v"},
      {"c", "mV", -65.0, kAny, "reset value of v"},
      {"d", "mV", 8.0, kAny, "increment of u at a spike"},
      {"I_e", "pA", 0.0, kAny, "constant external current (the model's I)"},
      {"V_peak", "mV", 30.0, kAny, "spike cut-off"},
  };
  enum S { v, u };
  static constexpr StateSpec state[] = {
      {"v", "mV", -65.0, "membrane potential"},
      {"u", "mV", -13.0, "recovery variable (set u = \"b * v\" for the paper's start)"},
  };
  static constexpr PortSpec ports[] = {
      {"in", "mV", "input of the step, a current of w / dt over the update (moves v by ~w)"}};
  enum Integrator { euler, rk4, odeint };
  static constexpr std::string_view integrators[] = {"euler", "rk4", "odeint"};

  static constexpr int n_derived = 0;
  static void derive(const double*, double, int, double*) {}

  GLIA_HD static double fv(double v_, double u_, double i) {
    return 0.04 * v_ * v_ + 5.0 * v_ + 140.0 - u_ + i;
  }

#if !defined(__CUDACC__)
  static void odeint_step(double& v_, double& u_, double a_, double b_, double i, double h) {
    using namespace boost::numeric::odeint;
    std::array<double, 2> x{v_, u_};
    auto rhs = [&](const std::array<double, 2>& y, std::array<double, 2>& dy, double) {
      dy[0] = fv(y[0], y[1], i);
      dy[1] = a_ * (b_ * y[0] - y[1]);
    };
    integrate_adaptive(make_controlled(1e-9, 1e-9, runge_kutta_dopri5<std::array<double, 2>>()),
                       rhs, x, 0.0, h, h / 4);
    v_ = x[0];
    u_ = x[1];
  }
#endif

  template <class N> GLIA_HD static bool step(N& n) {
    double& vv = n.s(v);
    double& uu = n.s(u);
    const double h = n.dt();
    const double i = n.p(I_e) + n.i_ext() + n.in(0) / h;
    const double pa = n.p(a), pb = n.p(b);
    if (n.integrator() == euler) {
      vv += 0.5 * h * fv(vv, uu, i);
      vv += 0.5 * h * fv(vv, uu, i);
      uu += h * pa * (pb * vv - uu);
    } else if (n.integrator() == rk4) {
      const double k1v = fv(vv, uu, i), k1u = pa * (pb * vv - uu);
      const double v2 = vv + 0.5 * h * k1v, u2 = uu + 0.5 * h * k1u;
      const double k2v = fv(v2, u2, i), k2u = pa * (pb * v2 - u2);
      const double v3 = vv + 0.5 * h * k2v, u3 = uu + 0.5 * h * k2u;
      const double k3v = fv(v3, u3, i), k3u = pa * (pb * v3 - u3);
      const double v4 = vv + h * k3v, u4 = uu + h * k3u;
      const double k4v = fv(v4, u4, i), k4u = pa * (pb * v4 - u4);
      vv += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
      uu += h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u);
    } else {
      // Odeint is host code and not compiled by nvcc at all: the CUDA engine refuses this
      // integrator (gpu/backend.cpp), so its instantiation never reaches here.
#if !defined(__CUDACC__)
      odeint_step(vv, uu, pa, pb, i, h);
#endif
    }
    bool spike = false;
    if (vv >= n.p(V_peak)) {
      vv = n.p(c);
      uu += n.p(d);
      spike = true;
    }
    return spike;
  }
};

} // namespace glia
