// A population: N neurons of one model, with state as structure-of-arrays, parameters
// that are either one value for all neurons or one per neuron, and the delay ring
// buffers its incoming projections write into. `Population` is the type-erased face
// the engine and the I/O see; `PopulationOf<M>` is compiled per model, so the per-
// neuron loop calls the model's step() directly (no virtual call per neuron). That loop
// holds homogeneous parameters in registers and fixes the integrator at compile time,
// so that a branch-free step vectorises.
#pragma once

#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/cache_aligned.hpp"
#include "sim/random.hpp"
#include "sim/ring_buffer.hpp"
#include "sim/state_archive.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
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
  // Derived coefficient k (after prepare()): one value, or one per neuron.
  std::span<const double> derived(int k) const { return derived_[k]; }
  int n_derived() const { return static_cast<int>(derived_.size()); }
  const Stream& noise_stream() const { return noise_stream_; }
  bool param_is_homogeneous(int k) const { return params_[k].size() == 1; }

  // State variable k: width(k) * size() values, element j of neuron i at [j * size() + i].
  int n_state() const { return static_cast<int>(state_.size()); }
  int state_width(int k) const { return widths_[k]; }
  double* state(int k) { return state_[k].data(); }
  const double* state(int k) const { return state_[k].data(); }

  int n_ports() const { return n_ports_; }
  RingBuffer& ring() { return ring_; }
  const RingBuffer& ring() const { return ring_; }
  // External current (pA) per neuron, set by current inputs. Until something takes it
  // for writing it is all zeros, and the neuron loop does not read it.
  CacheAlignedVector<double>& i_ext() {
    external_current_ = true;
    return i_ext_;
  }
  const CacheAlignedVector<double>& i_ext() const { return i_ext_; }

  // Computes derived coefficients from parameters and sizes the ring buffers.
  void prepare(double dt, std::uint32_t seed, std::uint32_t ring_slots);
  double dt() const { return dt_; }

  // Advances neurons [lo, hi) by one step (reading and clearing their ring slot of
  // this step) and appends the indices of those that spiked to `spikes`. With
  // `check_finite`, returns whether some state of [lo, hi) may be non-finite after the
  // step (false: all of it is finite; true: locate it with a scan), else false.
  virtual bool integrate(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                         std::vector<std::uint32_t>& spikes, bool check_finite = false) = 0;

  std::size_t bytes() const;

  // Checkpoints: state, external current and the ring buffers (spikes still in flight),
  // under keys starting with `prefix`. Parameters are rebuilt from the experiment.
  void save(StateArchive& ar, const std::string& prefix) const;
  void load(const StateArchive& ar, const std::string& prefix);

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
  std::vector<CacheAlignedVector<double>> params_;
  std::vector<CacheAlignedVector<double>> derived_; // each 1 or size() long, same for all k
  std::vector<CacheAlignedVector<double>> state_;
  std::vector<int> widths_;
  CacheAlignedVector<double> i_ext_;
  bool external_current_ = false; // i_ext_ may be non-zero
  RingBuffer ring_;
};

// Neurons are stepped in chunks of this many. The CPU views below are rebased to the
// chunk's first neuron, so that neuron `first + j` is element j of every array: the loop
// counter j starts at 0 and provably does not wrap, so all addresses are affine in it
// (which vectorisation needs), and per-neuron parameters are read like state.
inline constexpr std::uint32_t kNeuronChunk = 256;

// The per-neuron views a model's step() sees on the CPU (see neurons/model.hpp). The
// base holds what both parameter layouts share.
template <class M, int NS> struct CpuNeuronBase {
  using Shared = typename ModelTraits<M>::Shared;
  std::uint32_t j;     // the neuron being updated, relative to `first`
  std::uint32_t first; // first neuron of the chunk
  std::uint32_t n;     // population size: the stride of vector state
  std::array<double*, NS> st;
  double* port0;           // this step's slot of port 0
  std::size_t port_stride; // distance between the same slot of consecutive ports
  const double* iext;
  const Shared* sh;
  Stream stream;
  std::uint64_t step_;
  double dt_;
  int integ;

  GLIA_HD double& s(int k) { return st[k][j]; }
  GLIA_HD double& s(int k, int e) { return st[k][static_cast<std::size_t>(e) * n + j]; }
  GLIA_HD double in(int k) const { return port0[k * port_stride + j]; }
  GLIA_HD double i_ext() const { return iext[j]; }
  GLIA_HD const Shared& shared() const { return *sh; }
  GLIA_HD double dt() const { return dt_; }
  GLIA_HD double t() const { return static_cast<double>(step_) * dt_; }
  GLIA_HD int integrator() const { return integ; }
  GLIA_HD std::uint32_t index() const { return first + j; }
  GLIA_HD double uniform(std::uint32_t k) const {
    const auto r = stream.draw(static_cast<std::uint32_t>(step_),
                               static_cast<std::uint32_t>(step_ >> 32), index(), k);
    return u01(r[0], r[1]);
  }

  // From a view of neuron 0 to one of the chunk that starts at neuron c.
  void rebase(std::uint32_t c) {
    first = c;
    for (auto& p : st) p += c;
    port0 += c;
    iext += c;
  }
};

