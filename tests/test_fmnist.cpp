// The Fashion-MNIST pipeline (issue 5): the IDX reader, the encodings, the pipeline
// tables of the experiment file, per-sample features (1 vs 2 threads bitwise), the
// softmax readout, and the whole pipeline through the binary on a few hundred images.
#include "io/dataset.hpp"
#include "io/experiment.hpp"
#include "io/idx.hpp"
#include "plasticity/modulator.hpp"
#include "reservoir/features.hpp"
#include "reservoir/snapshots.hpp"
#include "reservoir/softmax.hpp"
#include "sim/network_state.hpp"
#include "sim/random.hpp"
#include "sim/sample_input.hpp"
#include "sim/simulator.hpp"

#include "input_error.hpp"
#include "run_glia.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

using namespace glia;
using glia::test::input_error_of;
using glia::test::read_attribute;
using glia::test::run_glia;
using glia::test::ScratchDir;
using glia::test::source_path;

namespace {

const std::string kDebianDir = "/usr/share/datasets/fashion-mnist";

std::string idx_error(const std::string& path, int ndims = 0) {
  try {
    read_idx(path, ndims);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// A small dataset directory: n train and m test images of 28 x 28, pixels from a formula.
void write_dataset(const std::string& dir, std::uint32_t n, std::uint32_t m) {
  for (auto [prefix, count] : {std::pair<std::string, std::uint32_t>{"train", n}, {"t10k", m}}) {
    std::vector<std::uint8_t> img(static_cast<std::size_t>(count) * 784), lab(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      lab[i] = static_cast<std::uint8_t>(i % 10);
      for (std::uint32_t k = 0; k < 784; ++k)
        img[i * 784 + k] = static_cast<std::uint8_t>((k % 28 + i) % 10 == lab[i] ? 200 : 10);
    }
    write_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", {count, 28, 28}, img, true);
    write_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", {count}, lab, true);
  }
}

// A small plastic liquid in front of the 784 inputs: astro_stdp on input -> E and E -> E.
std::string small_liquid(const std::string& dir, const std::string& encoding) {
  return R"(
[run]
dt = 1.0
seed = 3

[[population]]
name = "input"
model = "lif_exp"
size = 784
[population.params]
C_m = 1.0
tau_m = 64.0
tau_syn_ex = 1.0
tau_syn_in = 1.0
E_L = 0.0
V_th = 20.0
V_reset = 0.0
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[population]]
name = "E"
model = "lif_exp"
size = 60
[population.params]
C_m = 1.0
tau_m = 64.0
tau_syn_ex = 1.0
tau_syn_in = 1.0
E_L = 0.0
V_th = 20.0
V_reset = 0.0
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[modulator]]
name = "astro"
type = "astrocyte"
liquid = ["E"]
input = ["input"]
w_astro = 0.015

[[projection]]
name = "inE"
pre = "input"
post = "E"
weight = { dist = "uniform", low = -3.0, high = 3.0 }
[projection.connect]
rule = "fixed_probability"
p = 0.1
[projection.plasticity]
rule = "astro_stdp"
astrocyte = "astro"
presynaptic = "input"

[[projection]]
name = "EE"
pre = "E"
post = "E"
weight = 1.0
[projection.connect]
rule = "fixed_probability"
p = 0.1
[projection.plasticity]
rule = "astro_stdp"
astrocyte = "astro"
presynaptic = "excitatory"

[dataset]
name = "fashion_mnist"
dir = ")" +
         dir + R"("
train = 30
validation = 10
test = 10
encoding = ")" +
         encoding + R"("
window = 30.0

[features]
populations = ["E"]
trace_times = [10.0, 30.0]
)";
}

std::shared_ptr<SampleData> samples_of(const DatasetSplits& d, const DatasetSpec& spec) {
  auto s = std::make_shared<SampleData>();
  s->width = 784;
  const double norm = max_normalised_pixel(d.train);
  for (const ImageSet* set : {&d.train, &d.validation, &d.test}) {
    s->values.insert(s->values.end(), set->images.begin(), set->images.end());
    const auto f = image_factors(*set, spec, norm);
    s->factor.insert(s->factor.end(), f.begin(), f.end());
  }
  return s;
}

