// Backend selection, the device plan and the device memory estimate (see backend.hpp).
// Host code: built with or without CUDA.
#include "gpu/backend.hpp"

#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/plasticity.hpp"

#ifdef GLIA_HAVE_CUDA
#include "gpu/cuda_api.hpp"
#endif

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace glia::gpu {

namespace {

bool device_model(std::string_view name, DeviceModel& out) {
  if (name == "lif_delta")
    out = DeviceModel::lif_delta;
  else if (name == "lif_exp")
    out = DeviceModel::lif_exp;
  else if (name == "lif_cond_exp")
    out = DeviceModel::lif_cond_exp;
  else if (name == "izhikevich")
    out = DeviceModel::izhikevich;
  else
    return false;
  return true;
}

} // namespace

bool cuda_compiled() {
#ifdef GLIA_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::string cuda_build_description() {
#ifdef GLIA_HAVE_CUDA
  return cuda::build_description();
#else
  return "not built (GLIA_CUDA=OFF or no nvcc at configure time)";
#endif
}

DeviceInfo probe_devices(int device) {
#ifdef GLIA_HAVE_CUDA
  return cuda::probe(device);
#else
  (void)device;
  DeviceInfo d;
  d.error = "glia was built without CUDA";
  return d;
#endif
}

std::string fallback_message(const std::string& why) {
  return why + ": running on the CPU";
}

std::string device_fit_error(const DeviceMemory& need, const DeviceInfo& device) {
  if (need.total() <= device.free_bytes) return "";
  auto gib = [](double b) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f bytes (%.2f GiB)", b, b / (1024.0 * 1024 * 1024));
    return std::string(buf);
  };
  std::string parts;
  for (const auto& p : need.parts)
    parts += (parts.empty() ? "" : ", ") + p.what + " " + gib(p.bytes);
  return "the network needs " + gib(need.total()) + " of device memory (" + parts +
         "), but CUDA device '" + device.name + "' has " + gib(device.free_bytes) +
         " free; make the network smaller or run it on the CPU (backend = \"cpu\")";
}

std::string unsupported_reason(const Network& net, bool weight_monitors, bool checkpoints) {
  if (!net.modulators().empty()) return "modulators are not implemented on the cuda backend";
  if (weight_monitors) return "weight reports are not implemented on the cuda backend";
  if (checkpoints) return "checkpoints are not implemented on the cuda backend";
  for (const auto& p : net.populations()) {
    DeviceModel m;
    if (!device_model(p->model().name, m))
      return "model '" + std::string(p->model().name) + "' (population '" + p->name() +
             "') is not implemented on the cuda backend";
    if (m == DeviceModel::izhikevich && p->integrator() == 2)
      return "the odeint integrator (population '" + p->name() + "') runs on the CPU only";
    for (int k = 0; k < p->n_state(); ++k)
      if (p->state_width(k) != 1)
        return "vector state (population '" + p->name() +
               "') is not implemented on the cuda "
               "backend";
  }
  for (const auto& pr : net.projections())
    if (pr.plasticity && !dynamic_cast<const PlasticityOf<Stdp>*>(pr.plasticity.get()))
      return "this plasticity rule (projection '" + pr.name +
             "') is not implemented on the "
             "cuda backend (stdp is)";
  for (const auto& in : net.inputs()) {
    const Input* i = in.get();
    if (!dynamic_cast<const PoissonInput*>(i) && !dynamic_cast<const SpikeTimesInput*>(i) &&
        !dynamic_cast<const StepCurrentInput*>(i) && !dynamic_cast<const NoiseInput*>(i))
      return "input '" + in->name + "' is of a kind the cuda backend does not implement";
  }
  return "";
}