// Some parameter or derived coefficient differs between neurons: each is read from an
// array, the population's own (rebased with the chunk) or kNeuronChunk copies of its
// single value, so p(k) and d(k) are [j] either way.
template <class M, int NP, int ND, int NS> struct CpuNeuron : CpuNeuronBase<M, NS> {
  std::array<const double*, NP> par;
  std::array<const double*, ND> der;
  std::array<bool, NP> par_varies;
  std::array<bool, ND> der_varies;

  GLIA_HD double p(int k) const { return par[k][this->j]; }
  GLIA_HD double d(int k) const { return der[k][this->j]; }

  void rebase(std::uint32_t c) {
    CpuNeuronBase<M, NS>::rebase(c);
    for (int k = 0; k < NP; ++k)
      if (par_varies[k]) par[k] += c;
    for (int k = 0; k < ND; ++k)
      if (der_varies[k]) der[k] += c;
  }
};

// Every parameter and derived coefficient is the same for all neurons (the common case):
// the view holds the values themselves, so that the loop keeps them in registers.
template <class M, int NP, int ND, int NS> struct CpuNeuronUniform : CpuNeuronBase<M, NS> {
  std::array<double, NP> par;
  std::array<double, ND> der;

  GLIA_HD double p(int k) const { return par[k]; }
  GLIA_HD double d(int k) const { return der[k]; }
};

// A view for a population without external current: i_ext() is 0 without a load (the
// loop is bound by memory traffic on small networks, and this is one stream of eight).
template <class View> struct NoExternalCurrent : View {
  GLIA_HD double i_ext() const { return 0.0; }
};

