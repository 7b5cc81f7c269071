// Copies of a network's changing state, taken once and put back before every sample or
// image: the neurons (state, in-flight input in the ring buffers, external current) and
// the modulators (the astrocyte's A). Feature extraction restores both per sample; a
// training phase with `reset` restores both per image while weights and the rules'
// traces carry on (NALSM's published initialisation loop).
#pragma once

#include "sim/network.hpp"
#include "sim/state_archive.hpp"

#include <vector>

namespace glia {

class PopulationSnapshot {
public:
  explicit PopulationSnapshot(const Network& net);
  void restore(Network& net) const;

private:
  std::vector<std::vector<std::vector<double>>> state_;
  std::vector<std::vector<double>> ring_;
};

class ModulatorSnapshot {
public:
  explicit ModulatorSnapshot(const Network& net);
  void restore(Network& net) const;

private:
  StateArchive state_;
};

} // namespace glia
