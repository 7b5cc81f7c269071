// Softmax regression readout (MODELS.md "Liquid state machine": one softmax layer,
// cross-entropy + L2): p = softmax(W^T z + b) on features z standardised with the
// training split's mean and standard deviation; loss = mean cross-entropy +
// (l2 / 2) |W|^2 (bias unpenalised), minimised by Adam over mini-batches in a seeded
// order (a Philox permutation per epoch), so a fit is a pure function of its inputs.
// After every epoch the validation accuracy is measured; the model returned is the one
// of the best validation epoch (the first of equals).
#pragma once

#include "reservoir/eigen.hpp"

#include <cstdint>
#include <vector>

namespace glia {

struct SoftmaxOptions {
  double l2 = 1e-4;
  std::uint32_t epochs = 30;
  std::uint32_t batch = 256;
  double learning_rate = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  std::uint32_t seed = 1;
};

struct SoftmaxModel {
  Eigen::RowVectorXd mean, scale; // standardisation: (x - mean) / scale, per feature
  Eigen::MatrixXd w;              // features x classes
  Eigen::RowVectorXd b;           // classes
  // Class probabilities (rows) of raw, unstandardised features.
  Eigen::MatrixXd probabilities(const Eigen::MatrixXd& x) const;
  std::vector<int> predict(const Eigen::MatrixXd& x) const;
  double accuracy(const Eigen::MatrixXd& x, const std::vector<int>& labels) const;
};

struct SoftmaxFit {
  SoftmaxModel model;                                     // at the best validation epoch
  std::uint32_t best_epoch = 0;                           // 1-based
  std::vector<double> train_accuracy, val_accuracy, loss; // per epoch (loss: training, mean)
};

SoftmaxFit softmax_fit(const Eigen::MatrixXd& x_train, const std::vector<int>& y_train,
                       const Eigen::MatrixXd& x_val, const std::vector<int>& y_val, int classes,
                       const SoftmaxOptions& options);

// Loss and gradient at (w, b) of standardised features z (for the fit and for tests).
double softmax_loss(const Eigen::MatrixXd& z, const std::vector<int>& y, const Eigen::MatrixXd& w,
                    const Eigen::RowVectorXd& b, double l2, Eigen::MatrixXd* grad_w = nullptr,
                    Eigen::RowVectorXd* grad_b = nullptr);

} // namespace glia
