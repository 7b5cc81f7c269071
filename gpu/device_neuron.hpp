// The per-neuron view a model's step() sees in the CUDA engine (the CPU's views are in
// sim/population.hpp): the same accessors over the device arrays, parameters either one
// value for all or one per neuron, ring slots either double or 64-bit fixed point.
// GLIA_HD throughout, so that tests/test_gpu_host.cpp steps populations through this
// very view on the host and compares with the CPU engine bit for bit.
#pragma once

#include "gpu/fixed_point.hpp"
#include "neurons/model.hpp"
#include "sim/random.hpp"

#include <cstddef>
#include <cstdint>

namespace glia::gpu {

inline constexpr int kMaxParams = 16, kMaxDerived = 16, kMaxState = 8;

template <class M, int I> struct DeviceNeuron {
  const double* par[kMaxParams];
  std::uint32_t par_varies[kMaxParams]; // 0: one value for all, 1: one per neuron
  const double* der[kMaxDerived];
  std::uint32_t der_varies[kMaxDerived];
  double* st[kMaxState];
  void* slot0;             // this step's slot of port 0 (double or fixed point)
  std::size_t port_stride; // slots * n: from one port's slot to the next port's
  bool fixed;
  const double* iext;
  Stream stream;
  std::uint64_t step_;
  double dt_;
  std::uint32_t i;

  GLIA_HD double p(int k) const { return par[k][i * par_varies[k]]; }
  GLIA_HD double d(int k) const { return der[k][i * der_varies[k]]; }
  GLIA_HD double& s(int k) { return st[k][i]; }
  GLIA_HD double& s(int k, int) { return st[k][i]; } // device state is scalar only
  GLIA_HD double in(int k) const {
    const std::size_t at = static_cast<std::size_t>(k) * port_stride + i;
    return fixed ? from_fixed(static_cast<const std::uint64_t*>(slot0)[at])
                 : static_cast<const double*>(slot0)[at];
  }
  GLIA_HD double i_ext() const { return iext[i]; }
  GLIA_HD NoShared shared() const { return {}; }
  GLIA_HD double dt() const { return dt_; }
  GLIA_HD double t() const { return static_cast<double>(step_) * dt_; }
  GLIA_HD int integrator() const { return I; }
  GLIA_HD std::uint32_t index() const { return i; }
  GLIA_HD double uniform(std::uint32_t k) const {
    const auto r = stream.draw(static_cast<std::uint32_t>(step_),
                               static_cast<std::uint32_t>(step_ >> 32), i, k);
    return u01(r[0], r[1]);
  }
  // After the step: this neuron's ring slot of every port back to zero.
  GLIA_HD void clear_slot(int ports) const {
    for (int k = 0; k < ports; ++k) {
      const std::size_t at = static_cast<std::size_t>(k) * port_stride + i;
      if (fixed)
        static_cast<std::uint64_t*>(slot0)[at] = 0;
      else
        static_cast<double*>(slot0)[at] = 0.0;
    }
  }
};

} // namespace glia::gpu