// A short training phase: the first 10 images, 20 ms each, into the plastic liquid.
PlasticWeights train_briefly(const Experiment& ex, std::shared_ptr<const SampleData> data,
                             int threads) {
  auto sn = build_sampled_network(ex, std::move(data), threads);
  sn.input->present(0, 10, 0, 20);
  Simulator sim(*sn.net);
  sim.run(200);
  return plastic_weights(*sn.net);
}

} // namespace

TEST_CASE("IDX files: written gzipped or plain, read back; bad headers are named",
          "[fmnist][idx]") {
  ScratchDir dir("idx");
  const std::vector<std::uint8_t> data = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  for (bool gz : {true, false}) {
    const std::string path = dir / (gz ? "a.idx.gz" : "a.idx");
    write_idx(path, {3, 2, 2}, data, gz);
    const IdxArray a = read_idx(path, 3);
    CHECK(a.dims == std::vector<std::uint32_t>{3, 2, 2});
    CHECK(a.items() == 3);
    CHECK(a.item_size() == 4);
    CHECK(a.data == data);
    const IdxArray two = read_idx(path, 3, 2);
    CHECK(two.items() == 2);
    CHECK(two.data == std::vector<std::uint8_t>(data.begin(), data.begin() + 8));
  }
  CHECK_THAT(idx_error(dir / "a.idx.gz", 1),
             Catch::Contains("expected 1 dimension(s), the file has 3"));
  CHECK_THAT(idx_error(dir / "missing.gz"),
             Catch::Contains("'" + (dir / "missing.gz") + "'") && Catch::Contains("no such file"));
  std::ofstream(dir / "bad.idx") << "PK\x03\x04 not an idx file";
  CHECK_THAT(idx_error(dir / "bad.idx"), Catch::Contains("not an IDX file"));
  // A header that promises more than the file holds.
  write_idx(dir / "short.idx.gz", {5, 2, 2}, data, true);
  CHECK_THAT(idx_error(dir / "short.idx.gz"),
             Catch::Contains("truncated") && Catch::Contains("5 items of 4 bytes"));
}

TEST_CASE("the Debian Fashion-MNIST files read as 60k + 10k labelled 28 x 28 images",
          "[fmnist][idx]") {
  if (!std::filesystem::exists(kDebianDir + "/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist not installed (scripts/setup.sh): skipped");
    return;
  }
  const IdxArray lab = read_idx(kDebianDir + "/train-labels-idx1-ubyte.gz", 1);
  REQUIRE(lab.items() == 60000);
  std::vector<int> per_class(10, 0);
  for (auto l : lab.data) per_class.at(l)++;
  for (int c : per_class) CHECK(c == 6000); // Fashion-MNIST is balanced
  CHECK(lab.data[0] == 9);                  // the first image is an ankle boot
  const IdxArray img = read_idx(kDebianDir + "/t10k-images-idx3-ubyte.gz", 3, 100);
  CHECK(img.dims == std::vector<std::uint32_t>{100, 28, 28});
  DatasetSpec spec;
  spec.train = 100;
  spec.validation = 50;
  spec.test = 20;
  const DatasetSplits d = load_dataset(spec);
  CHECK(d.train.size() == 100);
  CHECK(d.validation.size() == 50);
  CHECK(d.test.size() == 20);
  CHECK(d.validation.labels[0] == lab.data[100]); // validation follows train in the file
}

TEST_CASE("the NALSM current encoding: pixel / pixel sum / training max x scale",
          "[fmnist][encoding]") {
  ImageSet s;
  s.pixels = 4;
  s.images = {10, 30, 0, 60, /**/ 0, 0, 0, 0, /**/ 255, 255, 255, 255};
  s.labels = {1, 2, 3};
  // Normalised pixels: image 0 (sum 100) up to 0.6; image 2 0.25 each.
  CHECK(max_normalised_pixel(s) == Approx(0.6));
  DatasetSpec spec;
  spec.scale = 100.0;
  const auto f = image_factors(s, spec, 0.6);
  REQUIRE(f.size() == 3);
  CHECK(60 * f[0] == Approx(100.0)); // the largest normalised pixel gets `scale`
  CHECK(10 * f[0] == Approx(100.0 / 6));
  CHECK(f[1] == 0.0); // a black image: no current
  CHECK(255 * f[2] == Approx(0.25 / 0.6 * 100.0));
  spec.encoding = "poisson";
  spec.max_rate = 80.0;
  CHECK(255 * image_factors(s, spec, 0.6)[1] == Approx(80.0));
}

