// Memory estimate of an experiment (see memory_estimate.hpp).
#include "io/memory_estimate.hpp"

#include "neurons/registry.hpp"
#include "plasticity/rule.hpp"
#include "sim/population.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>
#include <vector>

namespace glia {
namespace {

constexpr double kDouble = 8.0;
// What a run costs before any network: the binary, its libraries (HDF5, OpenMP, TBB,
// the C++ runtime) and their heaps; the peak of a one-neuron run.
constexpr double kProcessBytes = 15.5 * 1024 * 1024;
// The HDF5 writer: each dataset written to holds its current chunk (64 Ki values,
// io/hdf5_output.cpp) in its chunk cache; plus the metadata cache beyond what a
// one-neuron run already has.
constexpr double kDatasetCacheBytes = 512.0 * 1024;
constexpr double kMetadataCacheBytes = 0.5 * 1024 * 1024;
// Spikes buffered between flushes are counted at this rate per recorded neuron (the
// rate is not known before the run; few networks fire faster on average).
constexpr double kAssumedRateHz = 50.0;

std::uint32_t delay_steps(double ms, double dt) {
  return static_cast<std::uint32_t>(std::clamp(std::round(ms / dt), 1.0, 65535.0));
}

// The longest delay (steps) a projection can draw: a distribution without an upper
// bound is taken to its mean plus 6 standard deviations (about one draw in 10^9 beyond).
std::uint32_t longest_delay(const ProjectionSpec& p, double dt) {
  double ms = p.delay.highest();
  if (!std::isfinite(ms)) {
    ms = p.delay.kind == Distribution::Kind::lognormal
             ? std::abs(p.delay.scale) * std::exp(p.delay.mean + 6.0 * p.delay.std)
             : p.delay.mean + 6.0 * p.delay.std;
  }
  for (double d : p.connect.delays) ms = std::max(ms, d);
  return std::max(delay_steps(ms, dt), p.max_delay > 0 ? delay_steps(p.max_delay, dt) : 1u);
}

// Mean over the points x of a line of `n` unit-spaced points of sum_k exp(-((x - k) / lambda)^2).
double line_kernel_mean(std::uint32_t n, double lambda) {
  const double inv = 1.0 / (lambda * lambda);
  std::vector<double> by_offset(n);
  for (std::uint32_t d = 0; d < n; ++d) by_offset[d] = std::exp(-double(d) * d * inv);
  double sum = 0.0;
  for (std::uint32_t x = 0; x < n; ++x)
    for (std::uint32_t k = 0; k < n; ++k) sum += by_offset[x > k ? x - k : k - x];
  return sum / n;
}

// Synapses of the distance rule. Where both populations take randomly ordered points of
// the same grid, the expectation is exact: exp(-(D / lambda)^2) factorises over the three
// axes, so the mean over a target's position of the kernel summed over all points is a
// product of three line means, and each point is a source with probability
// n_pre / points. Otherwise an upper bound: on an infinite unit grid the kernel sums to
// (lambda sqrt(pi))^3.
double distance_synapses(const ConnectSpec& c, const GridLayout& pre, const GridLayout& post,
                         bool same_population, double n_pre, double n_post) {
  const double p = std::clamp(c.c, 0.0, 1.0);
  const bool shared = pre.placed() && post.placed() && pre.grid == post.grid &&
                      pre.dims == post.dims && pre.shuffle && post.shuffle && pre.points() > 1;
  if (!shared) {
    const double reach = std::pow(c.lambda * std::sqrt(std::numbers::pi), 3.0);
    return p * n_post * std::min(n_pre, reach);
  }
  double kernel = 1.0;
  for (std::uint32_t d : pre.dims) kernel *= line_kernel_mean(d, c.lambda);
  const double points = static_cast<double>(pre.points());
  if (same_population && !c.autapses) // the target itself (kernel 1) is no partner
    return p * n_post * (kernel - 1.0) * (n_pre - 1.0) / (points - 1.0);
  // A target's own point is a source point only when the populations are one.
  const double own = same_population ? 1.0 : 0.0;
  const double others = same_population ? (n_pre - 1.0) / (points - 1.0) : n_pre / (points - 1.0);
  return p * n_post * (own + (kernel - 1.0) * others);
}

double expected_synapses(const ProjectionSpec& p, double n_pre, double n_post) {
  const ConnectSpec& c = p.connect;
  const double self = p.pre == p.post && !c.autapses ? n_post : 0.0;
  switch (c.rule) {
  case ConnectSpec::Rule::all_to_all:
    return n_pre * n_post - self;
  case ConnectSpec::Rule::one_to_one:
    return self > 0 ? 0.0 : n_post;
  case ConnectSpec::Rule::fixed_probability:
    return std::clamp(c.probability, 0.0, 1.0) * (n_pre * n_post - self);
  case ConnectSpec::Rule::fixed_indegree:
    return static_cast<double>(c.degree) * n_post;
  case ConnectSpec::Rule::fixed_outdegree:
    return static_cast<double>(c.degree) * n_pre;
  case ConnectSpec::Rule::fixed_total_number:
    return static_cast<double>(c.total);
  case ConnectSpec::Rule::explicit_list:
    return static_cast<double>(c.targets.size());
  case ConnectSpec::Rule::distance:
    return 0.0; // needs the layouts: distance_synapses
  }
  return 0.0;
}

// State variables (doubles per neuron) and ports of a population's model, from a
// one-neuron instance: vector state and run-time ports depend on [population.shared].
void probe_model(const PopulationSpec& ps, const ModelInfo& info, double dt, double& state,
                 double& ports) {
  state = 0.0;
  for (const auto& s : info.state) state += s.width;
  ports = static_cast<double>(info.ports.size());
  try {
    PopulationSetup setup;
    setup.name = ps.name;
    setup.size = 1;
    setup.shared = ps.shared;
    setup.dt = dt;
    const auto probe = info.create(info, setup);
    state = 0.0;
    for (int k = 0; k < probe->n_state(); ++k) state += probe->state_width(k);
    ports = probe->n_ports();
  } catch (const std::exception&) {
    // The static tables then; building will report what is wrong with the shared data.
  }
}

double read_number_file(const char* path, bool& ok) {
  std::ifstream in(path);
  std::string word;
  ok = static_cast<bool>(in >> word) && word != "max";
  if (!ok) return 0.0;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    ok = false;
    return 0.0;
  }
}

// The number after `key` in a "key value" file (/proc/meminfo, memory.stat).
std::optional<double> stat_value(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string k;
    double v = 0.0;
    if (words >> k >> v && k == key) return v;
  }
  return std::nullopt;
}

} // namespace

