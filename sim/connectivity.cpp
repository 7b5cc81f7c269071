// Connection rules (see connectivity.hpp for the keying and two-pass scheme).
#include "sim/connectivity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace glia {
namespace {

using Rule = ConnectSpec::Rule;

// Draws k distinct values in [0, m) keyed by `owner` (Floyd's algorithm), or k values
// with repetition when `multapses`. `mark` is scratch of size >= m, all false on entry
// and on exit. Calls out(value, ordinal).
template <class F>
void choose(const Stream& s, std::uint32_t owner, std::uint32_t k, std::uint32_t m, bool multapses,
            std::vector<char>& mark, F&& out) {
  if (multapses) {
    for (std::uint32_t i = 0; i < k; i += 4) {
      const auto r = s.draw(owner, i >> 2, 0, 0);
      for (std::uint32_t j = 0; j < 4 && i + j < k; ++j) out(below(r[j], m), i + j);
    }
    return;
  }
  std::vector<std::uint32_t> chosen;
  chosen.reserve(k);
  for (std::uint32_t j = m - k, ord = 0; j < m; ++j, ++ord) {
    const auto r = s.draw(owner, ord, 1, 0);
    std::uint32_t x = below(r[0], j + 1);
    if (mark[x]) x = j;
    mark[x] = 1;
    chosen.push_back(x);
  }
  for (std::uint32_t ord = 0; ord < chosen.size(); ++ord) {
    mark[chosen[ord]] = 0;
    out(chosen[ord], ord);
  }
}

// Calls emit(source, target, key_a, key_b) for every synapse whose target lies in
// [lo, hi). For target-major rules, targets come in ascending order.
template <class F>
void enumerate(const ConnectRequest& req, std::uint32_t lo, std::uint32_t hi,
               std::vector<char>& mark, F&& emit) {
  const ConnectSpec& c = *req.spec;
  const Stream s{req.seed, stream_id(StreamKind::connect, req.index)};
  const bool no_self = req.same_population && !c.autapses;
  const std::uint32_t n_pre = req.n_pre;
  switch (c.rule) {
  case Rule::all_to_all:
    for (std::uint32_t t = lo; t < hi; ++t)
      for (std::uint32_t j = 0; j < n_pre; ++j)
        if (!(no_self && j == t)) emit(j, t, t, j);
    break;
  case Rule::one_to_one:
    for (std::uint32_t t = lo; t < hi; ++t)
      if (!no_self) emit(t, t, t, 0u);
    break;
  case Rule::fixed_indegree: {
    const std::uint32_t m = n_pre - (no_self ? 1 : 0);
    for (std::uint32_t t = lo; t < hi; ++t)
      choose(s, t, c.degree, m, c.multapses, mark, [&](std::uint32_t x, std::uint32_t ord) {
        emit(no_self && x >= t ? x + 1 : x, t, t, ord);
      });
    break;
  }
  case Rule::fixed_probability: {
    if (c.probability <= 0.0) break;
    if (c.probability >= 1.0) {
      for (std::uint32_t t = lo; t < hi; ++t)
        for (std::uint32_t j = 0; j < n_pre; ++j)
          if (!(no_self && j == t)) emit(j, t, t, j);
      break;
    }
    // Geometric skips between successive sources: cost per synapse, not per pair.
    const double log_q = std::log1p(-c.probability);
    for (std::uint32_t t = lo; t < hi; ++t) {
      std::int64_t j = -1;
      std::uint32_t ord = 0;
      for (std::uint32_t draw = 0;; ++draw) {
        const auto r = s.draw(t, draw, 2, 0);
        const double skip = std::floor(std::log(u01(r[0], r[1])) / log_q);
        if (skip >= static_cast<double>(n_pre)) break;
        j += 1 + static_cast<std::int64_t>(skip);
        if (j >= n_pre) break;
        if (no_self && j == t) continue;
        emit(static_cast<std::uint32_t>(j), t, t, ord++);
      }
    }
    break;
  }
  case Rule::fixed_outdegree: {
    const std::uint32_t m = req.n_post - (no_self ? 1 : 0);
    for (std::uint32_t j = 0; j < n_pre; ++j)
      choose(s, j, c.degree, m, c.multapses, mark, [&](std::uint32_t x, std::uint32_t ord) {
        const std::uint32_t t = no_self && x >= j ? x + 1 : x;
        if (t >= lo && t < hi) emit(j, t, j, ord);
      });
    break;
  }
  case Rule::distance: {
    // One uniform per (target, source) pair, drawn in runs of consecutive sources.
    if (c.c <= 0.0) break;
    constexpr std::uint32_t kRun = 512;
    std::uint32_t words[4 * kRun];
    const double inv_l2 = 1.0 / (c.lambda * c.lambda);
    for (std::uint32_t t = lo; t < hi; ++t) {
      const Position& q = (*req.post_pos)[t];
      std::uint32_t ord = 0;
      for (std::uint32_t j0 = 0; j0 < n_pre; j0 += kRun) {
        const std::uint32_t m = std::min(kRun, n_pre - j0);
        s.draw_run(t, 3, j0, 0, m, words);
        for (std::uint32_t g = 0; g < m; ++g) {
          const std::uint32_t j = j0 + g;
          if (no_self && j == t) continue;
          const Position& p = (*req.pre_pos)[j];
          const double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
          const double prob = c.c * std::exp(-(dx * dx + dy * dy + dz * dz) * inv_l2);
          if (u01(words[4 * g], words[4 * g + 1]) < prob) emit(j, t, t, ord++);
        }
      }
    }
    break;
  }
  case Rule::explicit_list:
    for (std::size_t i = 0; i < c.targets.size(); ++i) {
      const std::uint32_t t = c.targets[i];
      if (t >= lo && t < hi) emit(c.sources[i], t, static_cast<std::uint32_t>(i), 0u);
    }
    break;
  }
}

void check(const ConnectRequest& req) {
  const ConnectSpec& c = *req.spec;
  const bool no_self = req.same_population && !c.autapses;
  auto fail = [&](const std::string& what) { throw std::invalid_argument(what); };
  if (c.rule == Rule::one_to_one && req.n_pre != req.n_post)
    fail("one_to_one needs populations of equal size (" + std::to_string(req.n_pre) + " and " +
         std::to_string(req.n_post) + ")");
  if (c.rule == Rule::fixed_indegree || c.rule == Rule::fixed_outdegree) {
    const std::uint32_t pool =
        (c.rule == Rule::fixed_indegree ? req.n_pre : req.n_post) - (no_self ? 1 : 0);
    if (c.degree > 0 && pool == 0) fail("no candidate neurons to connect from");
    if (!c.multapses && c.degree > pool)
      fail("degree " + std::to_string(c.degree) + " exceeds the " + std::to_string(pool) +
           " candidate neurons without multapses");
  }
  if (c.rule == Rule::distance) {
    if (!req.pre_pos || !req.post_pos || req.pre_pos->size() != req.n_pre ||
        req.post_pos->size() != req.n_post)
      fail("the distance rule needs positions for both populations ([population.layout])");
    if (!(c.lambda > 0.0)) fail("lambda must be > 0");
  }
  if (c.rule == Rule::explicit_list) {
    if (c.sources.size() != c.targets.size()) fail("explicit list: sources and targets differ");
    for (std::size_t i = 0; i < c.sources.size(); ++i)
      if (c.sources[i] >= req.n_pre || c.targets[i] >= req.n_post)
        fail("explicit list: synapse " + std::to_string(i) + " is out of range");
  }
}

} // namespace

