// Delay ring buffers of one population: for each receptor port, one slot per step of
// the longest delay (plus the current step), each slot one value per neuron. A spike
// with delay d steps emitted at step k is added into slot (k + d) mod slots; the slot
// of step k is read by the neuron update of step k and then cleared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace glia {

class RingBuffer {
public:
  void resize(int ports, std::uint32_t slots, std::uint32_t neurons) {
    ports_ = ports;
    slots_ = slots;
    n_ = neurons;
    data_.assign(static_cast<std::size_t>(ports) * slots * neurons, 0.0);
  }
  std::uint32_t slots() const { return slots_; }
  int ports() const { return ports_; }
  std::uint32_t slot_index(std::uint64_t step) const {
    return static_cast<std::uint32_t>(step % slots_);
  }
  double* slot(int port, std::uint32_t slot_idx) {
    return data_.data() + (static_cast<std::size_t>(port) * slots_ + slot_idx) * n_;
  }
  const double* slot(int port, std::uint32_t slot_idx) const {
    return data_.data() + (static_cast<std::size_t>(port) * slots_ + slot_idx) * n_;
  }
  std::size_t bytes() const { return data_.size() * sizeof(double); }
  std::vector<double>& raw() { return data_; }
  const std::vector<double>& raw() const { return data_; }

private:
  int ports_ = 0;
  std::uint32_t slots_ = 1;
  std::uint32_t n_ = 0;
  std::vector<double> data_;
};

} // namespace glia
