// Ridge regression readouts (MODELS.md "Generated benchmarks"): y = X w + b, with w
// minimising |y - X w - b|^2 + lambda |w|^2 and the bias b unpenalised. Solved in closed
// form on centred data (which is what leaving the bias column unpenalised amounts to):
// w = (Xc^T Xc + lambda I)^-1 Xc^T yc, b = mean(y) - mean(X) w. For a grid of lambdas the
// Gram matrix is eigendecomposed once, so each lambda costs one matrix product.
//
// Lambdas are given relative to the features' scale: lambda = alpha * trace(Xc^T Xc) / p
// (p features), so one grid of alphas serves features of any magnitude.
#pragma once

#include "reservoir/eigen.hpp"

#include <vector>

namespace glia {

struct RidgeModel {
  Eigen::MatrixXd w;             // p x m (one column per output)
  Eigen::RowVectorXd b;          // m
  std::vector<double> alpha;     // per output: the relative regularisation used
  std::vector<double> val_nrmse; // per output: NRMSE on the validation split (fit_validated)
  Eigen::MatrixXd predict(const Eigen::MatrixXd& x) const;
};

// The fit for one relative regularisation alpha (>= 0), every output column of y.
RidgeModel ridge_fit(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double alpha);

// For each output column, the alpha of `grid` with the least validation NRMSE (ties: the
// larger alpha), then refitted with that alpha on training and validation rows together.
RidgeModel ridge_fit_validated(const Eigen::MatrixXd& x_train, const Eigen::MatrixXd& y_train,
                               const Eigen::MatrixXd& x_val, const Eigen::MatrixXd& y_val,
                               const std::vector<double>& grid);

// n values log-spaced from lo to hi (both included).
std::vector<double> log_grid(double lo, double hi, int n);

// sqrt(mean((pred - target)^2) / var(target)), var with 1/N.
double nrmse(const Eigen::VectorXd& pred, const Eigen::VectorXd& target);
// The squared Pearson correlation of a and b (Jaeger's r^2 of memory capacity); 0 when
// either is constant.
double squared_correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

} // namespace glia
