// Lempel-Ziv complexity (Lempel & Ziv 1976) of binary strings, counted by the
// Kaspar-Schuster algorithm (Phys. Rev. A 36, 842, 1987; MODELS.md "Lempel-Ziv
// complexity"): the string is parsed left to right into phrases, each the shortest
// piece that cannot be copied from the text before it (the copy may overlap the
// phrase itself); a final piece that can be copied still counts as a phrase. c is the
// number of phrases and C = c log2(n) / n the normalised complexity, which tends to 1
// for an i.i.d. fair-coin string and to 0 for a periodic one as n grows.
//
// Spike trains become binary strings by binning: bin b of neuron i is 1 when i fired at
// least once in it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glia {

// The LZ76 phrase count of s (elements compared for equality; 0/1 for binary strings).
// 0 for an empty string, 1 for a string of length 1.
std::uint64_t lz76_phrases(const std::vector<std::uint8_t>& s);
// The same for a string of '0'/'1' characters (any two symbols work).
std::uint64_t lz76_phrases(const std::string& s);

// c log2(n) / n for c phrases of a string of length n (0 for n <= 1).
double lz76_normalised(std::uint64_t phrases, std::uint64_t n);

// The binned spike trains of n_neurons neurons over steps [from, to): bins of bin_steps
// steps (a last partial bin is dropped); result[i][b] = 1 when neuron i spiked in bin b.
// steps[k], ids[k]: one spike each, in any order.
std::vector<std::vector<std::uint8_t>> binned_spike_trains(const std::vector<std::uint64_t>& steps,
                                                           const std::vector<std::uint32_t>& ids,
                                                           std::uint32_t n_neurons,
                                                           std::uint64_t from, std::uint64_t to,
                                                           std::uint64_t bin_steps);

// The normalised LZ76 complexity of each neuron's binned spike train.
std::vector<double> lz_complexity_per_neuron(const std::vector<std::uint64_t>& steps,
                                             const std::vector<std::uint32_t>& ids,
                                             std::uint32_t n_neurons, std::uint64_t from,
                                             std::uint64_t to, std::uint64_t bin_steps);

} // namespace glia
