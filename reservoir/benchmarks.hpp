// Scoring a reservoir's features on the generated tasks (tasks.hpp) with a ridge readout
// (ridge.hpp). Samples before `washout` are dropped; of the rest, the first 60% train,
// the next 20% choose the regularisation (validation) and the last 20% are scored (test),
// in time order. The features are a samples x p matrix: row t is what the readout sees
// after input sample t (for a liquid: the filtered spike trains at the end of sample t's
// window). The linear-regression-on-input baselines are the same readout on a tapped
// delay line of the input: u(t) alone (taps = 1), or u(t), ..., u(t - 19) (taps = 20,
// NRMSE about 0.39 on NARMA-10: the best a linear readout of the raw input reaches).
#pragma once

#include "reservoir/ridge.hpp"
#include "reservoir/tasks.hpp"

#include "reservoir/eigen.hpp"

#include <vector>

namespace glia {

// The relative regularisations tried (ridge.hpp): 1e-8 .. 10, 19 values.
std::vector<double> default_alpha_grid();

struct TestScore {
  RidgeModel model;
  Eigen::MatrixXd pred, target; // test rows
};

// Fits y from x on the train/validation splits of rows [washout, n) and predicts the test rows.
TestScore fit_and_test(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, std::size_t washout);

// NARMA-10: row t of x predicts y(t + 1); the test NRMSE.
double narma10_nrmse(const Eigen::MatrixXd& x, const Series& s, std::size_t washout);

// Memory capacity: row t of x reconstructs u(t - k) for k = 0 .. max_delay; per_delay[k]
// gets the test r^2 of delay k, and the sum is returned (delay 0 included).
double memory_capacity(const Eigen::MatrixXd& x, const std::vector<double>& u, std::size_t washout,
                       int max_delay, std::vector<double>* per_delay = nullptr);

// The samples x taps matrix (u(t), u(t - 1), ..., u(t - taps + 1)), 0 before the start.
Eigen::MatrixXd input_taps(const std::vector<double>& u, int taps = 1);

} // namespace glia
