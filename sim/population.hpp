// A population: N neurons of one model, with state as structure-of-arrays, parameters
// that are either one value for all neurons or one per neuron, and the delay ring
// buffers its incoming projections write into. `Population` is the type-erased face
// the engine and the I/O see; `PopulationOf<M>` is compiled per model, so the per-
// neuron loop calls the model's step() directly (no virtual call per neuron).
#pragma once

#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/random.hpp"
#include "sim/ring_buffer.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace glia {

class Population {
public:
  Population(const ModelInfo& info, const PopulationSetup& setup)
      : info_(&info), name_(setup.name), size_(setup.size), index_(setup.index),
        integrator_(setup.integrator) {}
  virtual ~Population() = default;
  Population(const Population&) = delete;
  Population& operator=(const Population&) = delete;

  const ModelInfo& model() const { return *info_; }
  const std::string& name() const { return name_; }
  std::uint32_t size() const { return size_; }
  int index() const { return index_; }
  int integrator() const { return integrator_; }

  // Parameters: `values` has one element (homogeneous) or size() elements.
  void set_param(int k, std::vector<double> values);
  std::span<const double> param(int k) const { return params_[k]; }
  bool param_is_homogeneous(int k) const { return params_[k].size() == 1; }

  // State variable k: width(k) * size() values, element j of neuron i at [j * size() + i].
  int n_state() const { return static_cast<int>(state_.size()); }
  int state_width(int k) const { return widths_[k]; }
  double* state(int k) { return state_[k].data(); }
  const double* state(int k) const { return state_[k].data(); }

  int n_ports() const { return n_ports_; }
  RingBuffer& ring() { return ring_; }
  const RingBuffer& ring() const { return ring_; }
  // External current (pA) per neuron, set by current inputs.
  std::vector<double>& i_ext() { return i_ext_; }

  // Computes derived coefficients from parameters and sizes the ring buffers.
  void prepare(double dt, std::uint32_t seed, std::uint32_t ring_slots);
  double dt() const { return dt_; }

  // Advances neurons [lo, hi) by one step (reading and clearing their ring slot of
  // this step) and appends the indices of those that spiked to `spikes`.
  virtual void integrate(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                         std::vector<std::uint32_t>& spikes) = 0;

  std::size_t bytes() const;

protected:
  virtual void derive_all() = 0;

  const ModelInfo* info_;
  std::string name_;
  std::uint32_t size_;
  int index_;
  int integrator_;
  double dt_ = 0.1;
  Stream noise_stream_;
  int n_ports_ = 0;
  std::vector<std::vector<double>> params_;
  std::vector<std::vector<double>> derived_; // each 1 or size() long, same for all k
  std::vector<std::vector<double>> state_;
  std::vector<int> widths_;
  std::vector<double> i_ext_;
  RingBuffer ring_;
};

// The per-neuron view a model's step() sees on the CPU (see neurons/model.hpp).
template <class M, int NP, int ND, int NS> struct CpuNeuron {
  using Shared = typename ModelTraits<M>::Shared;
  std::uint32_t i;
  std::uint32_t n;
  std::uint32_t dstride;
  std::array<const double*, NP> par;
  std::array<std::uint32_t, NP> pstride;
  std::array<const double*, ND> der;
  std::array<double*, NS> st;
  double* port0;           // this step's slot of port 0
  std::size_t port_stride; // distance between the same slot of consecutive ports
  const double* iext;
  const Shared* sh;
  Stream stream;
  std::uint64_t step_;
  double dt_;
  int integ;

  GLIA_HD double p(int k) const { return par[k][i * pstride[k]]; }
  GLIA_HD double d(int k) const { return der[k][i * dstride]; }
  GLIA_HD double& s(int k) { return st[k][i]; }
  GLIA_HD double& s(int k, int j) { return st[k][static_cast<std::size_t>(j) * n + i]; }
  GLIA_HD double in(int k) const { return port0[k * port_stride + i]; }
  GLIA_HD double i_ext() const { return iext[i]; }
  GLIA_HD const Shared& shared() const { return *sh; }
  GLIA_HD double dt() const { return dt_; }
  GLIA_HD double t() const { return static_cast<double>(step_) * dt_; }
  GLIA_HD int integrator() const { return integ; }
  GLIA_HD std::uint32_t index() const { return i; }
  GLIA_HD double uniform(std::uint32_t k) const {
    const auto r = stream.draw(static_cast<std::uint32_t>(step_),
                               static_cast<std::uint32_t>(step_ >> 32), i, k);
    return u01(r[0], r[1]);
  }
};

