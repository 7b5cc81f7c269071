// Experiment -> Network (see network_builder.hpp).
#include "io/network_builder.hpp"

#include "io/expression.hpp"
#include "neurons/registry.hpp"
#include "plasticity/modulator.hpp"
#include "plasticity/rule.hpp"
#include "sim/plasticity.hpp"
#include "sim/weight_monitor.hpp"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>

namespace glia {
namespace {

std::uint64_t to_step(double ms, double dt) {
  return static_cast<std::uint64_t>(std::llround(std::max(ms, 0.0) / dt));
}

[[noreturn]] void fail(const SourceLocation& where, const std::string& what) {
  throw InputError(where.str() + ": " + what);
}

// Per-neuron values of populations' random variables, parameters and initial state,
// in the order expressions may refer to them.
class PopulationValues {
public:
  PopulationValues(const PopulationSpec& spec, Population& pop, std::uint32_t seed)
      : spec_(spec), pop_(pop), seed_(seed) {}

  void build() {
    const std::uint32_t n = pop_.size();
    const auto& info = pop_.model();
    // Random variables first: parameters and state may be expressions over them.
    for (std::size_t v = 0; v < spec_.random.size(); ++v) {
      const Stream s{seed_,
                     stream_id(StreamKind::variable, pop_.index(), static_cast<std::uint32_t>(v))};
      std::vector<double> x(n);
      for (std::uint32_t i = 0; i < n; ++i) x[i] = spec_.random[v].value.draw(s, i, 0);
      add_name(spec_.random[v].name, std::move(x));
    }
    // Parameters: given ones first in file order, so that expressions can use earlier ones;
    // defaults are visible to expressions as constants.
    for (std::size_t k = 0; k < info.params.size(); ++k)
      add_name(std::string(info.params[k].name), {info.params[k].default_value});
    for (const auto& nv : spec_.params) {
      const int k = find_spec(info.params, nv.name);
      std::vector<double> vals = values_of(nv, StreamKind::param, k);
      for (double x : vals)
        if (!info.params[k].range.contains(x))
          fail(nv.where, "population '" + spec_.name + "'.params." + nv.name + ": must be " +
                             info.params[k].range.describe() + ", got " + std::to_string(x));
      set_name(nv.name, vals);
      pop_.set_param(k, std::move(vals));
    }
    for (std::size_t k = 0; k < info.state.size(); ++k) {
      const int w = pop_.state_width(static_cast<int>(k));
      if (w == 1) add_name(std::string(info.state[k].name), {pop_.state(static_cast<int>(k))[0]});
    }
    for (const auto& nv : spec_.init) {
      const int k = find_spec(info.state, nv.name);
      const int w = pop_.state_width(k);
      double* st = pop_.state(k);
      if (w == 1) {
        std::vector<double> vals = values_of(nv, StreamKind::init, k);
        for (std::uint32_t i = 0; i < n; ++i) st[i] = vals.size() == 1 ? vals[0] : vals[i];
        set_name(nv.name, std::move(vals));
      } else {
        // Vector state: each element drawn on its own counter.
        const Stream s{seed_,
                       stream_id(StreamKind::init, pop_.index(), static_cast<std::uint32_t>(k))};
        for (int j = 0; j < w; ++j)
          for (std::uint32_t i = 0; i < n; ++i)
            st[static_cast<std::size_t>(j) * n + i] =
                nv.value.kind == Distribution::Kind::expression
                    ? eval_at(nv, i)
                    : nv.value.draw(s, i, static_cast<std::uint32_t>(j));
      }
    }
  }

private:
  std::vector<double> values_of(const NamedValue& nv, StreamKind kind, int k) {
    const std::uint32_t n = pop_.size();
    if (nv.value.kind == Distribution::Kind::constant) return {nv.value.value};
    std::vector<double> out(n);
    if (nv.value.kind == Distribution::Kind::expression) {
      for (std::uint32_t i = 0; i < n; ++i) out[i] = eval_at(nv, i);
      return out;
    }
    const Stream s{seed_, stream_id(kind, pop_.index(), static_cast<std::uint32_t>(k))};
    for (std::uint32_t i = 0; i < n; ++i) out[i] = nv.value.draw(s, i, 0);
    return out;
  }

