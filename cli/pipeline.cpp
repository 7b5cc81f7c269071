// The dataset pipeline of `glia run` (see pipeline.hpp): training -> features -> readout,
// progress on stderr, a summary on stdout, and an HDF5 file with /metrics, /readout and
// (optionally) /features, written as OUT.partial and renamed when complete.
#include "cli/pipeline.hpp"
#include "glia_version.hpp"

#include "cli/progress.hpp"
#include "cli/run_control.hpp"
#include "io/dataset.hpp"
#include "io/hdf5_output.hpp"
#include "io/network_builder.hpp"
#include "reservoir/branching_factor.hpp"
#include "reservoir/features.hpp"
#include "reservoir/snapshots.hpp"
#include "reservoir/softmax.hpp"
#include "sim/network_state.hpp"
#include "sim/sample_input.hpp"
#include "sim/simulator.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace glia {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// "phase 1200/70000 (1.7 %), 410 samples/s, ETA 2m49s", rewritten in place on a terminal.
class PhaseProgress {
public:
  PhaseProgress(std::string phase, std::uint64_t total, const char* unit, bool enabled)
      : phase_(std::move(phase)), total_(total), unit_(unit), enabled_(enabled),
        tty_(isatty(fileno(stderr)) != 0), start_(Clock::now()), last_(start_) {}
  void update(std::uint64_t done, bool force = false) {
    if (!enabled_) return;
    const double every = tty_ ? 0.5 : 10.0;
    if (!force && std::chrono::duration<double>(Clock::now() - last_).count() < every) return;
    last_ = Clock::now();
    const double t = since(start_);
    const double rate = t > 0 ? static_cast<double>(done) / t : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    std::fprintf(stderr, "%s%s %llu/%llu (%.1f %%), %.1f %s/s, ETA %s%s", tty_ ? "\r" : "",
                 phase_.c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_),
                 total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
                 rate, unit_, format_seconds(eta).c_str(), tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  void finish(std::uint64_t done) {
    update(done, true);
    if (enabled_ && tty_) std::fprintf(stderr, "\n");
  }

private:
  std::string phase_;
  std::uint64_t total_;
  const char* unit_;
  bool enabled_, tty_;
  Clock::time_point start_, last_;
};

// The images of all splits one after the other (train, validation, test) with their
// encoding factors, and the labels.
struct Samples {
  std::shared_ptr<SampleData> data = std::make_shared<SampleData>();
  std::vector<int> labels;
  std::size_t train = 0, validation = 0, test = 0;
  double norm_max = 0.0;
};

Samples encode(const DatasetSplits& d, const DatasetSpec& spec) {
  Samples s;
  s.norm_max = max_normalised_pixel(d.train);
  s.data->width = d.train.pixels;
  for (const ImageSet* set : {&d.train, &d.validation, &d.test}) {
    s.data->values.insert(s.data->values.end(), set->images.begin(), set->images.end());
    const auto f = image_factors(*set, spec, s.norm_max);
    s.data->factor.insert(s.data->factor.end(), f.begin(), f.end());
    s.labels.insert(s.labels.end(), set->labels.begin(), set->labels.end());
  }
  s.train = d.train.size();
  s.validation = d.validation.size();
  s.test = d.test.size();
  return s;
}

struct TrainingResult {
  PlasticWeights weights;
  double wall_s = 0.0;
  std::uint64_t spikes = 0;
  std::unique_ptr<BranchingFactor> branching;
  std::vector<std::pair<std::string, double>> rates; // per population, Hz
};

// The unsupervised phase: the first training images, one window each, into the plastic
// network; its state (weights above all) afterwards.
TrainingResult train_liquid(const Experiment& ex, const Samples& s, int threads, bool show) {
  TrainingResult r;
  auto sn =
      build_sampled_network(ex, s.data, ex.training.threads > 0 ? ex.training.threads : threads);
  Network& net = *sn.net;
  const auto window = static_cast<std::uint64_t>(std::llround(ex.training.window / ex.run.dt));
  const std::uint64_t images = ex.training.images;
  const std::uint64_t steps = images * window;
  sn.input->present(0, images, 0, window);
  Simulator sim(net);
  const BranchingSpec& b = ex.run.branching;
  if (!b.populations.empty()) {
    std::vector<int> pops;
    for (const auto& name : b.populations) pops.push_back(net.population_index(name));
    std::vector<std::uint64_t> ends;
    for (int k = 1; k <= b.segments; ++k)
      ends.push_back(steps * static_cast<std::uint64_t>(k) /
                     static_cast<std::uint64_t>(b.segments));
    r.branching = std::make_unique<BranchingFactor>(
        liquid_graph(net, pops), static_cast<std::uint32_t>(std::llround(b.window / ex.run.dt)), 0,
        std::move(ends));
    sim.add_observer(r.branching.get());
  }
  sim.set_stop_poll([] { return SignalGuard::received() != 0; });
  PhaseProgress progress("training", images, "images", show);
  sim.set_progress([&](const ProgressInfo& p) { progress.update(p.step / window); }, 0.5);
  const auto t0 = Clock::now();
  if (ex.training.reset) {
    // Before every image: the neurons (state, in-flight input) and the modulators (the
    // astrocyte's A) as at the start; weights and the rules' traces carry on.
    const PopulationSnapshot neurons(net);
    const ModulatorSnapshot modulators(net);
    for (std::uint64_t i = 0; i < images; ++i) {
      neurons.restore(net);
      modulators.restore(net);
      if (sim.run(window) == RunEnd::stopped) break;
      progress.update(i + 1);
    }
  } else {
    sim.run(steps);
  }
  r.wall_s = since(t0);
  progress.finish(images);
  for (std::size_t p = 0; p < net.populations().size(); ++p) {
    r.spikes += sim.stats(static_cast<int>(p)).total;
    r.rates.emplace_back(net.populations()[p]->name(), sim.mean_rate_hz(static_cast<int>(p)));
  }
  r.weights = plastic_weights(net);
  return r;
}

Eigen::MatrixXd rows(const Eigen::MatrixXd& x, std::size_t first, std::size_t n) {
  return x.middleRows(static_cast<Eigen::Index>(first), static_cast<Eigen::Index>(n));
}
std::vector<int> slice(const std::vector<int>& v, std::size_t first, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(first),
          v.begin() + static_cast<std::ptrdiff_t>(first + n)};
}

