// Checkpoint state of a network (see network_state.hpp).
#include "sim/network_state.hpp"

#include "plasticity/modulator.hpp"
#include "sim/plasticity.hpp"

#include <stdexcept>
#include <string>

namespace glia {
namespace {

// The targets in canonical order, hashed (FNV-1a): the weights of a plastic projection
// are saved in that order, so a network that enumerates its synapses differently (another
// build of glia, another experiment) is refused instead of silently scrambled.
std::uint64_t target_hash(const Projection& pr) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for_each_synapse_canonical(pr, [&](std::size_t b, std::uint64_t s) {
    h = (h ^ pr.blocks[b].target[s]) * 0x100000001b3ull;
  });
  return h;
}

// Per-synapse array `member` of the blocks (empty where the projection has none),
// gathered into / scattered from canonical order.
template <class T> bool has_array(const Projection& pr, std::vector<T> SynapseBlock::*member) {
  for (const SynapseBlock& b : pr.blocks)
    if (!(b.*member).empty()) return true;
  return false;
}

template <class T>
void save_synapse_array(const Projection& pr, std::vector<T> SynapseBlock::*member,
                        StateArchive& ar, const std::string& key) {
  if (!has_array(pr, member)) return;
  T* out = ar.put_array<T>(key, pr.n_synapses());
  std::size_t k = 0;
  for_each_synapse_canonical(
      pr, [&](std::size_t b, std::uint64_t s) { out[k++] = (pr.blocks[b].*member)[s]; });
}

template <class T>
void load_synapse_array(Projection& pr, std::vector<T> SynapseBlock::*member,
                        const StateArchive& ar, const std::string& key) {
  if (!has_array(pr, member)) return;
  const T* in = ar.view<T>(key, pr.n_synapses());
  std::size_t k = 0;
  for_each_synapse_canonical(
      pr, [&](std::size_t b, std::uint64_t s) { (pr.blocks[b].*member)[s] = in[k++]; });
}

} // namespace

void save_network_state(const Network& net, StateArchive& ar) {
  for (std::size_t p = 0; p < net.populations().size(); ++p)
    net.populations()[p]->save(ar, indexed_key("population", p));
  for (std::size_t j = 0; j < net.projections().size(); ++j) {
    const Projection& pr = net.projections()[j];
    const std::string key = indexed_key("projection", j);
    ar.put_scalar<std::uint64_t>(key + "synapses", pr.n_synapses());
    if (!pr.plasticity || pr.blocks.empty()) continue;
    ar.put_scalar<std::uint64_t>(key + "target_hash", target_hash(pr));
    // A rule may change any of these (delays under delay plasticity).
    save_synapse_array(pr, &SynapseBlock::plastic_weight, ar, key + "plastic_weight");
    save_synapse_array(pr, &SynapseBlock::weight, ar, key + "weight");
    save_synapse_array(pr, &SynapseBlock::delay, ar, key + "delay");
    pr.plasticity->save(ar, key + "rule/");
  }
  for (std::size_t m = 0; m < net.modulators().size(); ++m)
    net.modulators()[m]->save(ar, indexed_key("modulator", m));
}

void load_network_state(Network& net, const StateArchive& ar) {
  for (std::size_t p = 0; p < net.populations().size(); ++p)
    net.populations()[p]->load(ar, indexed_key("population", p));
  for (std::size_t j = 0; j < net.projections().size(); ++j) {
    Projection& pr = net.projections()[j];
    const std::string key = indexed_key("projection", j);
    const auto saved = ar.get_scalar<std::uint64_t>(key + "synapses");
    if (saved != pr.n_synapses())
      throw std::runtime_error("projection '" + pr.name + "' has " +
                               std::to_string(pr.n_synapses()) + " synapses, the checkpoint " +
                               std::to_string(saved) + " (a checkpoint of another network?)");
    if (!pr.plasticity || pr.blocks.empty()) continue;
    if (ar.get_scalar<std::uint64_t>(key + "target_hash") != target_hash(pr))
      throw std::runtime_error("projection '" + pr.name +
                               "' connects other neurons than the checkpoint's (a checkpoint "
                               "of another network, or of a glia that draws connections "
                               "differently?)");
    load_synapse_array(pr, &SynapseBlock::plastic_weight, ar, key + "plastic_weight");
    load_synapse_array(pr, &SynapseBlock::weight, ar, key + "weight");
    load_synapse_array(pr, &SynapseBlock::delay, ar, key + "delay");
    pr.plasticity->load(ar, key + "rule/");
  }
  for (std::size_t m = 0; m < net.modulators().size(); ++m)
    net.modulators()[m]->load(ar, indexed_key("modulator", m));
}

} // namespace glia
