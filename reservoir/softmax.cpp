// Softmax regression with Adam (see softmax.hpp).
#include "reservoir/softmax.hpp"

#include "sim/random.hpp"

#include <cmath>
#include <stdexcept>

namespace glia {
namespace {

// Row-wise softmax of logits, in place, shifted by each row's maximum.
void softmax_rows(Eigen::MatrixXd& a) {
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    const double m = a.row(i).maxCoeff();
    a.row(i) = (a.row(i).array() - m).exp();
    a.row(i) /= a.row(i).sum();
  }
}

Eigen::MatrixXd standardise(const Eigen::MatrixXd& x, const Eigen::RowVectorXd& mean,
                            const Eigen::RowVectorXd& scale) {
  return (x.rowwise() - mean).array().rowwise() / scale.array();
}

double accuracy_of(const Eigen::MatrixXd& z, const std::vector<int>& y, const Eigen::MatrixXd& w,
                   const Eigen::RowVectorXd& b) {
  if (z.rows() == 0) return 0.0;
  const Eigen::MatrixXd logits = (z * w).rowwise() + b;
  std::size_t right = 0;
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index k = 0;
    logits.row(i).maxCoeff(&k);
    right += static_cast<int>(k) == y[static_cast<std::size_t>(i)];
  }
  return static_cast<double>(right) / static_cast<double>(z.rows());
}

} // namespace

Eigen::MatrixXd SoftmaxModel::probabilities(const Eigen::MatrixXd& x) const {
  Eigen::MatrixXd a = (standardise(x, mean, scale) * w).rowwise() + b;
  softmax_rows(a);
  return a;
}

std::vector<int> SoftmaxModel::predict(const Eigen::MatrixXd& x) const {
  const Eigen::MatrixXd logits = (standardise(x, mean, scale) * w).rowwise() + b;
  std::vector<int> out(static_cast<std::size_t>(x.rows()));
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index k = 0;
    logits.row(i).maxCoeff(&k);
    out[static_cast<std::size_t>(i)] = static_cast<int>(k);
  }
  return out;
}

double SoftmaxModel::accuracy(const Eigen::MatrixXd& x, const std::vector<int>& labels) const {
  return accuracy_of(standardise(x, mean, scale), labels, w, b);
}

double softmax_loss(const Eigen::MatrixXd& z, const std::vector<int>& y, const Eigen::MatrixXd& w,
                    const Eigen::RowVectorXd& b, double l2, Eigen::MatrixXd* grad_w,
                    Eigen::RowVectorXd* grad_b) {
  const auto n = static_cast<double>(z.rows());
  Eigen::MatrixXd p = (z * w).rowwise() + b;
  double loss = 0.0;
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    const double m = p.row(i).maxCoeff();
    const double lse = m + std::log((p.row(i).array() - m).exp().sum());
    loss += lse - p(i, y[static_cast<std::size_t>(i)]);
    p.row(i) = (p.row(i).array() - lse).exp();
  }
  loss = loss / n + 0.5 * l2 * w.squaredNorm();
  if (grad_w || grad_b) {
    for (Eigen::Index i = 0; i < p.rows(); ++i) p(i, y[static_cast<std::size_t>(i)]) -= 1.0;
    p /= n; // d(mean loss) / d(logits)
    if (grad_w) *grad_w = z.transpose() * p + l2 * w;
    if (grad_b) *grad_b = p.colwise().sum();
  }
  return loss;
}

SoftmaxFit softmax_fit(const Eigen::MatrixXd& x_train, const std::vector<int>& y_train,
                       const Eigen::MatrixXd& x_val, const std::vector<int>& y_val, int classes,
                       const SoftmaxOptions& o) {
  const Eigen::Index n = x_train.rows(), p = x_train.cols();
  // Eigen's own OpenMP threads would make the products depend on the thread count (and
  // spin against other work); the readout is small next to the simulations anyway.
  const int eigen_threads = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  struct Restore {
    int n;
    ~Restore() { Eigen::setNbThreads(n); }
  } restore{eigen_threads};
  if (n == 0) throw std::invalid_argument("softmax_fit: no training samples");
  SoftmaxFit fit;
  SoftmaxModel& best = fit.model;
  best.mean = x_train.colwise().mean();
  best.scale =
      ((x_train.rowwise() - best.mean).array().square().colwise().sum() / static_cast<double>(n))
          .sqrt();
  // Constant features (silent neurons) stay 0 after centring; a unit scale keeps them so.
  for (Eigen::Index j = 0; j < p; ++j)
    if (!(best.scale(j) > 1e-12)) best.scale(j) = 1.0;
  const Eigen::MatrixXd z = standardise(x_train, best.mean, best.scale);
  const Eigen::MatrixXd zv = standardise(x_val, best.mean, best.scale);

  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(p, classes), mw = w, vw = w, gw;
  Eigen::RowVectorXd b = Eigen::RowVectorXd::Zero(classes), mb = b, vb = b, gb;
  double best_val = -1.0;
  std::uint64_t t = 0;
  const Eigen::Index batch = std::max<Eigen::Index>(1, o.batch);
  Eigen::MatrixXd zb;
  std::vector<int> yb;
  for (std::uint32_t epoch = 0; epoch < o.epochs; ++epoch) {
    const auto order = permutation(static_cast<std::uint32_t>(n),
                                   Stream{o.seed, stream_id(StreamKind::task, epoch, 1)});
    double loss_sum = 0.0;
    for (Eigen::Index from = 0; from < n; from += batch) {
      const Eigen::Index m = std::min(batch, n - from);
      zb.resize(m, p);
      yb.resize(static_cast<std::size_t>(m));
      for (Eigen::Index k = 0; k < m; ++k) {
        const std::uint32_t r = order[static_cast<std::size_t>(from + k)];
        zb.row(k) = z.row(r);
        yb[static_cast<std::size_t>(k)] = y_train[r];
      }
      loss_sum += softmax_loss(zb, yb, w, b, o.l2, &gw, &gb) * static_cast<double>(m);
      ++t;
      const double c1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
      const double c2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
      mw = o.beta1 * mw + (1.0 - o.beta1) * gw;
      vw = o.beta2 * vw + (1.0 - o.beta2) * gw.cwiseProduct(gw);
      mb = o.beta1 * mb + (1.0 - o.beta1) * gb;
      vb = o.beta2 * vb + (1.0 - o.beta2) * gb.cwiseProduct(gb);
      w.array() -= o.learning_rate * (mw.array() / c1) / ((vw.array() / c2).sqrt() + o.epsilon);
      b.array() -= o.learning_rate * (mb.array() / c1) / ((vb.array() / c2).sqrt() + o.epsilon);
    }
    fit.loss.push_back(loss_sum / static_cast<double>(n));
    fit.train_accuracy.push_back(accuracy_of(z, y_train, w, b));
    const double val = x_val.rows() > 0 ? accuracy_of(zv, y_val, w, b) : fit.train_accuracy.back();
    fit.val_accuracy.push_back(val);
    if (val > best_val) {
      best_val = val;
      best.w = w;
      best.b = b;
      fit.best_epoch = epoch + 1;
    }
  }
  return fit;
}

} // namespace glia