TEST_CASE("pipeline tables: parsed, overridable, and bad values named", "[fmnist][experiment]") {
  const std::string base = small_liquid("/nonexistent", "current");
  const Experiment ex = parse_experiment(
      base, "f.toml",
      {"dataset.train=20", "training.images=5", "readout.epochs=3", "dataset.window=40"});
  CHECK(ex.pipeline());
  CHECK(ex.dataset.train == 20);
  CHECK(ex.dataset.window == 40.0);
  CHECK(ex.training.images == 5);
  CHECK(ex.readout.epochs == 3);
  CHECK(ex.features.populations == std::vector<std::string>{"E"});
  CHECK(ex.features.trace_times == std::vector<double>{10.0, 30.0});
  CHECK_FALSE(parse_experiment(base.substr(0, base.find("[dataset]")), "f.toml").pipeline());

  auto error_with = [&](const std::string& from, const std::string& to) {
    std::string t = base;
    t.replace(t.find(from), from.size(), to);
    return input_error_of(t, "f.toml");
  };
  CHECK_THAT(error_with("window = 30.0", "window = 0.5"),
             Catch::Contains("f.toml:") && Catch::Contains("dataset.window") &&
                 Catch::Contains("at least one time step (dt = 1 ms), got 0.5"));
  CHECK_THAT(error_with("window = 30.0", "window = 2.5"),
             Catch::Contains("dataset.window") && Catch::Contains("multiple of the time step"));
  CHECK_THAT(error_with("encoding = \"current\"", "encoding = \"rate\""),
             Catch::Contains("dataset.encoding: unknown encoding 'rate'"));
  CHECK_THAT(error_with("name = \"fashion_mnist\"", "name = \"mnist\""),
             Catch::Contains("dataset.name: unknown dataset 'mnist'"));
  CHECK_THAT(error_with("train = 30", "train = 59995"),
             Catch::Contains("at most the 60000 images"));
  CHECK_THAT(error_with("trace_times = [10.0, 30.0]", "trace_times = [10.0, 40.0]"),
             Catch::Contains("features.trace_times[1]") && Catch::Contains("(0, dataset.window"));
  CHECK_THAT(error_with("populations = [\"E\"]", "populations = [\"F\"]"),
             Catch::Contains("unknown population 'F'"));
  CHECK_THAT(error_with("[features]", "[features]\nbogus = 1"),
             Catch::Contains("features.bogus: unknown key"));
  CHECK_THAT(error_with("[features]", "[features]\nrate_decay = 0.99"),
             Catch::Contains("features.rate_decay") && Catch::Contains("features.plastic = true"));
  CHECK_THAT(error_with("[features]", "[features]\nplastic = true\nrate_decay = 1.5"),
             Catch::Contains("features.rate_decay: must be"));
  CHECK_THAT(error_with("[features]", "[features]\nplastic = true\nrate_decay = 0.0"),
             Catch::Contains("features.rate_decay: must be"));
  {
    // A rule whose rates cannot fade (plain stdp on EE) is named.
    std::string t = base;
    const std::string ee = "rule = \"astro_stdp\"\nastrocyte = \"astro\"\npresynaptic = "
                           "\"excitatory\"";
    REQUIRE(t.find(ee) != std::string::npos);
    t.replace(t.find(ee), ee.size(), "rule = \"stdp\"");
    CHECK_NOTHROW(parse_experiment(t, "f.toml", {"features.plastic=true"}));
    t.replace(t.find("[features]"), 10, "[features]\nplastic = true\nrate_decay = 0.99");
    CHECK_THAT(input_error_of(t, "f.toml"), Catch::Contains("features.rate_decay") &&
                                                Catch::Contains("projection 'EE'") &&
                                                Catch::Contains("rule 'stdp'"));
  }
  CHECK_THAT(error_with("[dataset]", "[training]\nwindow = 0.2\n[dataset]"),
             Catch::Contains("training.window") && Catch::Contains("at least one time step"));
  CHECK_THAT(error_with("size = 784", "size = 780"),
             Catch::Contains("dataset.target") && Catch::Contains("784 pixels"));
  std::string no_dataset = base.substr(0, base.find("[dataset]")) + "[readout]\nl2 = 0.1\n";
  CHECK_THAT(input_error_of(no_dataset, "f.toml"), Catch::Contains("needs a [dataset] table"));
  try {
    parse_experiment(base, "f.toml", {"readout.l2=-1"});
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("readout.l2: must be >= 0"));
  }
}

