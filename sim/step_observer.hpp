// Something that looks at the spikes of every step as the run goes (a monitor: the
// branching factor of reservoir/, ...). The simulator calls observe() on thread 0, in
// step order, once all spikes of the step are known and before the modulators update;
// what an observer sees does not depend on the number of threads.
#pragma once

#include "sim/step_spikes.hpp"

#include <cstdint>
#include <vector>

namespace glia {

class StepObserver {
public:
  virtual ~StepObserver() = default;
  // `spikes[p]`: the spikes population p emitted in step `step`.
  virtual void observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) = 0;
};

} // namespace glia
