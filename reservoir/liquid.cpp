// Signal current and filtered spike traces (see liquid.hpp).
#include "reservoir/liquid.hpp"

#include "io/network_builder.hpp"
#include "sim/simulator.hpp"

#include <cmath>
#include <stdexcept>

namespace glia {

SignalInput::SignalInput(std::vector<double> gains, std::vector<double> u, std::uint64_t hold_steps,
                         std::uint64_t start_step)
    : gains_(std::move(gains)), u_(std::move(u)), hold_(std::max<std::uint64_t>(hold_steps, 1)),
      start_(start_step) {}

bool SignalInput::changes_at(std::uint64_t step) const {
  return step >= start_ && (step - start_) % hold_ == 0 && (step - start_) / hold_ <= u_.size();
}

void SignalInput::add_current(std::uint64_t step, std::uint32_t lo, std::uint32_t hi,
                              double* i_ext) const {
  if (step < start_) return;
  const std::uint64_t k = (step - start_) / hold_;
  if (k >= u_.size()) return;
  const double u = u_[k];
  for_targets(lo, hi, [&](std::uint32_t i) { i_ext[i] += gains_[i] * u; });
}

std::vector<double> signal_gains(std::uint32_t n, double scale, double fraction,
                                 const Stream& stream) {
  std::vector<double> g(n, 0.0);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto r = stream.draw(i, 0, 0, 0x5349474eu); // "SIGN"
    if (u01(r[0]) >= fraction) continue;
    g[i] = (r[1] & 1u ? 1.0 : -1.0) * scale * (0.5 + 0.5 * u01(r[2]));
  }
  return g;
}

FilteredTraces::FilteredTraces(const Network& net, std::vector<int> populations,
                               std::vector<double> tau_ms, std::uint64_t start_step,
                               std::uint64_t hold_steps, std::size_t samples, int points)
    : pops_(std::move(populations)), start_(start_step),
      hold_(std::max<std::uint64_t>(hold_steps, 1)), samples_(samples) {
  if (tau_ms.empty()) throw std::invalid_argument("FilteredTraces: no trace time constant");
  for (double tau : tau_ms) {
    if (!(tau > 0.0)) throw std::invalid_argument("FilteredTraces: tau_ms must be > 0");
    decay_.push_back(std::exp(-net.dt() / tau));
  }
  if (points < 1 || static_cast<std::uint64_t>(points) > hold_)
    throw std::invalid_argument("FilteredTraces: trace_points must be in [1, hold steps]");
  // Part q of the window ends after its step (q + 1) hold / points - 1.
  for (int q = 1; q <= points; ++q)
    points_.push_back(hold_ * static_cast<std::uint64_t>(q) / static_cast<std::uint64_t>(points) -
                      1);
  for (int p : pops_) {
    offset_.push_back(n_);
    n_ += net.populations()[static_cast<std::size_t>(p)]->size();
  }
  x_.assign(decay_.size() * n_, 0.0);
  traces_ = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(samples_),
                                  static_cast<Eigen::Index>(x_.size() * points_.size()));
  counts_ = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(samples_), n_);
}

void FilteredTraces::observe(std::uint64_t step, const std::vector<StepSpikes>& spikes) {
  const std::size_t taus = decay_.size();
  for (std::size_t j = 0; j < taus; ++j) {
    const double d = decay_[j];
    double* x = x_.data() + j * n_;
    for (std::uint32_t i = 0; i < n_; ++i) x[i] *= d;
  }
  const bool in_samples = step >= start_ && (step - start_) / hold_ < samples_;
  const auto row = in_samples ? static_cast<Eigen::Index>((step - start_) / hold_) : 0;
  for (std::size_t k = 0; k < pops_.size(); ++k) {
    const std::uint32_t off = offset_[k];
    spikes[static_cast<std::size_t>(pops_[k])].for_each([&](std::uint32_t i) {
      for (std::size_t j = 0; j < taus; ++j) x_[j * n_ + off + i] += 1.0;
      if (!in_samples) return;
      counts_(row, off + i) += 1.0;
      steps_.push_back(step);
      ids_.push_back(off + i);
    });
  }
  if (!in_samples) return;
  const std::uint64_t in_window = (step - start_) % hold_;
  const std::size_t points = points_.size();
  for (std::size_t q = 0; q < points; ++q) {
    if (points_[q] != in_window) continue;
    for (std::size_t j = 0; j < taus; ++j) {
      const auto col = static_cast<Eigen::Index>((j * points + q) * n_);
      for (std::uint32_t i = 0; i < n_; ++i) traces_(row, col + i) = x_[j * n_ + i];
    }
  }
}

namespace {

int population_of(const Network& net, const std::string& name) {
  const int p = net.population_index(name);
  if (p < 0) throw std::invalid_argument("drive_liquid: no population '" + name + "'");
  return p;
}

} // namespace

FilteredTraces drive_liquid(const Experiment& ex, const LiquidDrive& drive,
                            const std::vector<double>& u) {
  auto net = build_network(ex, drive.threads);
  const double dt = net->dt();
  const auto hold = static_cast<std::uint64_t>(std::llround(drive.hold_ms / dt));
  const auto start = static_cast<std::uint64_t>(std::llround(drive.warmup_ms / dt));
  if (hold == 0) throw std::invalid_argument("drive_liquid: hold_ms below one step");
  std::vector<double> fed(u);
  for (double& v : fed) v += drive.offset;
  for (const std::string& name : drive.driven) {
    const int p = population_of(*net, name);
    const auto index = static_cast<std::uint32_t>(net->inputs().size());
    const Stream stream{net->seed(), stream_id(StreamKind::input, index)};
    auto in = std::make_unique<SignalInput>(
        signal_gains(net->populations()[static_cast<std::size_t>(p)]->size(), drive.gain,
                     drive.fraction, stream),
        fed, hold, start);
    in->name = "signal_" + name;
    in->target = p;
    net->add_input(std::move(in));
  }
  std::vector<int> readout;
  for (const std::string& name : drive.readout) readout.push_back(population_of(*net, name));
  FilteredTraces traces(*net, readout, drive.tau_ms, start, hold, u.size(), drive.trace_points);
  Simulator sim(*net);
  sim.add_observer(&traces);
  sim.run(start + hold * u.size());
  return traces;
}

} // namespace glia
