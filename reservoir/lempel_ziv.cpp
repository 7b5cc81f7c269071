// LZ76 by Kaspar and Schuster (see lempel_ziv.hpp).
#include "reservoir/lempel_ziv.hpp"

#include <cmath>
#include <stdexcept>

namespace glia {

namespace {

// Kaspar & Schuster's loop, 0-based: the current phrase starts at l; i runs over the
// candidate copy starts before it, k is the length matched from i, k_max the longest
// match found for this phrase so far.
template <class S> std::uint64_t phrases_of(const S& s) {
  const std::size_t n = s.size();
  if (n <= 1) return n;
  std::uint64_t c = 1;
  std::size_t l = 1, i = 0, k = 1, k_max = 1;
  while (true) {
    if (s[i + k - 1] == s[l + k - 1]) {
      ++k;
      if (l + k > n) { // the rest of the string is a copy: a last phrase
        ++c;
        break;
      }
    } else {
      if (k > k_max) k_max = k;
      ++i;
      if (i == l) { // no start copies further: the phrase ends after k_max symbols
        ++c;
        l += k_max;
        if (l + 1 > n) break;
        i = 0;
        k = 1;
        k_max = 1;
      } else {
        k = 1;
      }
    }
  }
  return c;
}

} // namespace

std::uint64_t lz76_phrases(const std::vector<std::uint8_t>& s) {
  return phrases_of(s);
}

std::uint64_t lz76_phrases(const std::string& s) {
  return phrases_of(s);
}

double lz76_normalised(std::uint64_t phrases, std::uint64_t n) {
  if (n <= 1) return 0.0;
  const double dn = static_cast<double>(n);
  return static_cast<double>(phrases) * std::log2(dn) / dn;
}

std::vector<std::vector<std::uint8_t>> binned_spike_trains(const std::vector<std::uint64_t>& steps,
                                                           const std::vector<std::uint32_t>& ids,
                                                           std::uint32_t n_neurons,
                                                           std::uint64_t from, std::uint64_t to,
                                                           std::uint64_t bin_steps) {
  if (steps.size() != ids.size()) throw std::invalid_argument("steps and ids differ in length");
  if (bin_steps == 0) throw std::invalid_argument("bin_steps must be positive");
  const std::uint64_t bins = to > from ? (to - from) / bin_steps : 0;
  std::vector<std::vector<std::uint8_t>> out(n_neurons,
                                             std::vector<std::uint8_t>(bins, std::uint8_t{0}));
  for (std::size_t k = 0; k < steps.size(); ++k) {
    if (steps[k] < from || ids[k] >= n_neurons) continue;
    const std::uint64_t b = (steps[k] - from) / bin_steps;
    if (b < bins) out[ids[k]][b] = 1;
  }
  return out;
}

std::vector<double> lz_complexity_per_neuron(const std::vector<std::uint64_t>& steps,
                                             const std::vector<std::uint32_t>& ids,
                                             std::uint32_t n_neurons, std::uint64_t from,
                                             std::uint64_t to, std::uint64_t bin_steps) {
  const auto trains = binned_spike_trains(steps, ids, n_neurons, from, to, bin_steps);
  std::vector<double> c(n_neurons);
  for (std::uint32_t i = 0; i < n_neurons; ++i)
    c[i] = lz76_normalised(lz76_phrases(trains[i]), trains[i].size());
  return c;
}

} // namespace glia
