// Image datasets for the reservoir pipeline: Fashion-MNIST from its IDX files (Debian's
// dataset-fashion-mnist), split into train / validation (the first and next images of
// the 60k training file) and test (the 10k file), and the two encodings of an image as
// the input layer's drive:
//   current (NALSM, MODELS.md "Liquid state machine"): each image divided by its pixel
//     sum, then by the largest such normalised pixel over the training split, times
//     `scale`: a constant current (pA) per input neuron for the presentation window;
//   poisson: rate coding, pixel / 255 * max_rate (Hz) per input neuron.
#pragma once

#include "io/experiment.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace glia {

struct ImageSet {
  std::uint32_t pixels = 0;         // per image (784)
  std::vector<std::uint8_t> images; // n x pixels
  std::vector<std::uint8_t> labels; // n
  std::size_t size() const { return labels.size(); }
};

struct DatasetSplits {
  ImageSet train, validation, test;
  std::uint32_t classes = 10;
};

// Reads the files under spec.dir. Throws InputError naming a missing or malformed file.
DatasetSplits load_dataset(const DatasetSpec& spec);

// The largest per-image normalised pixel (pixel / image's pixel sum) of a set; 0 for
// an empty or all-black set.
double max_normalised_pixel(const ImageSet& set);

// Per image of `set`, the factor that turns a pixel byte into the input neuron's drive:
// current encoding scale / (pixel sum * norm_max) pA, with norm_max the
// max_normalised_pixel of the training split (0 for a black image); poisson encoding
// max_rate / 255 Hz.
std::vector<double> image_factors(const ImageSet& set, const DatasetSpec& spec, double norm_max);

} // namespace glia
