// Weight and delay monitors (see weight_monitor.hpp).
#include "sim/weight_monitor.hpp"

#include "sim/network.hpp"
#include "sim/plasticity.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace glia {

bool SampleSchedule::contains(std::uint64_t n) const {
  if (!steps.empty()) return std::binary_search(steps.begin(), steps.end(), n);
  return n >= start && (n - start) % every == 0;
}

std::uint64_t SampleSchedule::count(std::uint64_t n) const {
  if (!steps.empty())
    return static_cast<std::uint64_t>(std::upper_bound(steps.begin(), steps.end(), n) -
                                      steps.begin());
  return n < start ? 0 : (n - start) / every + 1;
}

std::vector<std::pair<std::size_t, std::uint64_t>>
find_synapses(const Projection& proj, std::uint32_t pre, std::uint32_t post) {
  std::vector<std::pair<std::size_t, std::uint64_t>> out;
  for (std::size_t b = 0; b < proj.blocks.size(); ++b) {
    const SynapseBlock& blk = proj.blocks[b];
    if (post < blk.target_lo || post >= blk.target_hi || pre + 1u >= blk.row.size()) continue;
    // Targets are sorted inside a row.
    const auto first = blk.target.begin() + static_cast<std::ptrdiff_t>(blk.row[pre]);
    const auto last = blk.target.begin() + static_cast<std::ptrdiff_t>(blk.row[pre + 1]);
    const auto [lo, hi] = std::equal_range(first, last, post);
    for (auto it = lo; it != hi; ++it)
      out.emplace_back(b, static_cast<std::uint64_t>(it - blk.target.begin()));
  }
  return out;
}

std::size_t WeightMonitors::Monitor::bin(double v) const {
  const std::size_t bins = request.bins;
  if (v < request.low) return bins;
  if (!(v <= request.high)) return bins + 1;
  std::size_t k = std::min(static_cast<std::size_t>((v - request.low) * scale), bins - 1);
  // The scaling may round across an edge: the stored edges decide.
  while (k > 0 && v < edges[k]) --k;
  while (k + 1 < bins && v >= edges[k + 1]) ++k;
  return k;
}

int WeightMonitors::add(const WeightMonitorRequest& request, RecordingSink* sink) {
  const Projection& pr = net_.projections().at(static_cast<std::size_t>(request.projection));
  const Population& pre_pop = *net_.populations()[static_cast<std::size_t>(pr.pre)];
  const Population& post_pop = *net_.populations()[static_cast<std::size_t>(pr.post)];
  Monitor m;
  m.request = request;
  m.per_block.resize(pr.blocks.size());
  if (request.histogram) {
    if (request.bins == 0 || !(request.low < request.high))
      throw std::invalid_argument("weight histogram of projection '" + pr.name +
                                  "' needs bins >= 1 and low < high");
    m.columns = request.bins + 2u;
    for (std::uint32_t k = 0; k <= request.bins; ++k)
      m.edges.push_back(request.low + (request.high - request.low) * k / request.bins);
    m.edges.back() = request.high;
    m.scale = static_cast<double>(request.bins) / (request.high - request.low);
  } else {
    for (const auto& [j, i] : request.pairs) {
      // Appended piece by piece: GCC 12 reports a false -Wrestrict on "[" + std::string.
      std::string pair("[");
      pair.append(std::to_string(j)).append(", ").append(std::to_string(i)).append("]");
      if (j >= pre_pop.size() || i >= post_pop.size())
        throw std::invalid_argument("synapse " + pair + " of projection '" + pr.name +
                                    "' is out of range");
      const auto found = find_synapses(pr, j, i);
      if (found.empty())
        throw std::invalid_argument("neurons " + pair + " of projection '" + pr.name +
                                    "' are not connected");
      m.targets.resize(pr.blocks.size());
      for (const auto& [b, s] : found) {
        if (!std::ranges::count(m.targets[b], i)) m.targets[b].push_back(i);
        m.per_block[b].emplace_back(static_cast<std::uint32_t>(m.columns++), s);
        m.pre.push_back(j);
        m.post.push_back(i);
      }
    }
  }
  const int id = static_cast<int>(monitors_.size());
  if (sink) {
    WeightReportInfo info;
    info.projection = pr.name;
    const bool weight = request.variable == SynapseVariable::weight;
    info.variable = weight ? "weight" : "delay";
    const auto ports = post_pop.model().ports;
    const auto port = static_cast<std::size_t>(pr.port);
    info.unit = !weight ? "ms" : port < ports.size() ? std::string(ports[port].unit) : "";
    info.histogram = request.histogram;
    info.pre = m.pre;
    info.post = m.post;
    info.bin_edges = m.edges;
    info.n_synapses = pr.n_synapses();
    info.explicit_times = !request.schedule.steps.empty();
    info.start = static_cast<double>(request.schedule.start) * net_.dt();
    info.interval = static_cast<double>(request.schedule.every) * net_.dt();
    sink->declare_weights(id, info);
  }
  monitors_.push_back(std::move(m));
  return id;
}

std::uint64_t WeightMonitors::base(const Monitor& m, std::uint64_t from) const {
  return keep_all_ || from == 0 ? 0 : m.request.schedule.count(from);
}

