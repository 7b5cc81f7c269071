// Task scores of reservoir features (see benchmarks.hpp).
#include "reservoir/benchmarks.hpp"

#include <stdexcept>

namespace glia {

std::vector<double> default_alpha_grid() {
  return log_grid(1e-8, 10.0, 19);
}

TestScore fit_and_test(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, std::size_t washout) {
  if (x.rows() != y.rows()) throw std::invalid_argument("fit_and_test: rows differ");
  const auto n = static_cast<Eigen::Index>(x.rows()) - static_cast<Eigen::Index>(washout);
  if (n < 10) throw std::invalid_argument("fit_and_test: fewer than 10 rows after washout");
  const auto w = static_cast<Eigen::Index>(washout);
  const Eigen::Index n_train = n * 3 / 5, n_val = n / 5, n_test = n - n_train - n_val;
  TestScore s;
  s.model = ridge_fit_validated(x.middleRows(w, n_train), y.middleRows(w, n_train),
                                x.middleRows(w + n_train, n_val), y.middleRows(w + n_train, n_val),
                                default_alpha_grid());
  s.pred = s.model.predict(x.bottomRows(n_test));
  s.target = y.bottomRows(n_test);
  return s;
}

double narma10_nrmse(const Eigen::MatrixXd& x, const Series& s, std::size_t washout) {
  const auto n = static_cast<Eigen::Index>(s.y.size());
  if (x.rows() != n) throw std::invalid_argument("narma10_nrmse: one feature row per sample");
  Eigen::MatrixXd y(n - 1, 1);
  for (Eigen::Index t = 0; t + 1 < n; ++t) y(t, 0) = s.y[static_cast<std::size_t>(t + 1)];
  const TestScore r = fit_and_test(x.topRows(n - 1), y, washout);
  return nrmse(r.pred.col(0), r.target.col(0));
}

double memory_capacity(const Eigen::MatrixXd& x, const std::vector<double>& u, std::size_t washout,
                       int max_delay, std::vector<double>* per_delay) {
  const auto first = std::max<std::size_t>(washout, static_cast<std::size_t>(max_delay));
  const Eigen::MatrixXd y = delayed_targets(u, first, max_delay);
  const auto rows = static_cast<Eigen::Index>(u.size() - first);
  const TestScore r = fit_and_test(x.bottomRows(rows), y, 0);
  double mc = 0.0;
  if (per_delay) per_delay->clear();
  for (int k = 0; k <= max_delay; ++k) {
    const double r2 = squared_correlation(r.pred.col(k), r.target.col(k));
    mc += r2;
    if (per_delay) per_delay->push_back(r2);
  }
  return mc;
}

Eigen::MatrixXd input_taps(const std::vector<double>& u, int taps) {
  if (taps < 1) throw std::invalid_argument("input_taps: taps must be >= 1");
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(u.size()), taps);
  for (std::size_t t = 0; t < u.size(); ++t)
    for (int k = 0; k < taps && static_cast<std::size_t>(k) <= t; ++k)
      x(static_cast<Eigen::Index>(t), k) = u[t - static_cast<std::size_t>(k)];
  return x;
}

} // namespace glia