  double eval_at(const NamedValue& nv, std::uint32_t i) {
    auto& cache = compiled_[nv.value.expression];
    if (!cache.ready) {
      try {
        cache.expr = Expression::parse(nv.value.expression);
        cache.bound = cache.expr.bind(names_);
      } catch (const std::invalid_argument& e) {
        fail(nv.where, "population '" + spec_.name + "'." + nv.name + ": " + e.what());
      }
      cache.ready = true;
    }
    scratch_.resize(names_.size());
    for (std::size_t v = 0; v < names_.size(); ++v)
      scratch_[v] = values_[v].size() == 1 ? values_[v][0] : values_[v][i];
    return cache.bound(scratch_.data());
  }

  void add_name(const std::string& name, std::vector<double> v) {
    names_.push_back(name);
    values_.push_back(std::move(v));
  }
  void set_name(const std::string& name, std::vector<double> v) {
    for (std::size_t k = 0; k < names_.size(); ++k)
      if (names_[k] == name) {
        values_[k] = std::move(v);
        return;
      }
    add_name(name, std::move(v));
  }

  struct Compiled {
    bool ready = false;
    Expression expr;
    BoundExpression bound;
  };
  const PopulationSpec& spec_;
  Population& pop_;
  std::uint32_t seed_;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> values_;
  std::vector<double> scratch_;
  std::map<std::string, Compiled> compiled_;
};

int resolve_port(const ModelInfo& info, const Population& post, const std::string& port,
                 const SourceLocation& where, const std::string& what) {
  if (port.empty()) return 0;
  const int k = find_spec(info.ports, port);
  if (k >= 0) return k;
  // Ports beyond the static table are addressed as "port[k]".
  if (port.rfind("port[", 0) == 0 && port.back() == ']') {
    // The whole text between the brackets must be the index ("port[x]" is no port 0).
    const char* first = port.data() + 5;
    const char* last = port.data() + port.size() - 1;
    int idx = -1;
    const auto res = std::from_chars(first, last, idx);
    if (res.ec == std::errc() && res.ptr == last && idx >= 0 && idx < post.n_ports()) return idx;
  }
  std::vector<std::string> names;
  for (const auto& p : info.ports) names.emplace_back(p.name);
  const std::string near = nearest_name(port, names);
  fail(where, what + ".port: model '" + std::string(info.name) + "' has no port '" + port + "'" +
                  (near.empty() ? "" : " (did you mean '" + near + "'?)"));
}

} // namespace

int resolve_threads(const Experiment& ex, int threads_override) {
  int t = threads_override > 0 ? threads_override : ex.run.threads;
  if (t <= 0) t = omp_get_num_procs();
  return std::max(t, 1);
}

std::unique_ptr<Network> build_network(const Experiment& ex, int threads_override) {
  const double dt = ex.run.dt;
  const std::uint32_t seed = ex.run.seed;
  auto net = std::make_unique<Network>(dt, seed, resolve_threads(ex, threads_override));

  for (const auto& ps : ex.populations) {
    const ModelInfo* info = Registry::global().find(ps.model);
    if (!info) fail(ps.where, "population '" + ps.name + "': unknown model '" + ps.model + "'");
    PopulationSetup setup;
    setup.name = ps.name;
    setup.size = ps.size;
    setup.shared = ps.shared;
    setup.integrator = 0;
    if (!ps.integrator.empty()) {
      const auto it = std::find(info->integrators.begin(), info->integrators.end(), ps.integrator);
      if (it == info->integrators.end())
        fail(ps.where, "population '" + ps.name + "'.integrator: unknown '" + ps.integrator + "'");
      setup.integrator = static_cast<int>(it - info->integrators.begin());
    }
    Population* pop = nullptr;
    try {
      pop = &net->add_population(*info, setup);
    } catch (const std::invalid_argument& e) {
      fail(ps.where, "population '" + ps.name + "'.shared: " + e.what());
    }
    PopulationValues(ps, *pop, seed).build();
    if (ps.layout.placed())
      net->set_positions(pop->index(), grid_positions(ps.layout, ps.size, seed));
  }

  for (std::size_t j = 0; j < ex.projections.size(); ++j) {
    const ProjectionSpec& ps = ex.projections[j];
    const int pre = net->population_index(ps.pre), post = net->population_index(ps.post);
    if (pre < 0 || post < 0) fail(ps.where, "projection '" + ps.name + "': unknown population");
    Population& post_pop = *net->populations()[post];
    Projection proj;
    proj.name = ps.name;
    proj.pre = pre;
    proj.post = post;
    proj.port =
        resolve_port(post_pop.model(), post_pop, ps.port, ps.where, "projection '" + ps.name + "'");
    ConnectRequest req;
    req.spec = &ps.connect;
    req.weight = ps.weight;
    req.delay = ps.delay;
    req.n_pre = net->populations()[pre]->size();
    req.n_post = post_pop.size();
    req.same_population = pre == post;
    req.dt = dt;
    req.seed = seed;
    req.index = static_cast<std::uint32_t>(j);
    req.pre_pos = &net->positions(pre);
    req.post_pos = &net->positions(post);
    try {
      connect(proj, req, net->blocks(post));
    } catch (const std::invalid_argument& e) {
      fail(ps.where, "projection '" + ps.name + "'.connect: " + e.what());
    }
    if (ps.max_delay > 0)
      proj.max_delay = std::max<std::uint16_t>(
          proj.max_delay, static_cast<std::uint16_t>(std::llround(ps.max_delay / dt)));
    net->add_projection(std::move(proj));
  }

  for (std::size_t j = 0; j < ex.inputs.size(); ++j) {
    const InputSpec& is = ex.inputs[j];
    const int target = net->population_index(is.target);
    if (target < 0)
      fail(is.where, "input '" + is.name + "': unknown population '" + is.target + "'");
    Population& pop = *net->populations()[target];
    std::vector<std::uint32_t> neurons = is.neurons;
    const Stream stream{seed, stream_id(StreamKind::input, static_cast<std::uint32_t>(j))};
    const std::uint64_t start = to_step(is.start, dt);
    const std::uint64_t stop = is.stop < 0 ? UINT64_MAX : to_step(is.stop, dt);
    std::unique_ptr<Input> in;
    using T = InputSpec::Type;
    switch (is.type) {
    case T::poisson: {
      const int port = resolve_port(pop.model(), pop, is.port, is.where, "input '" + is.name + "'");
      in = std::make_unique<PoissonInput>(is.rate, is.weight, port, start, stop, dt, stream);
      break;
    }
    case T::spike_times: {
      const int port = resolve_port(pop.model(), pop, is.port, is.where, "input '" + is.name + "'");
      const double delay = is.delay < 0 ? dt : is.delay;
      std::vector<std::pair<std::uint64_t, std::uint32_t>> ev;
      auto targets_of = [&](std::size_t k, auto&& f) {
        if (!is.ids.empty()) {
          f(neurons.empty() ? is.ids[k] : neurons[is.ids[k]]);
        } else if (neurons.empty()) {
          for (std::uint32_t i = 0; i < pop.size(); ++i) f(i);
        } else {
          for (auto i : neurons) f(i);
        }
      };
      // A repeating pattern fills the run; a single one is kept whole.
      const double until = is.stop >= 0 ? is.stop : (is.period > 0 ? ex.run.duration : kInf);
      for (double t0 = is.start; t0 < until; t0 += is.period) {
        for (std::size_t k = 0; k < is.times.size(); ++k) {
          const double t = t0 + is.times[k];
          if (t >= until) continue;
          // A spike at time t arrives at t + delay, i.e. in the step that ends then.
          const std::int64_t arrive = std::llround((t + delay) / dt) - 1;
          if (arrive < 0) fail(is.where, "input '" + is.name + "': spike time before t = 0");
          targets_of(
              k, [&](std::uint32_t i) { ev.emplace_back(static_cast<std::uint64_t>(arrive), i); });
        }
        if (is.period <= 0) break;
      }
      std::stable_sort(ev.begin(), ev.end(), [](auto& a, auto& b) { return a.first < b.first; });
      std::vector<std::uint64_t> steps;
      std::vector<std::uint32_t> tg;
      for (auto& [s, i] : ev) {
        steps.push_back(s);
        tg.push_back(i);
      }
      in = std::make_unique<SpikeTimesInput>(std::move(steps), std::move(tg), is.weight, port);
      neurons.clear(); // targets are per event
      break;
    }
    case T::dc: {
      std::vector<std::uint64_t> steps{start};
      std::vector<double> amps{is.amplitude};
      if (stop != UINT64_MAX) {
        steps.push_back(stop);
        amps.push_back(0.0);
      }
      in = std::make_unique<StepCurrentInput>(std::move(steps), std::move(amps));
      break;
    }
    case T::step_current: {
      std::vector<std::uint64_t> steps;
      for (double t : is.times) steps.push_back(to_step(t, dt));
      in = std::make_unique<StepCurrentInput>(std::move(steps), is.amplitudes);
      break;
    }
    case T::noise: {
      const std::uint64_t every =
          is.interval < 0 ? 1 : std::max<std::uint64_t>(1, to_step(is.interval, dt));
      in = std::make_unique<NoiseInput>(is.mean, is.std, every, start, stop, stream, is.uniform);
      break;
    }
    }
    std::sort(neurons.begin(), neurons.end());
    neurons.erase(std::unique(neurons.begin(), neurons.end()), neurons.end());
    in->name = is.name;
    in->target = target;
    in->neurons = std::move(neurons);
    net->add_input(std::move(in));
  }
  // Modulators observe populations and projections; rules read modulators.
  for (std::size_t j = 0; j < ex.modulators.size(); ++j) {
    const ModulatorSpec& ms = ex.modulators[j];
    const ModulatorInfo* info = ModulatorRegistry::global().find(ms.type);
    if (!info) fail(ms.where, "unknown modulator type '" + ms.type + "'");
    ModulatorSetup setup;
    setup.name = ms.name;
    setup.index = static_cast<int>(j);
    setup.params = ms.params;
    setup.options = ms.options;
    setup.arrays = ms.arrays;
    for (std::size_t k = 0; k < ms.objects.size(); ++k) {
      std::vector<int> idx;
      for (const auto& name : ms.objects[k])
        idx.push_back(info->objects[k].kind == ObjectRefSpec::Kind::projection
                          ? ex.projection_index(name)
                          : net->population_index(name));
      setup.objects.push_back(std::move(idx));
    }
    setup.dt = dt;
    setup.seed = seed;
    setup.net = net.get();
    try {
      net->add_modulator(info->create(setup));
    } catch (const std::invalid_argument& e) {
      fail(ms.where, "modulator '" + ms.name + "': " + e.what());
    }
  }
  for (std::size_t j = 0; j < ex.projections.size(); ++j) {
    const ProjectionSpec& ps = ex.projections[j];
    if (ps.plasticity.rule.empty()) continue;
    Projection& pr = net->projections()[j];
    const PlasticityInfo* rule = PlasticityRegistry::global().find(ps.plasticity.rule);
    if (!rule) fail(ps.plasticity.where, "unknown plasticity rule '" + ps.plasticity.rule + "'");
    PlasticitySetup setup{ps.plasticity.params, ps.plasticity.options, dt, {}};
    setup.seed = seed;
    setup.index = static_cast<std::uint32_t>(j);
    for (const auto& name : ps.plasticity.refs) {
      const int m = name.empty() ? -1 : net->modulator_index(name);
      setup.refs.push_back(m < 0 ? nullptr : net->modulators()[static_cast<std::size_t>(m)].get());
    }
    try {
      pr.plasticity = rule->create(setup);
      pr.plasticity->attach(pr, net->populations()[pr.pre]->size(),
                            net->populations()[pr.post]->size());
    } catch (const std::invalid_argument& e) {
      fail(ps.plasticity.where, "projection '" + ps.name + "'.plasticity: " + e.what());
    }
  }
  net->prepare();
  return net;
}

bool resolve_state_name(const Population& pop, const std::string& name, int& var, int& element) {
  std::string base = name;
  element = -1;
  if (const auto br = name.find('['); br != std::string::npos && name.back() == ']') {
    base = name.substr(0, br);
    element = std::atoi(name.substr(br + 1, name.size() - br - 2).c_str());
  }
  var = find_spec(pop.model().state, base);
  if (var < 0) return false;
  if (element >= pop.state_width(var)) return false;
  if (element < 0 && pop.state_width(var) == 1) element = 0;
  return true;
}

namespace {

// A weights record: one monitor per variable. Pairs that the connection rule did not
// connect are only known now, so they are reported here, at the pair in the file.
void attach_weights(const RecordSpec& r, const Experiment& ex, Simulator& sim) {
  const WeightRecordSpec& w = r.weights;
  const double dt = ex.run.dt;
  const int pi = ex.projection_index(w.projection); // the network keeps the file's order
  const Projection& pr = sim.network().projections()[static_cast<std::size_t>(pi)];
  for (std::size_t k = 0; k < w.synapses.size(); ++k) {
    const auto [j, i] = w.synapses[k];
    if (find_synapses(pr, j, i).empty())
      fail(w.synapse_where[k], w.prefix + ".synapses[" + std::to_string(k) + "]: neurons [" +
                                   std::to_string(j) + ", " + std::to_string(i) +
                                   "] are not connected by projection '" + w.projection + "'");
  }
  WeightMonitorRequest req;
  req.projection = pi;
  req.histogram = w.synapses.empty();
  req.pairs = w.synapses;
  req.bins = w.bins;
  req.low = w.low;
  req.high = w.high;
  if (w.times.empty()) {
    req.schedule.start = to_step(w.start, dt);
    req.schedule.every = std::max<std::uint64_t>(1, to_step(r.interval, dt));
  } else {
    for (double t : w.times) req.schedule.steps.push_back(to_step(t, dt));
  }
  for (const auto& v : r.variables) {
    req.variable = v == "delay" ? SynapseVariable::delay : SynapseVariable::weight;
    sim.record_weights(req);
  }
}

} // namespace

void attach_records(const Experiment& ex, Simulator& sim) {
  // Spikes: one report per population, the union of the neurons asked for.
  std::map<int, std::vector<std::uint32_t>> spike_sets;
  std::map<int, bool> spike_all;
  std::vector<int> order;
  for (const auto& r : ex.records) {
    if (r.type != RecordSpec::Type::spikes) continue;
    const int p = ex.population_index(r.population);
    if (!spike_sets.count(p) && !spike_all.count(p)) order.push_back(p);
    if (r.neurons.empty()) spike_all[p] = true;
    auto& s = spike_sets[p];
    s.insert(s.end(), r.neurons.begin(), r.neurons.end());
  }
  for (int p : order) {
    if (spike_all.count(p)) {
      sim.record_spikes(p);
    } else {
      auto s = spike_sets[p];
      std::sort(s.begin(), s.end());
      s.erase(std::unique(s.begin(), s.end()), s.end());
      sim.record_spikes(p, s);
    }
  }
  for (const auto& r : ex.records) {
    if (r.type != RecordSpec::Type::modulator) continue;
    const int mi = sim.network().modulator_index(r.population);
    const Modulator& m = *sim.network().modulators()[static_cast<std::size_t>(mi)];
    const double interval = r.interval < 0 ? ex.run.dt : r.interval;
    const auto every = std::max<std::uint64_t>(1, to_step(interval, ex.run.dt));
    for (const auto& name : r.variables) {
      const int var = find_spec(m.variable_specs(), name);
      std::vector<std::uint32_t> elements = r.neurons;
      if (elements.empty())
        for (std::uint32_t e = 0; e < m.width(var); ++e) elements.push_back(e);
      for (auto e : elements)
        if (e >= m.width(var))
          fail(r.where, "record of modulator '" + m.name() + "': element " + std::to_string(e) +
                            " of '" + name + "' is out of range (it has " +
                            std::to_string(m.width(var)) + ")");
      sim.record_modulator(mi, var, elements, every, name);
    }
  }
  for (const auto& r : ex.records) {
    if (r.type != RecordSpec::Type::state) continue;
    const int p = ex.population_index(r.population);
    const Population& pop = sim.network().populations()[p].operator*();
    std::vector<std::uint32_t> neurons =
        r.neurons.empty() ? std::vector<std::uint32_t>{0} : r.neurons;
    const double interval = r.interval < 0 ? ex.run.dt : r.interval;
    const auto every = std::max<std::uint64_t>(1, to_step(interval, ex.run.dt));
    for (const auto& name : r.variables) {
      int var = 0, element = 0;
      if (!resolve_state_name(pop, name, var, element))
        fail(r.where, "record '" + r.population + "': unknown variable '" + name + "'");
      if (element >= 0) {
        sim.record_state(p, var, element, neurons, every, name);
      } else {
        for (int j = 0; j < pop.state_width(var); ++j)
          sim.record_state(p, var, j, neurons, every, name + "[" + std::to_string(j) + "]");
      }
    }
  }
  for (const auto& r : ex.records)
    if (r.type == RecordSpec::Type::weights) attach_weights(r, ex, sim);
}

} // namespace glia