void WeightMonitors::begin_run(std::uint64_t start, std::uint64_t end, std::uint64_t flush_steps,
                               bool keep_all) {
  keep_all_ = keep_all;
  settled_.assign(net_.projections().size(), std::vector<std::int64_t>(net_.threads(), -1));
  for (Monitor& m : monitors_) {
    std::uint64_t rows = 0;
    if (keep_all) {
      rows = m.request.schedule.count(end);
    } else {
      for (std::uint64_t from = start; from < end; from += flush_steps)
        rows = std::max(rows, m.request.schedule.count(std::min(from + flush_steps, end)) -
                                  base(m, from));
    }
    const std::size_t n = static_cast<std::size_t>(rows) * m.columns;
    if (m.request.histogram) {
      m.block_counts.resize(m.per_block.size());
      for (auto& c : m.block_counts) c.resize(std::max(c.size(), n));
      m.counts.resize(std::max(m.counts.size(), n));
    } else {
      m.values.resize(std::max(m.values.size(), n));
    }
    m.times.resize(std::max<std::size_t>(m.times.size(), rows));
  }
}

double WeightMonitors::value(const Projection& pr, std::size_t b, std::uint64_t s,
                             SynapseVariable v) const {
  const SynapseBlock& blk = pr.blocks[b];
  return v == SynapseVariable::weight ? pr.weight_of(blk, s)
                                      : static_cast<double>(pr.delay_of(blk, s)) * net_.dt();
}

void WeightMonitors::count(const Monitor& m, const Projection& pr, std::size_t b,
                           std::uint64_t* hist) const {
  const SynapseBlock& blk = pr.blocks[b];
  const bool weight = m.request.variable == SynapseVariable::weight;
  if (weight && !blk.plastic_weight.empty()) {
    for (double w : blk.plastic_weight) ++hist[m.bin(w)];
  } else if (weight ? pr.constant_weight : pr.constant_delay) {
    if (blk.size() > 0) hist[m.bin(value(pr, b, 0, m.request.variable))] += blk.size();
  } else {
    for (std::uint64_t s = 0; s < blk.size(); ++s)
      ++hist[m.bin(value(pr, b, s, m.request.variable))];
  }
}

void WeightMonitors::sample(std::uint64_t n, std::size_t b, std::uint64_t flush_from) {
  for (Monitor& m : monitors_) {
    if (!m.request.schedule.contains(n)) continue;
    const auto p = static_cast<std::size_t>(m.request.projection);
    Projection& pr = net_.projections()[p];
    // Pending updates first: all of the block's for a histogram, only those into the
    // chosen synapses' targets for snapshots.
    if (pr.plasticity && settled_[p][b] != static_cast<std::int64_t>(n)) {
      if (m.request.histogram) {
        pr.plasticity->settle(pr, b);
        settled_[p][b] = static_cast<std::int64_t>(n);
      } else if (!m.targets[b].empty()) {
        pr.plasticity->settle_targets(pr, b, m.targets[b]);
      }
    }
    const std::size_t row =
        static_cast<std::size_t>(m.request.schedule.count(n) - 1 - base(m, flush_from));
    if (m.request.histogram) {
      std::uint64_t* hist = m.block_counts[b].data() + row * m.columns;
      std::fill(hist, hist + m.columns, 0);
      count(m, pr, b, hist);
    } else {
      double* out = m.values.data() + row * m.columns;
      for (const auto& [c, s] : m.per_block[b]) out[c] = value(pr, b, s, m.request.variable);
    }
  }
}

void WeightMonitors::flush(std::uint64_t from, std::uint64_t to, RecordingSink* sink) {
  for (std::size_t id = 0; id < monitors_.size(); ++id) {
    Monitor& m = monitors_[id];
    const SampleSchedule& sch = m.request.schedule;
    const std::uint64_t first = from == 0 ? 0 : sch.count(from), last = sch.count(to);
    if (last == first) continue;
    const std::size_t r0 = static_cast<std::size_t>(first - base(m, from));
    const std::size_t rows = static_cast<std::size_t>(last - first);
    for (std::size_t r = 0; r < rows; ++r)
      m.times[r0 + r] = static_cast<double>(sch.at(first + r)) * net_.dt();
    const std::span<const double> times(m.times.data() + r0, rows);
    const std::size_t a = r0 * m.columns, n = rows * m.columns;
    if (m.request.histogram) {
      std::fill(m.counts.begin() + static_cast<std::ptrdiff_t>(a),
                m.counts.begin() + static_cast<std::ptrdiff_t>(a + n), 0);
      for (const auto& c : m.block_counts)
        for (std::size_t k = a; k < a + n; ++k) m.counts[k] += c[k];
      if (sink)
        sink->append_weight_histogram(static_cast<int>(id), times,
                                      std::span<const std::uint64_t>(m.counts.data() + a, n));
    } else if (sink) {
      sink->append_weights(static_cast<int>(id), times,
                           std::span<const double>(m.values.data() + a, n));
    }
    m.n_rows = static_cast<std::size_t>(r0 + rows);
  }
}

} // namespace glia