// A signal (SIGINT, SIGTERM) stops the pipeline between steps or samples; nothing is
// written, and the exit code is 128 + the signal, as a killed process's.
int stopped_by_signal() {
  const int sig = SignalGuard::received();
  std::fprintf(stderr,
               "\nglia: stopped by %s; no output written (the pipeline cannot be "
               "resumed)\n",
               signal_name(sig).c_str());
  return 128 + sig;
}

int fail_input(const std::exception& e) {
  std::fprintf(stderr, "glia: error: %s\n", e.what());
  return kExitBadInput;
}

} // namespace

int run_pipeline(const RunOptions& opt, const Experiment& ex, const std::string& out_path) {
  const auto t_all = Clock::now();
  const int threads = resolve_threads(ex, opt.threads);
  const bool show = !opt.quiet;

  // 1. The dataset.
  Samples s;
  try {
    s = encode(load_dataset(ex.dataset), ex.dataset);
  } catch (const InputError& e) {
    return fail_input(e);
  }
  std::fprintf(stderr,
               "glia %s: %s: %s, %zu train / %zu validation / %zu test images, %s encoding, "
               "%d thread%s\n",
               GLIA_VERSION, opt.experiment.c_str(), ex.dataset.name.c_str(), s.train, s.validation,
               s.test, ex.dataset.encoding.c_str(), threads, threads == 1 ? "" : "s");

  // 2. Unsupervised training (optional).
  std::optional<TrainingResult> trained;
  if (ex.training.images > 0) {
    try {
      trained = train_liquid(ex, s, threads, show);
    } catch (const InputError& e) {
      return fail_input(e);
    }
    if (SignalGuard::received() != 0) return stopped_by_signal();
  }

  // 3. Features of every sample.
  const std::uint64_t n = s.labels.size();
  PhaseProgress fprog("features", n, "samples", show);
  FeatureJob job;
  job.ex = &ex;
  job.trained = trained ? &trained->weights : nullptr;
  job.data = s.data;
  job.samples = n;
  job.threads = threads;
  job.progress = [&](std::uint64_t d) { fprog.update(d); };
  job.stop = [] { return SignalGuard::received() != 0; };
  const auto t_feat = Clock::now();
  Eigen::MatrixXd x;
  try {
    x = extract_features(job);
  } catch (const InputError& e) {
    return fail_input(e);
  }
  if (SignalGuard::received() != 0) return stopped_by_signal();
  const double feat_s = since(t_feat);
  fprog.finish(n);
  const double samples_per_s = feat_s > 0 ? static_cast<double>(n) / feat_s : 0.0;

  // Mean spike count per feature neuron and sample: a liquid that is silent or saturated
  // shows here first.
  double mean_count = 0.0;
  if (ex.features.counts) {
    std::size_t width = 0;
    for (const auto& name : ex.features.populations)
      width += ex.populations[static_cast<std::size_t>(ex.population_index(name))].size;
    mean_count = x.leftCols(static_cast<Eigen::Index>(width)).mean();
  }

  // 4. Readout.
  SoftmaxOptions so;
  so.l2 = ex.readout.l2;
  so.epochs = ex.readout.epochs;
  so.batch = ex.readout.batch;
  so.learning_rate = ex.readout.learning_rate;
  so.seed = ex.run.seed;
  const auto t_read = Clock::now();
  const Eigen::MatrixXd x_train = rows(x, 0, s.train), x_val = rows(x, s.train, s.validation),
                        x_test = rows(x, s.train + s.validation, s.test);
  // The whole matrix is needed again only to be saved: without it the readout's peak is
  // the splits and their standardised copies (8000-neuron liquid: 4.5 GB less).
  const Eigen::Index feature_count = x.cols();
  if (!ex.features.save) x = Eigen::MatrixXd();
  const auto y_train = slice(s.labels, 0, s.train), y_val = slice(s.labels, s.train, s.validation),
             y_test = slice(s.labels, s.train + s.validation, s.test);
  const SoftmaxFit fit = softmax_fit(x_train, y_train, x_val, y_val, 10, so);
  const double test_acc = fit.model.accuracy(x_test, y_test);
  if (SignalGuard::received() != 0) return stopped_by_signal();
  const double readout_s = since(t_read);
  const double train_acc = fit.train_accuracy[fit.best_epoch - 1];
  const double val_acc = fit.val_accuracy[fit.best_epoch - 1];
  const double wall_s = since(t_all);

  std::printf("\n");
  if (trained) {
    std::printf("training      %u images x %g ms in %s (%.1f images/s)", ex.training.images,
                ex.training.window, format_seconds(trained->wall_s).c_str(),
                trained->wall_s > 0 ? ex.training.images / trained->wall_s : 0.0);
    for (const auto& [name, rate] : trained->rates) std::printf(", %s %.2f Hz", name.c_str(), rate);
    std::printf("\n");
    if (trained->branching) {
      std::printf("branching     %.4f (training phase)", trained->branching->result().sigma);
      if (trained->branching->segments() > 1) {
        std::printf(", by segment");
        for (std::size_t k = 0; k < trained->branching->segments(); ++k)
          std::printf(" %.4f", trained->branching->segment(k).sigma);
      }
      std::printf("\n");
    }
  } else {
    std::printf("training      none (fixed liquid)\n");
  }
  std::printf("features      %llu samples x %lld in %s (%.1f samples/s, %d thread%s), mean count "
              "%.3f\n",
              static_cast<unsigned long long>(n), static_cast<long long>(feature_count),
              format_seconds(feat_s).c_str(), samples_per_s, threads, threads == 1 ? "" : "s",
              mean_count);
  std::printf("readout       softmax, best validation epoch %u of %u, in %s\n", fit.best_epoch,
              so.epochs, format_seconds(readout_s).c_str());
  std::printf("accuracy      train %.4f, validation %.4f, test %.4f\n", train_acc, val_acc,
              test_acc);
  std::printf("wall time     %s\n", format_seconds(wall_s).c_str());

  // 5. Output, complete or not at all.
  const std::string partial = out_path + ".partial";
  try {
    Hdf5Output out(partial);
    std::string overrides;
    for (const auto& o : opt.overrides) overrides += (overrides.empty() ? "" : "\n") + o;
    out.set_attribute("/", "glia_version", std::string(GLIA_VERSION));
    out.set_attribute("/", "experiment_path", opt.experiment);
    out.set_attribute("/", "experiment_source", ex.source_text);
    out.set_attribute("/", "experiment", ex.resolved_text);
    out.set_attribute("/", "overrides", overrides);
    out.set_attribute("/", "seed", static_cast<std::int64_t>(ex.run.seed));
    out.set_attribute("/", "threads", static_cast<std::int64_t>(threads));
    out.set_attribute("/", "dt", ex.run.dt);
    out.set_attribute("/", "status", std::string("complete"));
    const std::string m = "/metrics";
    out.set_attribute(m, "test_accuracy", test_acc);
    out.set_attribute(m, "val_accuracy", val_acc);
    out.set_attribute(m, "train_accuracy", train_acc);
    out.set_attribute(m, "best_epoch", static_cast<std::int64_t>(fit.best_epoch));
    out.set_attribute(m, "feature_samples", static_cast<std::int64_t>(n));
    out.set_attribute(m, "features", static_cast<std::int64_t>(feature_count));
    out.set_attribute(m, "feature_time_s", feat_s);
    out.set_attribute(m, "feature_samples_per_second", samples_per_s);
    out.set_attribute(m, "feature_mean_count", mean_count);
    out.set_attribute(m, "readout_time_s", readout_s);
    out.set_attribute(m, "training_images", static_cast<std::int64_t>(ex.training.images));
    out.set_attribute(m, "training_time_s", trained ? trained->wall_s : 0.0);
    out.set_attribute(m, "pipeline_wall_time_s", wall_s);
    out.set_attribute(m, "wall_time_s", wall_s);
    out.set_attribute(m, "normalised_pixel_max", s.norm_max);
    if (trained) {
      out.set_attribute(m, "training_spikes", static_cast<std::int64_t>(trained->spikes));
      for (const auto& [name, rate] : trained->rates)
        out.set_attribute(m, "training_rate_" + name + "_hz", rate);
      if (trained->branching) {
        out.set_attribute(m, "branching_factor", trained->branching->result().sigma);
        for (std::size_t k = 0; k < trained->branching->segments(); ++k)
          out.set_attribute(m, "branching_factor_" + std::to_string(k),
                            trained->branching->segment(k).sigma);
      }
    }
    out.set_attribute(m, "peak_rss_bytes", static_cast<std::int64_t>(peak_rss_bytes()));
    // The readout: logits = ((x - mean) / scale) W + b.
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w = fit.model.w;
    out.write_matrix("/readout/weights", w.data(), static_cast<std::uint64_t>(w.rows()),
                     static_cast<std::uint64_t>(w.cols()));
    out.write_matrix("/readout/bias", fit.model.b.data(), 1,
                     static_cast<std::uint64_t>(fit.model.b.size()));
    out.write_matrix("/readout/mean", fit.model.mean.data(), 1,
                     static_cast<std::uint64_t>(fit.model.mean.size()));
    out.write_matrix("/readout/scale", fit.model.scale.data(), 1,
                     static_cast<std::uint64_t>(fit.model.scale.size()));
    out.write_matrix("/readout/val_accuracy", fit.val_accuracy.data(), 1, fit.val_accuracy.size());
    out.write_matrix("/readout/train_accuracy", fit.train_accuracy.data(), 1,
                     fit.train_accuracy.size());
    out.write_matrix("/readout/loss", fit.loss.data(), 1, fit.loss.size());
    out.set_attribute("/readout", "type", std::string("softmax"));
    out.set_attribute("/readout", "best_epoch", static_cast<std::int64_t>(fit.best_epoch));
    if (ex.features.save) {
      const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = x;
      out.write_matrix("/features/data", xr.data(), static_cast<std::uint64_t>(xr.rows()),
                       static_cast<std::uint64_t>(xr.cols()), true);
      std::vector<double> lab(s.labels.begin(), s.labels.end());
      out.write_matrix("/features/labels", lab.data(), 1, lab.size());
      out.set_attribute("/features", "train", static_cast<std::int64_t>(s.train));
      out.set_attribute("/features", "validation", static_cast<std::int64_t>(s.validation));
      out.set_attribute("/features", "test", static_cast<std::int64_t>(s.test));
    }
    out.close();
    fs::rename(partial, out_path);
  } catch (const OutputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    std::error_code ec;
    fs::remove(partial, ec);
    return kExitFailure;
  } catch (const fs::filesystem_error& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitFailure;
  }
  std::printf("output        %s\n", out_path.c_str());
  return kExitOk;
}

} // namespace glia
