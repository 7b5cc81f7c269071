// Connection rules (see connectivity.hpp for the keying and two-pass scheme).
#include "sim/connectivity.hpp"
#include "sim/huge_pages.hpp"

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

// Inversion of the uniform u over a discrete unimodal distribution on [lo, hi], taking
// the outcomes in the order mode, mode + 1, mode - 1, mode + 2, ... (any fixed order of
// the outcomes is an exact inversion; this one costs about a standard deviation of steps).
// Each probability comes from its neighbour's: up(k) = P(k + 1) / P(k).
template <class Up>
std::uint64_t invert_from_mode(double u, std::uint64_t lo, std::uint64_t hi, std::uint64_t mode,
                               double log_p_mode, Up&& up) {
  const double p_mode = std::exp(log_p_mode);
  u -= p_mode;
  if (u <= 0.0) return mode;
  double p_hi = p_mode, p_lo = p_mode;
  std::uint64_t k_hi = mode, k_lo = mode;
  while (k_hi < hi || k_lo > lo) {
    if (k_hi < hi) {
      p_hi *= up(k_hi);
      ++k_hi;
      if ((u -= p_hi) <= 0.0) return k_hi;
    } else {
      p_hi = 0.0;
    }
    if (k_lo > lo) {
      p_lo /= up(k_lo - 1);
      --k_lo;
      if ((u -= p_lo) <= 0.0) return k_lo;
    } else {
      p_lo = 0.0;
    }
    // What is left is below the rounding of the probabilities summed so far.
    if (p_hi + p_lo < 1e-17 * p_mode) break;
  }
  return mode;
}

double log_choose(double n, double k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

// Binomial(n, p), 0 < p < 1.
std::uint64_t binomial(double u, std::uint64_t n, double p) {
  const double dn = static_cast<double>(n);
  const auto mode = std::min<std::uint64_t>(n, static_cast<std::uint64_t>((dn + 1.0) * p));
  const double km = static_cast<double>(mode);
  const double log_p = log_choose(dn, km) + km * std::log(p) + (dn - km) * std::log1p(-p);
  const double odds = p / (1.0 - p);
  return invert_from_mode(u, 0, n, mode, log_p, [&](std::uint64_t k) {
    const double dk = static_cast<double>(k);
    return (dn - dk) / (dk + 1.0) * odds;
  });
}

// Hypergeometric: good ones among n drawn without replacement from `all`, `good` of them good.
std::uint64_t hypergeometric(double u, std::uint64_t n, std::uint64_t good, std::uint64_t all) {
  const std::uint64_t bad = all - good;
  const std::uint64_t lo = n > bad ? n - bad : 0, hi = std::min(n, good);
  const double dn = static_cast<double>(n), dg = static_cast<double>(good);
  const double db = static_cast<double>(bad), da = static_cast<double>(all);
  const auto guess = static_cast<std::uint64_t>((dn + 1.0) * (dg + 1.0) / (da + 2.0));
  const std::uint64_t mode = std::clamp(guess, lo, hi);
  const double km = static_cast<double>(mode);
  const double log_p = log_choose(dg, km) + log_choose(db, dn - km) - log_choose(da, dn);
  return invert_from_mode(u, lo, hi, mode, log_p, [&](std::uint64_t k) {
    const double dk = static_cast<double>(k);
    return (dg - dk) * (dn - dk) / ((dk + 1.0) * (db - dn + dk + 1.0));
  });
}

// Calls emit(source, target, key_a, key_b) for every synapse whose target lies in
// [lo, hi). For target-major rules, targets come in ascending order. `degrees`: the
// per-target counts of fixed_total_number.
template <class F>
void enumerate(const ConnectRequest& req, std::uint32_t lo, std::uint32_t hi,
               std::vector<char>& mark, const std::vector<std::uint32_t>& degrees, F&& emit) {
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
  case Rule::fixed_total_number: {
    const std::uint32_t m = n_pre - (no_self ? 1 : 0);
    for (std::uint32_t t = lo; t < hi; ++t)
      choose(s, t, degrees[t], m, c.multapses, mark, [&](std::uint32_t x, std::uint32_t ord) {
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
  if (c.rule == Rule::fixed_total_number) {
    const std::uint64_t pool = req.n_pre - (no_self ? 1 : 0);
    if (c.total > 0 && (pool == 0 || req.n_post == 0)) fail("no candidate pairs to connect");
    if (c.total > 0xFFFFFFFFull) fail("N = " + std::to_string(c.total) + " exceeds 2^32 - 1");
    if (!c.multapses && c.total > pool * req.n_post)
      fail("N = " + std::to_string(c.total) + " exceeds the " + std::to_string(pool * req.n_post) +
           " distinct pairs without multapses");
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

std::vector<std::uint32_t> total_number_degrees(const Stream& s, std::uint64_t total,
                                                std::uint32_t n_post, std::uint32_t pool,
                                                bool multapses) {
  std::vector<std::uint32_t> degrees(n_post, 0);
  std::uint64_t left = total;
  for (std::uint32_t t = 0; t < n_post && left > 0; ++t) {
    const std::uint32_t targets_left = n_post - t;
    std::uint64_t k = left;
    if (targets_left > 1) {
      const auto r = s.draw(t, 0, 5, 0);
      const double u = u01(r[0], r[1]);
      k = multapses
              ? binomial(u, left, 1.0 / targets_left)
              : hypergeometric(u, left, pool, static_cast<std::uint64_t>(pool) * targets_left);
    }
    degrees[t] = static_cast<std::uint32_t>(k);
    left -= k;
  }
  return degrees;
}

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
  std::vector<std::uint32_t> degrees;
  if (c.rule == Rule::fixed_total_number)
    degrees = total_number_degrees(
        Stream{req.seed, stream_id(StreamKind::connect, req.index)}, c.total, req.n_post,
        req.n_pre - (req.same_population && !c.autapses ? 1 : 0), c.multapses);

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
        req, blk.target_lo, blk.target_hi, mark, degrees,
        [&](std::uint32_t j, std::uint32_t, std::uint32_t, std::uint32_t) { ++blk.row[j + 1]; });
    std::partial_sum(blk.row.begin(), blk.row.end(), blk.row.begin());
    const std::uint64_t n = blk.row.back();
    reserve_on_huge_pages(blk.target, n);
    blk.target.resize(n);
    if (!proj.constant_weight) {
      reserve_on_huge_pages(blk.weight, n);
      blk.weight.resize(n);
    }
    if (!proj.constant_delay) {
      reserve_on_huge_pages(blk.delay, n);
      blk.delay.resize(n);
    }
    // Pass 2: the same draws again, now writing each synapse into its row.
    std::vector<std::uint64_t> fill(blk.row.begin(), blk.row.end() - 1);
    std::uint16_t dmax = proj.delay;
    enumerate(req, blk.target_lo, blk.target_hi, mark, degrees,
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