template <class M> class PopulationOf final : public Population {
public:
  using Traits = ModelTraits<M>;
  using Shared = typename Traits::Shared;
  static constexpr int NP = Traits::n_params;
  static constexpr int NS = Traits::n_state;
  static constexpr int ND = M::n_derived > 0 ? M::n_derived : 1;

  PopulationOf(const ModelInfo& info, const PopulationSetup& setup)
      : Population(info, setup), shared_(Traits::make_shared(setup.shared, setup.dt)) {
    params_.resize(NP);
    for (int k = 0; k < NP; ++k) params_[k] = {M::params[k].default_value};
    state_.resize(NS);
    widths_.resize(NS);
    for (int k = 0; k < NS; ++k) {
      widths_[k] = Traits::state_width(shared_, k);
      state_[k].assign(static_cast<std::size_t>(widths_[k]) * size_, M::state[k].initial);
    }
    n_ports_ = Traits::num_ports(shared_);
    i_ext_.assign(size_, 0.0);
  }

  const Shared& shared() const { return shared_; }

  void integrate(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                 std::vector<std::uint32_t>& spikes) override {
    CpuNeuron<M, NP, ND, NS> v;
    v.n = size_;
    for (int k = 0; k < NP; ++k) {
      v.par[k] = params_[k].data();
      v.pstride[k] = params_[k].size() == 1 ? 0u : 1u;
    }
    v.dstride = derived_.empty() || derived_[0].size() == 1 ? 0u : 1u;
    for (int k = 0; k < ND; ++k) v.der[k] = derived_.empty() ? nullptr : derived_[k].data();
    for (int k = 0; k < NS; ++k) v.st[k] = state_[k].data();
    const std::uint32_t slot = ring_.slot_index(step);
    v.port0 = ring_.slot(0, slot);
    v.port_stride = static_cast<std::size_t>(ring_.slots()) * size_;
    v.iext = i_ext_.data();
    v.sh = &shared_;
    v.stream = noise_stream_;
    v.step_ = step;
    v.dt_ = dt_;
    v.integ = integrator_;
    for (std::uint32_t i = lo; i < hi; ++i) {
      v.i = i;
      if (M::step(v)) spikes.push_back(i);
    }
    for (int k = 0; k < n_ports_; ++k) {
      double* s = ring_.slot(k, slot);
      std::fill(s + lo, s + hi, 0.0);
    }
  }

protected:
  void derive_all() override {
    bool homogeneous = true;
    for (const auto& p : params_) homogeneous = homogeneous && p.size() == 1;
    const std::uint32_t m = homogeneous ? 1 : size_;
    derived_.assign(M::n_derived, std::vector<double>(m));
    std::array<double, NP> p{};
    std::array<double, ND> d{};
    for (std::uint32_t i = 0; i < m; ++i) {
      for (int k = 0; k < NP; ++k) p[k] = params_[k][params_[k].size() == 1 ? 0 : i];
      M::derive(p.data(), dt_, integrator_, d.data());
      for (int k = 0; k < M::n_derived; ++k) derived_[k][i] = d[k];
    }
  }

private:
  Shared shared_;
};

template <class M> void Registry::add() {
  static_assert(std::size(M::ports) >= 1, "a model needs at least one static port");
  ModelInfo info;
  info.name = M::name;
  info.doc = M::doc;
  info.params = std::span<const ParamSpec>(M::params);
  info.state = std::span<const StateSpec>(M::state);
  info.ports = std::span<const PortSpec>(M::ports);
  info.integrators = std::span<const std::string_view>(M::integrators);
  info.create = [](const ModelInfo& mi, const PopulationSetup& s) -> std::unique_ptr<Population> {
    return std::make_unique<PopulationOf<M>>(mi, s);
  };
  for (auto& m : models_)
    if (m.name == info.name) {
      m = info;
      return;
    }
  models_.push_back(info);
}

} // namespace glia
