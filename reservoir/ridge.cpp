// Closed-form ridge regression (see ridge.hpp).
#include "reservoir/ridge.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace glia {

namespace {

// The centred problem, eigendecomposed: Xc^T Xc = V diag(e) V^T, and V^T Xc^T yc.
struct Centred {
  Eigen::RowVectorXd x_mean, y_mean;
  Eigen::MatrixXd v, vt_xty;
  Eigen::VectorXd e;
  double scale = 1.0; // trace / p

  Centred(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
    if (x.rows() != y.rows() || x.rows() < 2)
      throw std::invalid_argument("ridge: x and y need the same number (>= 2) of rows");
    x_mean = x.colwise().mean();
    y_mean = y.colwise().mean();
    const Eigen::MatrixXd xc = x.rowwise() - x_mean;
    const Eigen::MatrixXd yc = y.rowwise() - y_mean;
    const Eigen::MatrixXd gram = xc.transpose() * xc;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(gram);
    v = es.eigenvectors();
    e = es.eigenvalues().cwiseMax(0.0);
    vt_xty = v.transpose() * (xc.transpose() * yc);
    scale = x.cols() > 0 ? gram.trace() / static_cast<double>(x.cols()) : 1.0;
    if (!(scale > 0.0)) scale = 1.0;
  }

  // Weights of output columns for one alpha.
  Eigen::MatrixXd weights(double alpha) const {
    const double lambda = alpha * scale;
    Eigen::VectorXd inv(e.size());
    for (Eigen::Index j = 0; j < e.size(); ++j) {
      const double d = e[j] + lambda;
      // A direction with no variance and no penalty carries no information.
      inv[j] = d > 1e-12 * scale ? 1.0 / d : 0.0;
    }
    return v * (inv.asDiagonal() * vt_xty);
  }

  RidgeModel model(double alpha) const {
    RidgeModel m;
    m.w = weights(alpha);
    m.b = y_mean - x_mean * m.w;
    m.alpha.assign(static_cast<std::size_t>(m.w.cols()), alpha);
    return m;
  }
};

} // namespace

Eigen::MatrixXd RidgeModel::predict(const Eigen::MatrixXd& x) const {
  return (x * w).rowwise() + b;
}

RidgeModel ridge_fit(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double alpha) {
  if (alpha < 0.0) throw std::invalid_argument("ridge: alpha must be >= 0");
  return Centred(x, y).model(alpha);
}

RidgeModel ridge_fit_validated(const Eigen::MatrixXd& x_train, const Eigen::MatrixXd& y_train,
                               const Eigen::MatrixXd& x_val, const Eigen::MatrixXd& y_val,
                               const std::vector<double>& grid) {
  if (grid.empty()) throw std::invalid_argument("ridge: empty alpha grid");
  if (x_val.cols() != x_train.cols() || y_val.cols() != y_train.cols())
    throw std::invalid_argument("ridge: training and validation shapes differ");
  const Eigen::Index m = y_train.cols();
  std::vector<double> best(static_cast<std::size_t>(m), grid.front());
  std::vector<double> best_err(static_cast<std::size_t>(m),
                               std::numeric_limits<double>::infinity());
  {
    const Centred c(x_train, y_train);
    for (double alpha : grid) {
      const Eigen::MatrixXd pred = c.model(alpha).predict(x_val);
      for (Eigen::Index j = 0; j < m; ++j) {
        const double err = nrmse(pred.col(j), y_val.col(j));
        auto& be = best_err[static_cast<std::size_t>(j)];
        if (err <= be) {
          be = err;
          best[static_cast<std::size_t>(j)] = alpha;
        }
      }
    }
  }
  Eigen::MatrixXd x(x_train.rows() + x_val.rows(), x_train.cols());
  Eigen::MatrixXd y(y_train.rows() + y_val.rows(), m);
  x << x_train, x_val;
  y << y_train, y_val;
  const Centred all(x, y);
  RidgeModel out;
  out.w.resize(x.cols(), m);
  out.b.resize(m);
  for (Eigen::Index j = 0; j < m; ++j) {
    const double alpha = best[static_cast<std::size_t>(j)];
    const Eigen::VectorXd wj = all.weights(alpha).col(j);
    out.w.col(j) = wj;
    out.b[j] = all.y_mean[j] - all.x_mean.dot(wj);
  }
  out.alpha = best;
  out.val_nrmse = best_err;
  return out;
}

std::vector<double> log_grid(double lo, double hi, int n) {
  if (!(lo > 0.0) || !(hi >= lo) || n < 1) throw std::invalid_argument("log_grid: bad range");
  std::vector<double> g(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k)
    g[static_cast<std::size_t>(k)] =
        n == 1 ? lo : lo * std::pow(hi / lo, static_cast<double>(k) / (n - 1));
  return g;
}

double nrmse(const Eigen::VectorXd& pred, const Eigen::VectorXd& target) {
  if (pred.size() != target.size() || target.size() == 0)
    throw std::invalid_argument("nrmse: sizes differ or are empty");
  const double var = (target.array() - target.mean()).square().mean();
  const double mse = (pred - target).squaredNorm() / static_cast<double>(target.size());
  return std::sqrt(mse / var);
}

double squared_correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (a.size() != b.size() || a.size() < 2)
    throw std::invalid_argument("squared_correlation: sizes differ or < 2");
  const Eigen::ArrayXd da = a.array() - a.mean(), db = b.array() - b.mean();
  const double saa = da.square().sum(), sbb = db.square().sum();
  if (saa <= 0.0 || sbb <= 0.0) return 0.0;
  const double sab = (da * db).sum();
  return sab * sab / (saa * sbb);
}

} // namespace glia