double MemoryEstimate::total() const {
  double t = 0.0;
  for (const auto& p : parts) t += p.bytes;
  return t;
}

MemoryEstimate estimate_memory(const Experiment& ex, int threads, bool checkpoints) {
  const double dt = ex.run.dt, blocks = std::max(threads, 1);
  MemoryEstimate m;
  const std::size_t np = ex.populations.size();
  std::vector<double> size(np), slots(np, 1.0), history(np, 2.0);
  for (std::size_t i = 0; i < np; ++i) size[i] = ex.populations[i].size;

  double synapse_bytes = 0.0, plastic_bytes = 0.0, list_bytes = 0.0, archive_bytes = 0.0;
  for (const auto& p : ex.projections) {
    const int pre = ex.population_index(p.pre), post = ex.population_index(p.post);
    if (pre < 0 || post < 0) continue;
    const double n_pre = size[static_cast<std::size_t>(pre)];
    const double n_post = size[static_cast<std::size_t>(post)];
    const double n =
        p.connect.rule == ConnectSpec::Rule::distance
            ? distance_synapses(p.connect, ex.populations[static_cast<std::size_t>(pre)].layout,
                                ex.populations[static_cast<std::size_t>(post)].layout, pre == post,
                                n_pre, n_post)
            : expected_synapses(p, n_pre, n_post);
    m.synapses += n;
    const std::uint32_t d = longest_delay(p, dt);
    auto& s = slots[static_cast<std::size_t>(post)];
    s = std::max(s, d + 1.0);
    const bool varying_weight = !p.weight.is_constant() || !p.connect.weights.empty();
    const bool varying_delay = !p.delay.is_constant() || !p.connect.delays.empty();
    // Per synapse: target (4 B), weight as float (4 B) and delay (2 B) where they vary;
    // per source row and thread block: an 8-byte offset.
    double per = 4.0 + (varying_delay ? 2.0 : 0.0);
    synapse_bytes += n_pre * blocks * 8.0;
    if (p.plasticity.rule.empty()) {
      per += varying_weight ? 4.0 : 0.0;
    } else {
      // Weights in double and the transposed index (post neuron -> synapse, source), while
      // the float weights are converted; one pre trace per source and block, a post
      // state per target.
      per += 8.0;
      plastic_bytes += n * 8.0 + n_pre * blocks * 16.0 + n_post * 32.0 + n_post * blocks * 4.0;
      archive_bytes += n * (8.0 + (varying_delay ? 2.0 : 0.0)) + (n_pre + n_post) * 40.0;
      if (const PlasticityInfo* rule = PlasticityRegistry::global().find(p.plasticity.rule);
          rule && rule->on_arrival) {
        auto& h = history[static_cast<std::size_t>(pre)];
        h = std::max(h, d + 1.0);
      }
    }
    synapse_bytes += n * per;
    // Explicit connection lists stay loaded with the experiment.
    list_bytes += static_cast<double>(p.connect.sources.size() + p.connect.targets.size()) * 4.0 +
                  static_cast<double>(p.connect.weights.size() + p.connect.delays.size()) * kDouble;
  }

  double state_bytes = 0.0, ring_bytes = 0.0, sim_bytes = 0.0;
  for (std::size_t i = 0; i < np; ++i) {
    const PopulationSpec& ps = ex.populations[i];
    m.neurons += size[i];
    double state = 1.0, ports = 1.0;
    if (const ModelInfo* info = Registry::global().find(ps.model)) {
      probe_model(ps, *info, dt, state, ports);
      // A parameter drawn per neuron costs a double per neuron, and makes every derived
      // coefficient per neuron too (about as many as there are parameters).
      double varying = 0.0;
      for (const auto& nv : ps.params) varying += nv.value.is_constant() ? 0.0 : 1.0;
      if (varying > 0) varying += static_cast<double>(info->params.size());
      state_bytes += size[i] * kDouble * (state + 1.0 + varying); // + i_ext
      archive_bytes += size[i] * kDouble * (state + 1.0 + ports * slots[i]);
    }
    ring_bytes += ports * slots[i] * size[i] * kDouble;
    // Spike statistics (36 B per neuron) and the spike lists of the last `history` steps.
    sim_bytes += size[i] * (36.0 + 4.0 * history[i]);
  }

  // Records: state rows of one flush period, spikes of one flush period.
  const double flush_steps = std::max(1.0, std::round(ex.run.flush_interval / dt));
  const double total_steps = std::max(1.0, std::round(ex.run.duration / dt));
  const double period = std::min(flush_steps, total_steps);
  double record_bytes = kMetadataCacheBytes, datasets = 0.0;
  for (const auto& r : ex.records) {
    const int p = ex.population_index(r.population);
    if (r.type == RecordSpec::Type::spikes) {
      const double n = r.neurons.empty() && p >= 0 ? size[static_cast<std::size_t>(p)]
                                                   : static_cast<double>(r.neurons.size());
      record_bytes += 2.0 * 16.0 * n * kAssumedRateHz * period * dt * 1e-3; // x2: vector growth
      datasets += 2.0;
    } else {
      const double every = std::max(1.0, std::round((r.interval < 0 ? dt : r.interval) / dt));
      const double columns = r.neurons.empty() ? 1.0 : static_cast<double>(r.neurons.size());
      const double vars = static_cast<double>(r.variables.size());
      record_bytes += vars * columns * (period / every + 2.0) * kDouble + vars * columns * 8.0;
      datasets += vars;
    }
  }
  record_bytes += datasets * kDatasetCacheBytes;

  // A dataset pipeline (cli/pipeline.cpp) holds the feature matrix (samples x width, in
  // double) twice while extracting (the workers' rows, then the matrix), and in the
  // readout its train / validation / test copies and the standardised train and
  // validation features, plus the matrix itself when features.save keeps it for the
  // output. (The network itself is a few hundred MB at most.)
  double feature_bytes = 0.0;
  if (ex.pipeline()) {
    double width = 0.0;
    for (const auto& name : ex.features.populations)
      if (const int p = ex.population_index(name); p >= 0)
        width += size[static_cast<std::size_t>(p)];
    width *= (ex.features.counts ? 1.0 : 0.0) + static_cast<double>(ex.features.trace_times.size());
    const double n =
        static_cast<double>(ex.dataset.train) + ex.dataset.validation + ex.dataset.test;
    const double fit = static_cast<double>(ex.dataset.train) + ex.dataset.validation;
    const double readout = (ex.features.save ? 2.0 * n : n) + fit;
    feature_bytes = std::max(2.0 * n, readout) * width * kDouble;
  }

  m.parts = {{"synapses", synapse_bytes},
             {"dataset features", feature_bytes},
             {"plasticity", plastic_bytes},
             {"ring buffers", ring_bytes},
             {"neuron state", state_bytes},
             {"spike statistics", sim_bytes},
             {"recording", record_bytes},
             {"connection lists", list_bytes},
             {"checkpoint being written", checkpoints ? archive_bytes : 0.0},
             {"process", kProcessBytes}};
  return m;
}

std::optional<double> available_memory_bytes() {
  std::optional<double> available = stat_value("/proc/meminfo", "MemAvailable:");
  if (available) *available *= 1024.0; // kB
  // A cgroup's usage counts the page cache, which is reclaimed before the limit bites.
  bool ok_limit = false, ok_used = false;
  double limit = read_number_file("/sys/fs/cgroup/memory.max", ok_limit);
  double used = read_number_file("/sys/fs/cgroup/memory.current", ok_used);
  std::optional<double> cache = stat_value("/sys/fs/cgroup/memory.stat", "inactive_file");
  if (!ok_limit) {
    limit = read_number_file("/sys/fs/cgroup/memory/memory.limit_in_bytes", ok_limit);
    used = read_number_file("/sys/fs/cgroup/memory/memory.usage_in_bytes", ok_used);
    cache = stat_value("/sys/fs/cgroup/memory/memory.stat", "total_inactive_file");
  }
  // cgroup v1 reports "no limit" as a huge number.
  if (ok_limit && limit < 1e18) {
    const double left = std::max(0.0, limit - (ok_used ? used - cache.value_or(0.0) : 0.0));
    available = available ? std::min(*available, left) : left;
  }
  return available;
}

} // namespace glia
