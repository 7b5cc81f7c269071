// Pair STDP (plasticity/stdp.hpp) as the CUDA engine applies it, one synapse or one
// neuron at a time, GLIA_HD so that tests/test_gpu_host.cpp replays it on the host
// against the CPU engine. The CPU engine defers a post spike's on_post to each
// synapse's next pre arrival (sim/plasticity.hpp, NEST's archiving); the device applies
// it at once to every synapse into the neuron. Per synapse both make the same calls
// with the same arguments in the same order: every post spike at step p pairs with the
// pre trace as left by the last arrival at or before p, and every arrival's on_pre sees
// the post trace of the spikes before its step.
#pragma once

#include "plasticity/stdp.hpp"
#include "sim/device.hpp"

#include <cmath>
#include <cstdint>

namespace glia::gpu {

// The traces of one STDP projection: value right after the last event and the step of
// that event (-1: none yet), as sim/plasticity.hpp's LazyTrace; decays from the host's
// tables (exp(-k dt / tau) for k < table), computed beyond them.
struct StdpTraces {
  Stdp::Config cfg;
  const double* pre_decay;
  const double* post_decay;
  std::uint32_t table;
  double dt;
  double* pre_value;
  long long* pre_at;
  double* post_value;
  long long* post_at;

  GLIA_HD double decay(const double* t, std::uint64_t k, double tau) const {
    return k < table ? t[k] : std::exp(-static_cast<double>(k) * dt / tau);
  }
  GLIA_HD double post_now(std::uint32_t i, std::uint64_t step) const {
    const long long at = post_at[i];
    return at < 0 ? 0.0
                  : post_value[i] *
                        decay(post_decay, step - static_cast<std::uint64_t>(at), cfg.tau_post);
  }
  GLIA_HD double pre_now(std::uint32_t j, std::uint64_t step) const {
    const long long at = pre_at[j];
    return at < 0 ? 0.0
                  : pre_value[j] *
                        decay(pre_decay, step - static_cast<std::uint64_t>(at), cfg.tau_pre);
  }

  // A spike of source j arrives at `step` on a synapse into i of weight w: returns the
  // weight it delivers, then on_pre acts.
  GLIA_HD double arrive(double& w, std::uint32_t i, std::uint64_t step) const {
    const double delivered = w;
    Stdp::on_pre(w, post_now(i, step), cfg);
    return delivered;
  }
  // After all of source j's synapses: its trace takes the spike.
  GLIA_HD void arrived(std::uint32_t j, std::uint64_t step) const {
    pre_value[j] = Stdp::pre_trace(pre_now(j, step), cfg);
    pre_at[j] = static_cast<long long>(step);
  }
  // Neuron i spikes at `step`: on_post on its synapse from j (if j has ever arrived).
  GLIA_HD void post(double& w, std::uint32_t j, std::uint64_t step) const {
    if (pre_at[j] >= 0) Stdp::on_post(w, pre_now(j, step), cfg);
  }
  // After all of neuron i's synapses: its trace takes the spike.
  GLIA_HD void posted(std::uint32_t i, std::uint64_t step) const {
    post_value[i] = Stdp::post_trace(post_now(i, step), cfg);
    post_at[i] = static_cast<long long>(step);
  }
};

} // namespace glia::gpu
