// Connection rules: which synapses a projection has, and their weights and delays.
// Every random choice is keyed by the target neuron (or, for fixed_outdegree, the
// source) and an ordinal (the distance rule: by the target and the source), so the synapses do not
// depend on the number of threads that build them. fixed_total_number first splits its N
// synapses among the targets (a multinomial, or multivariate hypergeometric without
// multapses, drawn target by target on one thread with one keyed uniform each), then
// draws each target's sources as fixed_indegree does. Blocks are built in two passes (count, then
// fill) over the same keyed draws, so no temporary list of all synapses is ever held in memory.
#pragma once

#include "sim/distribution.hpp"
#include "sim/layout.hpp"
#include "sim/projection.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace glia {

struct ConnectSpec {
  enum class Rule {
    all_to_all,
    one_to_one,
    fixed_probability,
    fixed_indegree,
    fixed_outdegree,
    fixed_total_number, // N synapses in all, between uniformly drawn pairs (NEST's rule)
    explicit_list,
    distance // p = C exp(-(D / lambda)^2) between the pre and post positions
  };
  Rule rule = Rule::all_to_all;
  double probability = 0.0; // fixed_probability
  std::uint32_t degree = 0; // fixed_indegree / fixed_outdegree
  std::uint64_t total = 0;  // fixed_total_number: N
  double c = 0.0;           // distance: probability at distance 0
  double lambda = 1.0;      // distance: length scale (grid units)
  bool autapses = true;     // only meaningful when pre and post are the same population
  bool multapses = true;
  std::string file; // explicit_list: CSV or HDF5, resolved relative to the experiment
  // explicit_list, loaded at parse time: one entry per synapse; weights/delays may be empty
  std::vector<std::uint32_t> sources, targets;
  std::vector<double> weights, delays;
};

struct ConnectRequest {
  const ConnectSpec* spec = nullptr;
  Distribution weight;
  Distribution delay; // ms
  std::uint32_t n_pre = 0, n_post = 0;
  bool same_population = false;
  double dt = 0.1;
  std::uint32_t seed = 0;
  std::uint32_t index = 0;                        // projection index, keys its streams
  const std::vector<Position>* pre_pos = nullptr; // distance rule: one per neuron
  const std::vector<Position>* post_pos = nullptr;
};

// Fills proj.blocks (one per entry of `blocks`, each a [lo, hi) range of targets) and the
// projection's weight/delay representation. Blocks are built in parallel with OpenMP.
// Throws std::invalid_argument for impossible requests (e.g. indegree > n_pre without
// multapses).
void connect(Projection& proj, const ConnectRequest& req,
             const std::vector<std::pair<std::uint32_t, std::uint32_t>>& blocks);

// fixed_total_number: how many of the `total` synapses land on each of `n_post` targets
// with `pool` candidate sources each. With multapses the counts are multinomial (every
// synapse picks its target uniformly); without, multivariate hypergeometric (N distinct
// pairs out of n_post * pool). Target t's count is drawn from its conditional
// distribution given the counts before it, by inversion of the uniform keyed by t.
std::vector<std::uint32_t> total_number_degrees(const Stream& s, std::uint64_t total,
                                                std::uint32_t n_post, std::uint32_t pool,
                                                bool multapses);

} // namespace glia
