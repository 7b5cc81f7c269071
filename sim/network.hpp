// A built network: populations, projections and inputs, plus the fixed split of every
// population into one contiguous block per thread. The split is decided once, when the
// network is built, because projections store their synapses per target block.
#pragma once

#include "sim/inputs.hpp"
#include "sim/layout.hpp"
#include "sim/population.hpp"
#include "sim/projection.hpp"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace glia {

class Modulator;

using Block = std::pair<std::uint32_t, std::uint32_t>; // [lo, hi)

class Network {
public:
  Network(double dt, std::uint32_t seed, int threads);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  double dt() const { return dt_; }
  std::uint32_t seed() const { return seed_; }
  int threads() const { return threads_; }

  // Creates a population of a registered model; its blocks follow the thread count.
  Population& add_population(const ModelInfo& model, PopulationSetup setup);
  Projection& add_projection(Projection p);
  Input& add_input(std::unique_ptr<Input> in);
  Modulator& add_modulator(std::unique_ptr<Modulator> m);

  std::vector<std::unique_ptr<Population>>& populations() { return populations_; }
  const std::vector<std::unique_ptr<Population>>& populations() const { return populations_; }
  std::vector<Projection>& projections() { return projections_; }
  const std::vector<Projection>& projections() const { return projections_; }
  std::vector<std::unique_ptr<Input>>& inputs() { return inputs_; }
  const std::vector<std::unique_ptr<Input>>& inputs() const { return inputs_; }
  const std::vector<std::unique_ptr<Modulator>>& modulators() const { return modulators_; }
  const std::vector<Block>& blocks(int population) const { return blocks_[population]; }
  int population_index(const std::string& name) const;
  // Positions of a population's neurons (sim/layout.hpp); empty when it has none.
  void set_positions(int population, std::vector<Position> p) {
    positions_[static_cast<std::size_t>(population)] = std::move(p);
  }
  const std::vector<Position>& positions(int population) const {
    return positions_[static_cast<std::size_t>(population)];
  }
  int modulator_index(const std::string& name) const;

  // Sizes the ring buffers to the longest delay into each population and computes
  // the models' derived coefficients. Call once after everything is added.
  void prepare();

  std::uint64_t n_synapses() const;
  std::size_t bytes() const; // state, ring buffers and synapses

private:
  double dt_;
  std::uint32_t seed_;
  int threads_;
  std::vector<std::unique_ptr<Population>> populations_;
  std::vector<std::vector<Block>> blocks_;
  std::vector<std::vector<Position>> positions_;
  std::vector<Projection> projections_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::vector<std::unique_ptr<Modulator>> modulators_;
};

// Splits n items into `parts` contiguous blocks of near-equal size.
std::vector<Block> split_blocks(std::uint32_t n, int parts);

} // namespace glia