// A view whose integrator() is the compile-time constant I: the loop for one scheme then
// holds only that scheme's code (a scheme that calls a library function, such as exp,
// would otherwise keep the others from vectorising).
template <class View, int I> struct FixedIntegrator : View {
  GLIA_HD int integrator() const { return I; }
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

  bool integrate(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                 std::vector<std::uint32_t>& spikes, bool check_finite = false) override {
    const std::uint32_t slot = ring_.slot_index(step);
    bool bad = false;
    bool uniform = true;
    for (const auto& p : params_) uniform = uniform && p.size() == 1;
    for (const auto& d : derived_) uniform = uniform && d.size() == 1;
    if (uniform) {
      CpuNeuronUniform<M, NP, ND, NS> v;
      bind(v, step, slot);
      for (int k = 0; k < NP; ++k) v.par[k] = params_[k][0];
      v.der = {};
      for (int k = 0; k < M::n_derived; ++k) v.der[k] = derived_[k][0];
      bad = external_current_
                ? dispatch(v, lo, hi, spikes, check_finite)
                : dispatch(NoExternalCurrent<decltype(v)>{v}, lo, hi, spikes, check_finite);
    } else {
      // Single values repeated kNeuronChunk times (per thread: blocks run concurrently).
      thread_local CacheAlignedVector<double> copies;
      copies.resize(static_cast<std::size_t>(NP + ND) * kNeuronChunk);
      const std::uint32_t used = std::min(kNeuronChunk, hi - lo);
      auto source = [&](const CacheAlignedVector<double>& values, int row, bool& varies) {
        varies = values.size() != 1;
        if (varies) return values.data();
        double* c = copies.data() + static_cast<std::size_t>(row) * kNeuronChunk;
        std::fill(c, c + used, values[0]);
        return static_cast<const double*>(c);
      };
      CpuNeuron<M, NP, ND, NS> v;
      bind(v, step, slot);
      for (int k = 0; k < NP; ++k) v.par[k] = source(params_[k], k, v.par_varies[k]);
      v.der = {};
      v.der_varies = {};
      for (int k = 0; k < M::n_derived; ++k)
        v.der[k] = source(derived_[k], NP + k, v.der_varies[k]);
      bad = external_current_
                ? dispatch(v, lo, hi, spikes, check_finite)
                : dispatch(NoExternalCurrent<decltype(v)>{v}, lo, hi, spikes, check_finite);
    }
    if constexpr (!Traits::fixed_layout) {
      for (int k = 0; k < n_ports_; ++k) {
        double* s = ring_.slot(k, slot);
        std::fill(s + lo, s + hi, 0.0);
      }
      return check_finite; // the scan looks at every element of vector state
    }
    return bad;
  }

protected:
  void derive_all() override {
    bool homogeneous = true;
    for (const auto& p : params_) homogeneous = homogeneous && p.size() == 1;
    const std::uint32_t m = homogeneous ? 1 : size_;
    derived_.assign(M::n_derived, CacheAlignedVector<double>(m));
    std::array<double, NP> p{};
    std::array<double, ND> d{};
    for (std::uint32_t i = 0; i < m; ++i) {
      for (int k = 0; k < NP; ++k) p[k] = params_[k][params_[k].size() == 1 ? 0 : i];
      M::derive(p.data(), dt_, integrator_, d.data());
      for (int k = 0; k < M::n_derived; ++k) derived_[k][i] = d[k];
    }
  }

private:
  void bind(CpuNeuronBase<M, NS>& v, std::uint64_t step, std::uint32_t slot) {
    v.j = 0;
    v.first = 0;
    v.n = size_;
    for (int k = 0; k < NS; ++k) v.st[k] = state_[k].data();
    v.port0 = ring_.slot(0, slot);
    v.port_stride = static_cast<std::size_t>(ring_.slots()) * size_;
    v.iext = i_ext_.data();
    v.sh = &shared_;
    v.stream = noise_stream_;
    v.step_ = step;
    v.dt_ = dt_;
    v.integ = integrator_;
  }

  // Runs the loop with the population's integrator fixed at compile time, for models
  // with a few schemes.
  template <class View>
  bool dispatch(const View& v, std::uint32_t lo, std::uint32_t hi,
                std::vector<std::uint32_t>& spikes, bool check) const {
    constexpr int n = static_cast<int>(std::size(M::integrators));
    if constexpr (n > 1 && n <= 4)
      return dispatch_fixed(v, lo, hi, spikes, check, std::make_integer_sequence<int, n>{});
    else
      return check ? run<true>(v, lo, hi, spikes) : run<false>(v, lo, hi, spikes);
  }

  template <class View, int... I>
  bool dispatch_fixed(const View& v, std::uint32_t lo, std::uint32_t hi,
                      std::vector<std::uint32_t>& spikes, bool check,
                      std::integer_sequence<int, I...>) const {
    bool bad = false;
    auto go = [&](const auto& view) {
      bad = check ? run<true>(view, lo, hi, spikes) : run<false>(view, lo, hi, spikes);
      return true;
    };
    const bool done = ((integrator_ == I && go(FixedIntegrator<View, I>{v})) || ...);
    if (!done) go(v);
    return bad;
  }

  // Steps neurons [lo, hi) chunk by chunk: first a loop whose only effects are the
  // neurons' own state and a flag per neuron (no two neurons share anything a step
  // writes, hence ivdep), which vectorises when the model's step is branch-free; then
  // the indices of the flagged neurons, eight flags at a time since spikes are rare,
  // after a vectorised pass that skips the chunk when none fired (most chunks: COBA's
  // integrate phase 7-18 % and CUBA's 18 % faster).
  // Each chunk steps a local copy of the view: a local whose address never escapes
  // lives in registers, whereas the flag stores (a char type, which may alias anything)
  // would otherwise make the compiler reload its pointers every iteration.
  // With a fixed layout the same loop clears the neuron's ring slots (read by its step)
  // and, when Check, ORs together whether any of its state came out non-finite (an
  // exponent of all ones: inf or NaN), so neither needs a second pass over the arrays.
  // Returns that flag (with Check; a variable layout returns Check).
  template <bool Check, class View>
  static bool run(const View& v, std::uint32_t lo, std::uint32_t hi,
                  std::vector<std::uint32_t>& spikes) {
    constexpr std::uint64_t kExponent = 0x7ff0000000000000ull;
    constexpr int kPorts = static_cast<int>(std::size(M::ports));
    alignas(kCacheLine) std::uint64_t fired[kNeuronChunk] = {};
    std::uint64_t bad = 0;
    for (std::uint32_t c = lo; c < hi; c += std::min(kNeuronChunk, hi - c)) {
      const std::uint32_t m = std::min(kNeuronChunk, hi - c);
      View w = v;
      w.rebase(c);
#pragma GCC ivdep
      for (std::uint32_t j = 0; j < m; ++j) {
        w.j = j;
        fired[j] = M::step(w);
        if constexpr (Traits::fixed_layout) {
          for (int k = 0; k < kPorts; ++k) w.port0[k * w.port_stride + j] = 0.0;
          if constexpr (Check)
            for (int k = 0; k < NS; ++k)
              bad |= (std::bit_cast<std::uint64_t>(w.st[k][j]) & kExponent) == kExponent;
        }
      }
      std::uint64_t any_fired = 0;
      for (std::uint32_t j = 0; j < m; ++j) any_fired |= fired[j];
      if (any_fired == 0) continue;
      for (std::uint32_t j = 0; j < m; j += 8) {
        std::uint64_t any = 0;
        for (std::uint32_t l = j; l < std::min(j + 8, m); ++l) any |= fired[l];
        if (any == 0) continue;
        for (std::uint32_t l = j; l < std::min(j + 8, m); ++l)
          if (fired[l]) spikes.push_back(c + l);
      }
    }
    return Traits::fixed_layout ? bad != 0 : Check;
  }

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
