// The spikes of one step of one population, as the step loop keeps them: one list per
// thread block, in block order. Rules and modulators read spikes through this view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace glia {

struct StepSpikes {
  const std::vector<std::vector<std::vector<std::uint32_t>>>* blocks = nullptr; // [block][slot]
  std::size_t slot = 0;
  template <class F> void for_each(F&& f) const {
    for (const auto& b : *blocks)
      for (std::uint32_t i : b[slot]) f(i);
  }
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& b : *blocks) n += b[slot].size();
    return n;
  }
};

} // namespace glia
