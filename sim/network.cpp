// Network assembly (see network.hpp).
#include "sim/network.hpp"

#include "plasticity/modulator.hpp"

#include <algorithm>

namespace glia {

std::vector<Block> split_blocks(std::uint32_t n, int parts) {
  std::vector<Block> out;
  const auto p = static_cast<std::uint64_t>(std::max(parts, 1));
  for (std::uint64_t b = 0; b < p; ++b)
    out.emplace_back(static_cast<std::uint32_t>(n * b / p),
                     static_cast<std::uint32_t>(n * (b + 1) / p));
  return out;
}

Network::Network(double dt, std::uint32_t seed, int threads)
    : dt_(dt), seed_(seed), threads_(std::max(threads, 1)) {}

Population& Network::add_population(const ModelInfo& model, PopulationSetup setup) {
  setup.index = static_cast<int>(populations_.size());
  setup.dt = dt_;
  populations_.push_back(model.create(model, setup));
  blocks_.push_back(split_blocks(setup.size, threads_));
  positions_.emplace_back();
  return *populations_.back();
}

Projection& Network::add_projection(Projection p) {
  projections_.push_back(std::move(p));
  return projections_.back();
}

Input& Network::add_input(std::unique_ptr<Input> in) {
  inputs_.push_back(std::move(in));
  return *inputs_.back();
}

Network::~Network() = default;

Modulator& Network::add_modulator(std::unique_ptr<Modulator> m) {
  modulators_.push_back(std::move(m));
  return *modulators_.back();
}

int Network::modulator_index(const std::string& name) const {
  for (std::size_t i = 0; i < modulators_.size(); ++i)
    if (modulators_[i]->name() == name) return static_cast<int>(i);
  return -1;
}

int Network::population_index(const std::string& name) const {
  for (std::size_t i = 0; i < populations_.size(); ++i)
    if (populations_[i]->name() == name) return static_cast<int>(i);
  return -1;
}

void Network::prepare() {
  std::vector<std::uint32_t> slots(populations_.size(), 1);
  for (const auto& p : projections_)
    slots[p.post] = std::max<std::uint32_t>(slots[p.post], p.max_delay + 1u);
  for (std::size_t i = 0; i < populations_.size(); ++i)
    populations_[i]->prepare(dt_, seed_, slots[i]);
}

std::uint64_t Network::n_synapses() const {
  std::uint64_t n = 0;
  for (const auto& p : projections_) n += p.n_synapses();
  return n;
}

std::size_t Network::bytes() const {
  std::size_t b = 0;
  for (const auto& p : populations_) b += p->bytes();
  for (const auto& p : projections_) b += p.bytes();
  return b;
}

} // namespace glia
