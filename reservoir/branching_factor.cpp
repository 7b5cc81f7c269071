// Branching factor (see branching_factor.hpp).
#include "reservoir/branching_factor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace glia {

SpikeGraph SpikeGraph::from_edges(std::uint32_t n,
                                  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges) {
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  SpikeGraph g;
  g.n = n;
  g.out_row.assign(n + 1u, 0);
  g.in_row.assign(n + 1u, 0);
  for (const auto& [a, b] : edges) {
    if (a >= n || b >= n) throw std::out_of_range("edge out of range");
    ++g.out_row[a + 1u];
    ++g.in_row[b + 1u];
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    g.out_row[i + 1u] += g.out_row[i];
    g.in_row[i + 1u] += g.in_row[i];
  }
  g.out.resize(edges.size());
  g.in.resize(edges.size());
  std::vector<std::uint64_t> fo(g.out_row.begin(), g.out_row.end() - 1);
  std::vector<std::uint64_t> fi(g.in_row.begin(), g.in_row.end() - 1);
  for (const auto& [a, b] : edges) {
    g.out[fo[a]++] = b;
    g.in[fi[b]++] = a;
  }
  return g;
}

SpikeGraph liquid_graph(const Network& net, const std::vector<int>& populations) {
  std::vector<std::int64_t> offset_of(net.populations().size(), -1);
  std::uint32_t n = 0;
  std::vector<std::uint32_t> offsets;
  for (int p : populations) {
    offset_of[static_cast<std::size_t>(p)] = n;
    offsets.push_back(n);
    n += net.populations()[static_cast<std::size_t>(p)]->size();
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (const Projection& pr : net.projections()) {
    const std::int64_t a = offset_of[static_cast<std::size_t>(pr.pre)];
    const std::int64_t b = offset_of[static_cast<std::size_t>(pr.post)];
    if (a < 0 || b < 0) continue;
    for (const SynapseBlock& sb : pr.blocks)
      for (std::uint32_t j = 0; j + 1 < sb.row.size(); ++j)
        for (std::uint64_t k = sb.row[j]; k < sb.row[j + 1]; ++k)
          edges.emplace_back(static_cast<std::uint32_t>(a + j),
                             static_cast<std::uint32_t>(b + sb.target[k]));
  }
  SpikeGraph g = SpikeGraph::from_edges(n, std::move(edges));
  g.populations = populations;
  g.offset = std::move(offsets);
  return g;
}

BranchingFactor::BranchingFactor(SpikeGraph graph, std::uint32_t window, std::uint64_t from,
                                 std::vector<std::uint64_t> segment_ends)
    : g_(std::move(graph)), window_(std::max<std::uint32_t>(window, 1)), from_(from),
      ends_(std::move(segment_ends)) {
  if (ends_.empty()) ends_.push_back(std::numeric_limits<std::uint64_t>::max());
  ring_.resize(2u * window_ + 2u);
  fwd_.assign(g_.n, 0);
  bwd_.assign(g_.n, 0);
  sum_.assign(ends_.size() * g_.n, 0.0);
  count_.assign(ends_.size() * g_.n, 0);
}

void BranchingFactor::observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) {
  scratch_.clear();
  for (std::size_t k = 0; k < g_.populations.size(); ++k) {
    const std::uint32_t off = g_.offset[k];
    spikes[static_cast<std::size_t>(g_.populations[k])].for_each(
        [&](std::uint32_t i) { scratch_.push_back(off + i); });
  }
  add_step(step, scratch_);
}

void BranchingFactor::add_step(std::uint64_t t, const std::vector<std::uint32_t>& ids) {
  const std::uint64_t w = window_, size = ring_.size();
  auto at = [&](std::uint64_t step) -> const std::vector<std::uint32_t>& {
    return ring_[step % size];
  };
  ring_[t % size] = ids;
  // fwd_ holds steps (t0, t], bwd_ steps [t0 - W, t0 - 1], for t0 = t - W: slide both by one.
  for (std::uint32_t i : ids) ++fwd_[i];
  if (t < w) return;
  const std::uint64_t t0 = t - w;
  for (std::uint32_t i : at(t0)) --fwd_[i];
  if (t0 >= 1)
    for (std::uint32_t i : at(t0 - 1)) ++bwd_[i];
  if (t0 >= w + 1)
    for (std::uint32_t i : at(t0 - w - 1)) --bwd_[i];
  if (t0 < from_ + w) return;
  const std::size_t seg =
      static_cast<std::size_t>(std::upper_bound(ends_.begin(), ends_.end(), t0) - ends_.begin());
  if (seg >= ends_.size()) return;
  for (std::uint32_t n : at(t0)) {
    std::uint64_t post = 0, pre = 0;
    for (std::uint64_t k = g_.out_row[n]; k < g_.out_row[n + 1u]; ++k) post += fwd_[g_.out[k]];
    for (std::uint64_t k = g_.in_row[n]; k < g_.in_row[n + 1u]; ++k) pre += bwd_[g_.in[k]];
    sum_[seg * g_.n + n] +=
        static_cast<double>(post) / static_cast<double>(std::max<std::uint64_t>(pre, 1));
    ++count_[seg * g_.n + n];
  }
}

BranchingFactor::Result BranchingFactor::over(std::size_t first, std::size_t last) const {
  Result r;
  double total = 0.0;
  for (std::uint32_t n = 0; n < g_.n; ++n) {
    double s = 0.0;
    std::uint64_t c = 0;
    for (std::size_t k = first; k < last; ++k) {
      s += sum_[k * g_.n + n];
      c += count_[k * g_.n + n];
    }
    if (c == 0) continue;
    total += s / static_cast<double>(c);
    r.spikes += c;
    ++r.neurons;
  }
  r.sigma = r.neurons ? total / r.neurons : std::numeric_limits<double>::quiet_NaN();
  return r;
}

BranchingFactor::Result BranchingFactor::result() const {
  return over(0, ends_.size());
}

BranchingFactor::Result BranchingFactor::segment(std::size_t k) const {
  return over(k, k + 1);
}

} // namespace glia