TEST_CASE("per-sample features: the same bitwise with 1 and 2 threads, from the trained weights",
          "[fmnist][features][determinism]") {
  ScratchDir dir("fmnist-features");
  write_dataset(dir / "", 40, 10);
  for (const std::string encoding : {"current", "poisson"}) {
    std::string text = small_liquid(dir / "", encoding);
    if (encoding == "poisson") text += "";
    const Experiment ex =
        parse_experiment(text, "f.toml",
                         encoding == "poisson"
                             ? std::vector<std::string>{"dataset.max_rate=400", "dataset.weight=30"}
                             : std::vector<std::string>{});
    const auto data = samples_of(load_dataset(ex.dataset), ex.dataset);
    const PlasticWeights trained = train_briefly(ex, data, 2);
    FeatureJob job;
    job.ex = &ex;
    job.trained = &trained;
    job.data = data;
    job.samples = data->size();
    job.threads = 1;
    const Eigen::MatrixXd one = extract_features(job);
    job.threads = 2;
    const Eigen::MatrixXd two = extract_features(job);
    REQUIRE(one.rows() == 50);
    REQUIRE(one.cols() == 60 * 3);       // counts, then two trace times
    CHECK(one.leftCols(60).sum() > 100); // the liquid spikes
    CHECK((one.array() == two.array()).all());
    // Samples are independent: one sample alone gives its row of the batch.
    job.samples = 1;
    CHECK((extract_features(job).row(0).array() == one.row(0).array()).all());
    // The trained weights are what the samples run on.
    job.samples = data->size();
    job.trained = nullptr;
    CHECK_FALSE((extract_features(job).array() == one.array()).all());
  }
}

TEST_CASE("plastic features: every sample learns from the trained weights, the same bitwise with "
          "1 and 2 threads",
          "[fmnist][features][determinism]") {
  ScratchDir dir("fmnist-plastic-features");
  write_dataset(dir / "", 40, 10);
  const std::string text = small_liquid(dir / "", "current");
  // Rates 20x the paper's, so that 30 ms windows learn enough to change spike counts.
  const std::vector<std::string> fast = {"projection.0.plasticity.A_plus=3.0",
                                         "projection.1.plasticity.A_plus=3.0",
                                         "modulator.astro.b_astro=3.0", "modulator.astro.A0=3.0"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), fast.begin(), fast.end());
    return parse_experiment(text, "f.toml", extra);
  };
  const Experiment frozen = with({});
  const Experiment plastic = with({"features.plastic=true"});
  const Experiment fading = with({"features.plastic=true", "features.rate_decay=0.9"});
  const auto data = samples_of(load_dataset(frozen.dataset), frozen.dataset);
  const PlasticWeights trained = train_briefly(frozen, data, 1);
  auto features = [&](const Experiment& ex, int threads) {
    FeatureJob job;
    job.ex = &ex;
    job.trained = &trained;
    job.data = data;
    job.samples = data->size();
    job.threads = threads;
    return extract_features(job);
  };
  const Eigen::MatrixXd f = features(frozen, 1), p1 = features(plastic, 1),
                        p2 = features(plastic, 2), g2 = features(fading, 2);
  REQUIRE(p1.rows() == 50);
  CHECK(p1.leftCols(60).sum() > 100);
  // Every sample starts again from the trained weights, the initial traces and the
  // astrocyte's A0: the rows do not depend on which samples a worker ran before.
  CHECK((p1.array() == p2.array()).all());
  // The liquid learns within each window (the counts change), and less when its rates
  // fade: nearer the frozen liquid's counts.
  const double moved = (p1.leftCols(60) - f.leftCols(60)).cwiseAbs().sum();
  const double faded = (g2.leftCols(60) - f.leftCols(60)).cwiseAbs().sum();
  CHECK(moved > 0.0);
  CHECK(faded < moved);
  CHECK_FALSE((g2.array() == f.array()).all());
  CHECK((features(fading, 1).array() == g2.array()).all());
}

