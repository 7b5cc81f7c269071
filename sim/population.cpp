// Population set-up that is the same for every model.
#include "sim/population.hpp"

#include <stdexcept>

namespace glia {

void Population::set_param(int k, std::vector<double> values) {
  if (values.size() != 1 && values.size() != size_)
    throw std::invalid_argument("population '" + name_ + "': parameter '" +
                                std::string(info_->params[k].name) + "' needs 1 or " +
                                std::to_string(size_) + " values");
  params_[k].assign(values.begin(), values.end());
}

void Population::prepare(double dt, std::uint32_t seed, std::uint32_t ring_slots) {
  dt_ = dt;
  noise_stream_ = Stream{seed, stream_id(StreamKind::neuron, static_cast<std::uint32_t>(index_))};
  derive_all();
  ring_.resize(n_ports_, ring_slots, size_);
}

std::size_t Population::bytes() const {
  std::size_t b = ring_.bytes() + i_ext_.size() * sizeof(double);
  for (const auto& v : params_) b += v.size() * sizeof(double);
  for (const auto& v : derived_) b += v.size() * sizeof(double);
  for (const auto& v : state_) b += v.size() * sizeof(double);
  return b;
}

void Population::save(StateArchive& ar, const std::string& prefix) const {
  for (int k = 0; k < n_state(); ++k)
    ar.put(prefix + "state/" + std::string(info_->state[k].name), state_[k]);
  ar.put(prefix + "i_ext", i_ext_);
  ar.put(prefix + "ring", ring_.raw());
}

void Population::load(const StateArchive& ar, const std::string& prefix) {
  for (int k = 0; k < n_state(); ++k)
    ar.get_into(prefix + "state/" + std::string(info_->state[k].name), state_[k]);
  ar.get_into(prefix + "i_ext", i_ext_);
  external_current_ = external_current_ ||
                      std::any_of(i_ext_.begin(), i_ext_.end(), [](double x) { return x != 0.0; });
  ar.get_into(prefix + "ring", ring_.raw());
}

} // namespace glia
