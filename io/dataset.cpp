// Fashion-MNIST splits and encodings (see dataset.hpp).
#include "io/dataset.hpp"

#include "io/idx.hpp"

#include <algorithm>
#include <filesystem>

namespace glia {
namespace {

// The .gz file, or the plain one when only that exists (a user's own unpacked copy).
std::string dataset_file(const std::string& dir, const std::string& stem) {
  const std::filesystem::path gz = std::filesystem::path(dir) / (stem + ".gz");
  std::error_code ec;
  if (!std::filesystem::exists(gz, ec) &&
      std::filesystem::exists(std::filesystem::path(dir) / stem, ec))
    return (std::filesystem::path(dir) / stem).string();
  return gz.string();
}

ImageSet read_pair(const std::string& dir, const std::string& prefix, std::uint64_t count) {
  const std::string img_path = dataset_file(dir, prefix + "-images-idx3-ubyte");
  const std::string lab_path = dataset_file(dir, prefix + "-labels-idx1-ubyte");
  const IdxArray img = read_idx(img_path, 3, count);
  const IdxArray lab = read_idx(lab_path, 1, count);
  if (img.items() < count)
    throw InputError("dataset file '" + img_path + "': holds " + std::to_string(img.items()) +
                     " images, " + std::to_string(count) + " are needed");
  if (lab.items() != img.items())
    throw InputError("dataset file '" + lab_path + "': " + std::to_string(lab.items()) +
                     " labels for " + std::to_string(img.items()) + " images");
  ImageSet s;
  s.pixels = static_cast<std::uint32_t>(img.item_size());
  s.images = img.data;
  s.labels = lab.data;
  for (std::size_t i = 0; i < s.labels.size(); ++i)
    if (s.labels[i] > 9)
      throw InputError("dataset file '" + lab_path + "': label " + std::to_string(s.labels[i]) +
                       " of item " + std::to_string(i) + " is not a class 0-9");
  return s;
}

ImageSet slice(const ImageSet& s, std::size_t first, std::size_t count) {
  ImageSet out;
  out.pixels = s.pixels;
  out.images.assign(s.images.begin() + static_cast<std::ptrdiff_t>(first * s.pixels),
                    s.images.begin() + static_cast<std::ptrdiff_t>((first + count) * s.pixels));
  out.labels.assign(s.labels.begin() + static_cast<std::ptrdiff_t>(first),
                    s.labels.begin() + static_cast<std::ptrdiff_t>(first + count));
  return out;
}

} // namespace

DatasetSplits load_dataset(const DatasetSpec& spec) {
  std::error_code ec;
  if (!std::filesystem::is_directory(spec.dir, ec))
    throw InputError("dataset.dir: '" + spec.dir +
                     "' is not a directory (Debian's dataset-fashion-mnist installs "
                     "/usr/share/datasets/fashion-mnist; scripts/setup.sh installs it)");
  const ImageSet all = read_pair(spec.dir, "train", std::uint64_t{spec.train} + spec.validation);
  DatasetSplits d;
  d.train = slice(all, 0, spec.train);
  d.validation = slice(all, spec.train, spec.validation);
  d.test = read_pair(spec.dir, "t10k", spec.test);
  if (d.train.pixels != 784 || d.test.pixels != 784)
    throw InputError("dataset.dir: '" + spec.dir + "': images of " +
                     std::to_string(d.train.pixels) + " pixels, expected 28 x 28 = 784");
  return d;
}

double max_normalised_pixel(const ImageSet& set) {
  double m = 0.0;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const std::uint8_t* p = set.images.data() + i * set.pixels;
    std::uint64_t sum = 0, top = 0;
    for (std::uint32_t k = 0; k < set.pixels; ++k) {
      sum += p[k];
      top = std::max<std::uint64_t>(top, p[k]);
    }
    if (sum > 0) m = std::max(m, static_cast<double>(top) / static_cast<double>(sum));
  }
  return m;
}

std::vector<double> image_factors(const ImageSet& set, const DatasetSpec& spec, double norm_max) {
  std::vector<double> f(set.size());
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (spec.encoding != "current") {
      f[i] = spec.max_rate / 255.0;
      continue;
    }
    const std::uint8_t* p = set.images.data() + i * set.pixels;
    std::uint64_t sum = 0;
    for (std::uint32_t k = 0; k < set.pixels; ++k) sum += p[k];
    f[i] = sum > 0 && norm_max > 0 ? spec.scale / (static_cast<double>(sum) * norm_max) : 0.0;
  }
  return f;
}

} // namespace glia