TEST_CASE("training with reset: every image starts from the neurons' and the astrocyte's "
          "initial state, weights carry on",
          "[fmnist][training]") {
  ScratchDir dir("fmnist-training-reset");
  write_dataset(dir / "", 40, 10);
  const Experiment ex = parse_experiment(small_liquid(dir / "", "current"), "f.toml", {});
  const auto data = samples_of(load_dataset(ex.dataset), ex.dataset);
  auto sn = build_sampled_network(ex, data, 1);
  Network& net = *sn.net;
  const PopulationSnapshot neurons(net);
  const ModulatorSnapshot modulators(net);
  const double a0 = net.modulators()[0]->value();
  const Population& e = *net.populations()[static_cast<std::size_t>(net.population_index("E"))];
  const std::vector<double> v0(e.state(0), e.state(0) + e.size());
  sn.input->present(0, 4, 0, 20);
  Simulator sim(net);
  std::vector<PlasticWeights> after;
  std::vector<std::uint64_t> spikes;
  for (int image = 0; image < 4; ++image) {
    if (image > 0) {
      // The previous image moved the astrocyte and the neurons.
      CHECK(net.modulators()[0]->value() != a0);
      CHECK_FALSE(std::equal(v0.begin(), v0.end(), e.state(0)));
    }
    neurons.restore(net);
    modulators.restore(net);
    CHECK(net.modulators()[0]->value() == a0);
    CHECK(std::equal(v0.begin(), v0.end(), e.state(0)));
    for (const auto& p : net.populations())
      CHECK(std::all_of(p->ring().raw().begin(), p->ring().raw().end(),
                        [](double x) { return x == 0.0; }));
    sim.run(20);
    after.push_back(plastic_weights(net));
    spikes.push_back(sim.stats(net.population_index("E")).total);
  }
  CHECK(spikes.back() > spikes.front()); // E fires
  // Weights carry on from image to image.
  CHECK(after[1] != after[0]);
  CHECK(after[3] != after[2]);
}