DevicePlan make_plan(Network& net, const DeviceOptions& options) {
  DevicePlan plan;
  plan.dt = net.dt();
  plan.options = options;
  for (auto& pp : net.populations()) {
    Population& p = *pp;
    PlanPopulation q;
    q.name = p.name();
    if (!device_model(p.model().name, q.model))
      throw std::invalid_argument("model '" + std::string(p.model().name) + "' has no device code");
    q.n = p.size();
    q.integrator = p.integrator();
    for (std::size_t k = 0; k < p.model().params.size(); ++k) {
      const auto v = p.param(static_cast<int>(k));
      q.params.push_back({v.data(), static_cast<std::uint32_t>(v.size())});
    }
    for (int k = 0; k < p.n_derived(); ++k) {
      const auto v = p.derived(k);
      q.derived.push_back({v.data(), static_cast<std::uint32_t>(v.size())});
    }
    for (int k = 0; k < p.n_state(); ++k) q.state.push_back(p.state(k));
    q.i_ext = p.i_ext().data();
    q.ports = p.ring().ports();
    q.slots = p.ring().slots();
    q.ring = p.ring().raw().data();
    q.noise = p.noise_stream();
    plan.populations.push_back(std::move(q));
  }
  for (auto& pr : net.projections()) {
    PlanProjection q;
    q.name = pr.name;
    q.pre = pr.pre;
    q.post = pr.post;
    q.port = pr.port;
    q.weight = pr.weight;
    q.delay = pr.delay;
    if (pr.plasticity) {
      const auto* rule = dynamic_cast<const PlasticityOf<Stdp>*>(pr.plasticity.get());
      if (!rule)
        throw std::invalid_argument("projection '" + pr.name + "': rule has no device code");
      q.stdp = true;
      q.rule.config = rule->config();
      q.rule.dt = net.dt();
      // The values of sim/plasticity.hpp's DecayTable, computed the same way.
      for (std::size_t k = 0; k < kStdpDecayTable; ++k) {
        q.rule.pre_decay.push_back(
            std::exp(-static_cast<double>(k) * net.dt() / q.rule.config.tau_pre));
        q.rule.post_decay.push_back(
            std::exp(-static_cast<double>(k) * net.dt() / q.rule.config.tau_post));
      }
    }
    for (auto& b : pr.blocks) {
      if (q.stdp) q.rule.weights.push_back(b.plastic_weight.data());
      PlanSynapseBlock sb;
      sb.row = b.row.empty() ? nullptr : b.row.data();
      sb.target = b.target.data();
      sb.weight = pr.constant_weight || q.stdp ? nullptr : b.weight.data();
      sb.delay = pr.constant_delay ? nullptr : b.delay.data();
      sb.size = b.size();
      q.synapses += b.size();
      q.blocks.push_back(sb);
    }
    plan.projections.push_back(std::move(q));
  }
  for (const auto& in : net.inputs()) {
    if (const auto* pi = dynamic_cast<const PoissonInput*>(in.get())) {
      const auto d = pi->draw();
      plan.poisson.push_back({in->target, &in->neurons, d.lambda, d.exp_minus_lambda, d.weight,
                              d.port, d.start, d.stop, d.stream, d.cdf});
    } else if (const auto* st = dynamic_cast<const SpikeTimesInput*>(in.get())) {
      plan.spike_times.push_back(
          {in->target, st->port(), st->weight(), &st->steps(), &st->targets()});
    } else if (const auto* sc = dynamic_cast<const StepCurrentInput*>(in.get())) {
      PlanCurrent c;
      c.target = in->target;
      c.neurons = &in->neurons;
      c.steps = &sc->steps();
      c.amplitudes = &sc->amplitudes();
      plan.currents.push_back(c);
    } else if (const auto* ni = dynamic_cast<const NoiseInput*>(in.get())) {
      const auto d = ni->draw();
      PlanCurrent c;
      c.target = in->target;
      c.neurons = &in->neurons;
      c.noise = true;
      c.mean = d.mean;
      c.sd = d.sd;
      c.interval = d.interval;
      c.start = d.start;
      c.stop = d.stop;
      c.stream = d.stream;
      c.uniform = d.uniform;
      plan.currents.push_back(c);
    } else {
      throw std::invalid_argument("input '" + in->name + "' has no device code");
    }
  }
  return plan;
}

DeviceMemory device_memory(const DevicePlan& plan, std::uint32_t block_steps) {
  DeviceMemory m;
  double state = 0, ring = 0, spikes = 0, syn = 0, inputs = 0;
  for (const auto& p : plan.populations) {
    for (const auto& v : p.params) state += 8.0 * v.size;
    for (const auto& v : p.derived) state += 8.0 * v.size;
    state += 8.0 * p.n * (static_cast<double>(p.state.size()) + 1); // state and i_ext
    ring += 8.0 * p.ports * p.slots * p.n; // double or 64-bit fixed point: 8 bytes either way
    // a block's spikes (every neuron at every step) and per-step counts
    spikes += 4.0 * p.n * block_steps + 4.0 * (block_steps + 1);
  }
  for (const auto& pr : plan.projections) {
    const std::uint32_t n_pre = plan.populations[static_cast<std::size_t>(pr.pre)].n;
    for (const auto& b : pr.blocks) {
      syn += 8.0 * (n_pre + 1) + 4.0 * b.size;
      if (b.weight) syn += 4.0 * b.size;
      if (b.delay) syn += 2.0 * b.size;
    }
    if (pr.stdp) {
      const std::uint32_t n_post = plan.populations[static_cast<std::size_t>(pr.post)].n;
      // double weights, transposed index (row per target, synapse and source per entry),
      // traces (value and step) per source and target, decay tables, the pre spike history
      syn += 8.0 * pr.synapses + 4.0 * (n_post + 1) + 8.0 * pr.synapses;
      syn += 16.0 * (n_pre + n_post) + 16.0 * kStdpDecayTable;
      syn += 4.0 * (pr.delay + 1.0) * (n_pre + 1);
    }
  }
  for (const auto& pi : plan.poisson) inputs += 8.0 * pi.cdf->size() + 4.0 * pi.neurons->size();
  for (const auto& st : plan.spike_times) inputs += 4.0 * st.neurons->size();
  for (const auto& c : plan.currents) inputs += 4.0 * c.neurons->size();
  m.parts = {{"neuron state and parameters", state},
             {"ring buffers", ring},
             {"spike buffers (one block of steps)", spikes},
             {"synapses", syn},
             {"inputs", inputs},
             // the CUDA context and the kernels' own image, measured on no device yet: a margin
             {"runtime reserve", 256.0 * 1024 * 1024}};
  return m;
}

std::unique_ptr<StepEngine> make_cuda_engine(const DevicePlan& plan) {
#ifdef GLIA_HAVE_CUDA
  std::uint64_t n = 0;
  for (const auto& p : plan.populations) n += p.n;
  return cuda::create_engine(plan, block_steps_for(n));
#else
  (void)plan;
  throw std::runtime_error("glia was built without CUDA");
#endif
}

} // namespace glia::gpu