void connect(Projection& proj, const ConnectRequest& req,
             const std::vector<std::pair<std::uint32_t, std::uint32_t>>& blocks) {
  check(req);
  const ConnectSpec& c = *req.spec;
  const bool listed_w = !c.weights.empty(), listed_d = !c.delays.empty();
  proj.constant_weight = !listed_w && req.weight.is_constant();
  proj.weight = req.weight.value;
  proj.constant_delay = !listed_d && req.delay.is_constant();
  auto to_steps = [&](double ms) {
    const double s = std::round(ms / req.dt);
    return static_cast<std::uint16_t>(std::clamp(s, 1.0, 65535.0));
  };
  proj.delay = to_steps(req.delay.value);
  const Stream ws{req.seed, stream_id(StreamKind::weight, req.index)};
  const Stream ds{req.seed, stream_id(StreamKind::delay, req.index)};
  const bool sorted_rows = c.rule != Rule::fixed_outdegree && c.rule != Rule::explicit_list;

  proj.blocks.assign(blocks.size(), SynapseBlock{});
  std::vector<std::uint16_t> block_max(blocks.size(), proj.delay);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    SynapseBlock& blk = proj.blocks[b];
    blk.target_lo = blocks[b].first;
    blk.target_hi = blocks[b].second;
    std::vector<char> mark(std::max(req.n_pre, req.n_post) + 1, 0);
    // Pass 1: synapses per source row.
    blk.row.assign(static_cast<std::size_t>(req.n_pre) + 1, 0);
    enumerate(
        req, blk.target_lo, blk.target_hi, mark,
        [&](std::uint32_t j, std::uint32_t, std::uint32_t, std::uint32_t) { ++blk.row[j + 1]; });
    std::partial_sum(blk.row.begin(), blk.row.end(), blk.row.begin());
    const std::uint64_t n = blk.row.back();
    blk.target.resize(n);
    if (!proj.constant_weight) blk.weight.resize(n);
    if (!proj.constant_delay) blk.delay.resize(n);
    // Pass 2: the same draws again, now writing each synapse into its row.
    std::vector<std::uint64_t> fill(blk.row.begin(), blk.row.end() - 1);
    std::uint16_t dmax = proj.delay;
    enumerate(req, blk.target_lo, blk.target_hi, mark,
              [&](std::uint32_t j, std::uint32_t t, std::uint32_t ka, std::uint32_t kb) {
                const std::uint64_t at = fill[j]++;
                blk.target[at] = t;
                if (!proj.constant_weight)
                  blk.weight[at] =
                      static_cast<float>(listed_w ? c.weights[ka] : req.weight.draw(ws, ka, kb));
                if (!proj.constant_delay) {
                  const auto d = to_steps(listed_d ? c.delays[ka] : req.delay.draw(ds, ka, kb));
                  blk.delay[at] = d;
                  dmax = std::max(dmax, d);
                }
              });
    if (!sorted_rows) {
      // Rows filled in source-major order: sort each by target, keeping synapse order
      // among equal targets so sums stay in a fixed order.
      std::vector<std::uint64_t> perm;
      std::vector<std::uint32_t> t2;
      std::vector<float> w2;
      std::vector<std::uint16_t> d2;
      for (std::uint32_t j = 0; j < req.n_pre; ++j) {
        const std::uint64_t a = blk.row[j], e = blk.row[j + 1];
        if (std::is_sorted(blk.target.begin() + a, blk.target.begin() + e)) continue;
        perm.resize(e - a);
        std::iota(perm.begin(), perm.end(), a);
        std::stable_sort(perm.begin(), perm.end(),
                         [&](auto x, auto y) { return blk.target[x] < blk.target[y]; });
        t2.clear();
        w2.clear();
        d2.clear();
        for (auto p : perm) {
          t2.push_back(blk.target[p]);
          if (!blk.weight.empty()) w2.push_back(blk.weight[p]);
          if (!blk.delay.empty()) d2.push_back(blk.delay[p]);
        }
        std::copy(t2.begin(), t2.end(), blk.target.begin() + a);
        if (!blk.weight.empty()) std::copy(w2.begin(), w2.end(), blk.weight.begin() + a);
        if (!blk.delay.empty()) std::copy(d2.begin(), d2.end(), blk.delay.begin() + a);
      }
    }
    block_max[b] = dmax;
  }
  proj.max_delay = proj.delay;
  for (auto d : block_max) proj.max_delay = std::max(proj.max_delay, d);
}

} // namespace glia