TEST_CASE("training.learn: only the named projections learn, the others train exactly as "
          "without their plasticity table",
          "[fmnist][training]") {
  ScratchDir dir("fmnist-training-learn");
  write_dataset(dir / "", 40, 10);
  const std::string text = small_liquid(dir / "", "current");
  const Experiment all = parse_experiment(text, "f.toml", {});
  const Experiment ee = parse_experiment(text, "f.toml", {"training.learn=[\"EE\"]"});
  CHECK(ee.training.learn == std::vector<std::string>{"EE"});
  CHECK(ee.projections[0].plasticity.rule.empty());
  CHECK(ee.projections[1].plasticity.rule == "astro_stdp");

  // The same file with inE's [projection.plasticity] table removed.
  std::string no_table = text;
  const std::string in_table = "[projection.plasticity]\nrule = \"astro_stdp\"\nastrocyte = "
                               "\"astro\"\npresynaptic = \"input\"\n";
  REQUIRE(no_table.find(in_table) != std::string::npos);
  no_table.erase(no_table.find(in_table), in_table.size());
  const Experiment removed = parse_experiment(no_table, "f.toml", {});

  const auto data = samples_of(load_dataset(all.dataset), all.dataset);
  auto initial = build_sampled_network(all, data, 1);
  const PlasticWeights w0 = plastic_weights(*initial.net);
  const PlasticWeights w_all = train_briefly(all, data, 1);
  const PlasticWeights w_ee = train_briefly(ee, data, 1);
  const PlasticWeights w_removed = train_briefly(removed, data, 1);
  CHECK(w_all[0] != w0[0]); // with every rule on, the input synapses move
  CHECK(w_all[1] != w0[1]);
  CHECK(w_ee[0].empty()); // inE is static: nothing to carry from training
  CHECK(w_ee[1] != w0[1]);
  CHECK(w_ee[1] != w_all[1]); // EE learns from a different liquid
  CHECK(w_ee == w_removed);   // bitwise

  auto error_with = [&](const std::string& list) {
    return input_error_of(text + "\n[training]\nlearn = " + list + "\n", "f.toml");
  };
  CHECK_THAT(error_with("[\"EF\"]"),
             Catch::Contains("f.toml:") && Catch::Contains("training.learn[0]") &&
                 Catch::Contains("no projection 'EF'") && Catch::Contains("EE"));
  CHECK_THAT(error_with("[\"EE\", \"EE\"]"),
             Catch::Contains("training.learn[1]") && Catch::Contains("'EE' is listed twice"));
  CHECK_THAT(input_error_of(no_table + "\n[training]\nlearn = [\"inE\"]\n", "f.toml"),
             Catch::Contains("training.learn[0]") && Catch::Contains("projection 'inE'") &&
                 Catch::Contains("cannot learn"));
  CHECK_THAT(error_with("\"EE\""), Catch::Contains("training.learn"));
}

TEST_CASE("softmax readout: gradient by finite differences, a separable problem learned",
          "[fmnist][softmax]") {
  const Stream st{7, 1};
  auto normal = [&](std::uint32_t i, std::uint32_t j) {
    const auto r = st.draw(i, j, 0, 0);
    return std::sqrt(-2 * std::log(u01(r[0]) + 1e-300)) * std::cos(6.283185307179586 * u01(r[1]));
  };
  const int n = 40, p = 5, k = 3;
  Eigen::MatrixXd z(n, p), w(p, k);
  Eigen::RowVectorXd b(k);
  std::vector<int> y(n);
  for (int i = 0; i < n; ++i) {
    y[static_cast<std::size_t>(i)] = i % k;
    for (int j = 0; j < p; ++j) z(i, j) = normal(static_cast<std::uint32_t>(i), j);
  }
  for (int j = 0; j < p; ++j)
    for (int c = 0; c < k; ++c) w(j, c) = 0.3 * normal(1000 + j, c);
  for (int c = 0; c < k; ++c) b(c) = 0.1 * c;
  Eigen::MatrixXd gw;
  Eigen::RowVectorXd gb;
  const double l2 = 0.05;
  softmax_loss(z, y, w, b, l2, &gw, &gb);
  const double h = 1e-6;
  for (int j = 0; j < p; ++j)
    for (int c = 0; c < k; ++c) {
      Eigen::MatrixXd wp = w, wm = w;
      wp(j, c) += h;
      wm(j, c) -= h;
      const double fd = (softmax_loss(z, y, wp, b, l2) - softmax_loss(z, y, wm, b, l2)) / (2 * h);
      CHECK(gw(j, c) == Approx(fd).margin(1e-7));
    }
  for (int c = 0; c < k; ++c) {
    Eigen::RowVectorXd bp = b, bm = b;
    bp(c) += h;
    bm(c) -= h;
    const double fd = (softmax_loss(z, y, w, bp, l2) - softmax_loss(z, y, w, bm, l2)) / (2 * h);
    CHECK(gb(c) == Approx(fd).margin(1e-7));
  }

  // Four classes, each a Gaussian blob around its own centre in 10 dimensions (shifted and
  // scaled, which standardisation undoes).
  auto blobs = [&](int count, std::uint32_t salt, std::vector<int>& labels) {
    Eigen::MatrixXd x(count, 10);
    labels.resize(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      const int c = i % 4;
      labels[static_cast<std::size_t>(i)] = c;
      for (int j = 0; j < 10; ++j)
        x(i, j) = 50.0 + 20.0 * ((j % 4 == c ? 3.0 : 0.0) +
                                 normal(salt + static_cast<std::uint32_t>(i), 100 + j));
    }
    return x;
  };
  std::vector<int> ytr, yva, yte;
  const Eigen::MatrixXd xtr = blobs(400, 0, ytr), xva = blobs(100, 10000, yva),
                        xte = blobs(200, 20000, yte);
  SoftmaxOptions o;
  o.epochs = 20;
  o.batch = 32;
  o.learning_rate = 0.01;
  const SoftmaxFit fit = softmax_fit(xtr, ytr, xva, yva, 4, o);
  CHECK(fit.model.accuracy(xte, yte) > 0.95);
  CHECK(fit.val_accuracy[fit.best_epoch - 1] ==
        *std::max_element(fit.val_accuracy.begin(), fit.val_accuracy.end()));
  CHECK(fit.loss.back() < fit.loss.front());
  // Deterministic: the same fit again.
  const SoftmaxFit again = softmax_fit(xtr, ytr, xva, yva, 4, o);
  CHECK((again.model.w.array() == fit.model.w.array()).all());
  // Random labels cannot be learned beyond chance on held-out data.
  std::vector<int> shuffled = ytr;
  for (std::size_t i = 0; i < shuffled.size(); ++i)
    shuffled[i] = static_cast<int>(st.draw(static_cast<std::uint32_t>(i), 9, 9, 9)[0] % 4);
  CHECK(softmax_fit(xtr, shuffled, xva, yva, 4, o).model.accuracy(xte, yte) < 0.45);
}

TEST_CASE("glia run: the NALSM Fashion-MNIST pipeline on a few hundred images beats chance",
          "[fmnist][cli][pipeline]") {
  if (!std::filesystem::exists(kDebianDir + "/train-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist not installed (scripts/setup.sh): skipped");
    return;
  }
  ScratchDir dir("fmnist-pipeline");
  const std::string out = dir / "out.h5";
  const auto r = run_glia("run " + source_path("experiments/nalsm_fmnist.toml") + " -o " + out +
                              " -q --threads 2 --set dataset.train=400 --set "
                              "dataset.validation=100 --set dataset.test=200 --set "
                              "training.images=400 --set readout.epochs=30",
                          dir);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const double acc = read_attribute(out, "/metrics", "test_accuracy");
  CHECK(acc > 0.5); // chance is 0.1
  CHECK(read_attribute(out, "/metrics", "val_accuracy") > 0.5);
  CHECK(read_attribute(out, "/metrics", "feature_samples_per_second") > 0);
  CHECK(std::isfinite(read_attribute(out, "/metrics", "branching_factor")));
  CHECK(glia::test::read_dataset<double>(out, "/readout/weights").size() == 1000 * 10);
  CHECK(glia::test::read_dataset<double>(out, "/readout/bias").size() == 10);
  CHECK_FALSE(std::filesystem::exists(out + ".partial"));
}

TEST_CASE("glia run: a missing dataset or a window shorter than dt exits 2 with a clear message",
          "[fmnist][cli]") {
  ScratchDir dir("fmnist-bad");
  const std::string exp = source_path("experiments/nalsm_fmnist.toml");
  auto r = run_glia(
      "run " + exp + " -o " + (dir / "o.h5") + " -q --set dataset.dir=" + (dir / "nowhere"), dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("dataset.dir") && Catch::Contains("nowhere") &&
                        Catch::Contains("is not a directory"));
  // A directory without the files.
  std::filesystem::create_directories(dir / "empty");
  r = run_glia("run " + exp + " -o " + (dir / "o.h5") + " -q --set dataset.dir=" + (dir / "empty"),
               dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err,
             Catch::Contains("train-images-idx3-ubyte.gz") && Catch::Contains("no such file"));
  r = run_glia("run " + exp + " -o " + (dir / "o.h5") + " -q --set dataset.window=0.5", dir);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--set dataset.window=0.5") &&
                        Catch::Contains("at least one time step (dt = 1 ms)"));
  CHECK_FALSE(std::filesystem::exists(dir / "o.h5"));
}
