// Reservoir readout tools: LZ76 phrase counts against hand parsings and the
// normalisation (reservoir/lempel_ziv.hpp), ridge regression against a hand-solved case
// and a known noisy linear model (reservoir/ridge.hpp), and the generated tasks
// (reservoir/tasks.hpp) against their defining recurrences.
#include "reservoir/benchmarks.hpp"
#include "reservoir/lempel_ziv.hpp"
#include "reservoir/ridge.hpp"
#include "reservoir/tasks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

using namespace glia;

TEST_CASE("LZ76 phrase counts match hand parsings", "[lzc]") {
  // Kaspar & Schuster's example: 0 | 001 | 10 | 100 | 1000 | 101 (the last piece is a
  // copy of positions 4-6 but, ending the string, counts as a phrase).
  CHECK(lz76_phrases(std::string("0001101001000101")) == 6);
  // 0 | 1 | 10 | 1: "10" is not in "011", the final "1" is a copy.
  CHECK(lz76_phrases(std::string("01101")) == 4);
  // 0 | 1 | 00 ("010" holds no "00") | 11 ("01001" holds no "11") | 0 (a copy, last).
  CHECK(lz76_phrases(std::string("0100110")) == 5);
  // All zeros: 0 | 000...0 (the rest copies itself, overlapping): 2 phrases.
  CHECK(lz76_phrases(std::string(1000, '0')) == 2);
  CHECK(lz76_phrases(std::string("00")) == 2);
  // Alternating: 0 | 1 | 0101...: 3 phrases from length 3 on.
  std::string alt;
  for (int i = 0; i < 1000; ++i) alt += i % 2 ? '1' : '0';
  CHECK(lz76_phrases(alt) == 3);
  CHECK(lz76_phrases(std::string("010")) == 3);
  CHECK(lz76_phrases(std::string("01")) == 2);
  CHECK(lz76_phrases(std::string("1")) == 1);
  CHECK(lz76_phrases(std::string()) == 0);
  // The uint8 form counts the same.
  CHECK(lz76_phrases(std::vector<std::uint8_t>{0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1}) ==
        6);
}

TEST_CASE("normalised LZ76 complexity", "[lzc]") {
  CHECK(lz76_normalised(6, 16) == Approx(6.0 * 4.0 / 16.0).epsilon(1e-15)); // 1.5
  CHECK(lz76_normalised(1, 1) == 0.0);
  CHECK(lz76_normalised(0, 0) == 0.0);
  // A fair-coin string tends to C = 1 (Lempel & Ziv 1976); periodic ones to 0.
  std::mt19937_64 rng(3);
  std::vector<std::uint8_t> coin(100000);
  for (auto& b : coin) b = static_cast<std::uint8_t>(rng() & 1u);
  const double c_coin = lz76_normalised(lz76_phrases(coin), coin.size());
  INFO("fair coin C = " << c_coin);
  CHECK(c_coin > 0.9);
  CHECK(c_coin < 1.15);
  std::vector<std::uint8_t> periodic(100000);
  for (std::size_t i = 0; i < periodic.size(); ++i) periodic[i] = (i % 7) < 3;
  CHECK(lz76_normalised(lz76_phrases(periodic), periodic.size()) < 0.01);
  // A biased coin (p = 0.1) has entropy rate H(0.1) = 0.469 bits, which C estimates.
  std::bernoulli_distribution b(0.1);
  std::vector<std::uint8_t> biased(100000);
  for (auto& v : biased) v = b(rng);
  const double c_biased = lz76_normalised(lz76_phrases(biased), biased.size());
  INFO("biased coin C = " << c_biased);
  CHECK(std::abs(c_biased - 0.469) < 0.06);
}

TEST_CASE("per-neuron LZC of binned spike trains", "[lzc]") {
  // 3 neurons, 16 bins of 5 steps from step 10: neuron 0 fires in every bin (twice in
  // some), neuron 1 never, neuron 2 in the bins of the Kaspar-Schuster string.
  const std::string pattern = "0001101001000101";
  std::vector<std::uint64_t> steps;
  std::vector<std::uint32_t> ids;
  for (std::uint64_t b = 0; b < 16; ++b) {
    steps.push_back(10 + 5 * b);
    ids.push_back(0);
    if (b % 3 == 0) {
      steps.push_back(10 + 5 * b + 4);
      ids.push_back(0);
    }
    if (pattern[b] == '1') {
      steps.push_back(10 + 5 * b + 2);
      ids.push_back(2);
    }
  }
  steps.push_back(5); // before `from`: ignored
  ids.push_back(1);
  steps.push_back(92); // in the partial 17th bin: dropped
  ids.push_back(1);
  const auto trains = binned_spike_trains(steps, ids, 3, 10, 93, 5);
  REQUIRE(trains[2].size() == 16);
  std::string got;
  for (auto v : trains[2]) got += v ? '1' : '0';
  CHECK(got == pattern);
  const auto c = lz_complexity_per_neuron(steps, ids, 3, 10, 93, 5);
  CHECK(c[0] == Approx(2.0 * 4.0 / 16.0)); // all ones: 2 phrases
  CHECK(c[1] == Approx(2.0 * 4.0 / 16.0)); // all zeros: 2 phrases
  CHECK(c[2] == Approx(1.5));
}

TEST_CASE("ridge regression solves a hand-solvable case", "[ridge]") {
  // x = 0..3, y = 2x + 1. Centred: x' = (-1.5, -0.5, 0.5, 1.5), Sxx = 5, Sxy = 10, and
  // lambda = alpha Sxx / 1; w = 10 / (5 + 5 alpha), b = mean(y) - mean(x) w = 4 - 1.5 w.
  Eigen::MatrixXd x(4, 1), y(4, 1);
  x << 0, 1, 2, 3;
  y << 1, 3, 5, 7;
  const RidgeModel exact = ridge_fit(x, y, 0.0);
  CHECK(exact.w(0, 0) == Approx(2.0).epsilon(1e-12));
  CHECK(exact.b[0] == Approx(1.0).epsilon(1e-12));
  const RidgeModel half = ridge_fit(x, y, 1.0);
  CHECK(half.w(0, 0) == Approx(1.0).epsilon(1e-12));
  CHECK(half.b[0] == Approx(2.5).epsilon(1e-12)); // the bias is not shrunk
  // A huge penalty leaves only the bias: the mean of y.
  const RidgeModel flat = ridge_fit(x, y, 1e12);
  CHECK(std::abs(flat.w(0, 0)) < 1e-10);
  CHECK(flat.b[0] == Approx(4.0).epsilon(1e-9));
  CHECK(nrmse(exact.predict(x).col(0), y.col(0)) < 1e-12);
  CHECK(squared_correlation(x.col(0), y.col(0)) == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("validated ridge recovers a noisy linear model", "[ridge]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> n01(0.0, 1.0);
  const int n = 3000, p = 5;
  Eigen::VectorXd w_true(p);
  w_true << 1.0, -2.0, 0.5, 0.0, 3.0;
  Eigen::MatrixXd x(n, p), y(n, 1);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < p; ++j) x(i, j) = n01(rng) * (j + 1); // features of unequal scale
    y(i, 0) = x.row(i).dot(w_true) + 0.7 + 0.5 * n01(rng);
  }
  const TestScore s = fit_and_test(x, y, 0);
  for (int j = 0; j < p; ++j) CHECK(std::abs(s.model.w(j, 0) - w_true[j]) < 0.03);
  CHECK(std::abs(s.model.b[0] - 0.7) < 0.05);
  // The best achievable NRMSE is the noise's share of y's spread.
  const double sd_y =
      std::sqrt(w_true.cwiseProduct(Eigen::VectorXd::LinSpaced(p, 1, p)).squaredNorm() + 0.25);
  const double floor = 0.5 / sd_y;
  const double e = nrmse(s.pred.col(0), s.target.col(0));
  INFO("nrmse " << e << " floor " << floor);
  CHECK(e > floor * 0.9);
  CHECK(e < floor * 1.1);
  // Pure noise target from 200 features on 300 rows: validation picks strong shrinkage.
  Eigen::MatrixXd xn(500, 200), yn(500, 1);
  for (int i = 0; i < 500; ++i) {
    for (int j = 0; j < 200; ++j) xn(i, j) = n01(rng);
    yn(i, 0) = n01(rng);
  }
  const TestScore noise = fit_and_test(xn, yn, 0);
  CHECK(noise.model.alpha[0] >= 1.0);
  CHECK(nrmse(noise.pred.col(0), noise.target.col(0)) < 1.1);
}

TEST_CASE("NARMA-10 follows its recurrence and is deterministic", "[tasks]") {
  const Series a = narma10(3000, 5), b = narma10(3000, 5), c = narma10(3000, 6);
  CHECK(a.u == b.u);
  CHECK(a.y == b.y);
  CHECK(a.u != c.u);
  for (double v : a.u) REQUIRE((v >= 0.0 && v <= 0.5));
  for (std::size_t t = 9; t + 1 < a.y.size(); ++t) {
    double sum = 0.0;
    for (std::size_t i = 0; i < 10; ++i) sum += a.y[t - i];
    REQUIRE(a.y[t + 1] == 0.3 * a.y[t] + 0.05 * a.y[t] * sum + 1.5 * a.u[t - 9] * a.u[t] + 0.1);
  }
  const double y_max = *std::max_element(a.y.begin() + 100, a.y.end());
  const double y_min = *std::min_element(a.y.begin() + 100, a.y.end());
  INFO("y in [" << y_min << ", " << y_max << "]");
  CHECK(y_min > 0.1);
  CHECK(y_max < 1.5);
}

TEST_CASE("memory-capacity input and its delayed targets", "[tasks]") {
  const auto u = uniform_series(500, -0.8, 0.8, 9);
  CHECK(u == uniform_series(500, -0.8, 0.8, 9));
  for (double v : u) REQUIRE((v > -0.8 && v < 0.8));
  const Eigen::MatrixXd y = delayed_targets(u, 20, 20);
  REQUIRE(y.rows() == 480);
  CHECK(y(0, 0) == u[20]);
  CHECK(y(0, 20) == u[0]);
  CHECK(y(479, 3) == u[496]);
  // The input alone carries delay 0 only: its memory capacity is 1 plus test-set noise.
  std::vector<double> r2;
  const auto v = uniform_series(4000, -0.8, 0.8, 9);
  const double mc = memory_capacity(input_taps(v), v, 100, 20, &r2);
  CHECK(r2[0] == Approx(1.0).epsilon(1e-12));
  CHECK(mc < 1.05);
}

TEST_CASE("Mackey-Glass stays on its attractor and is predictable", "[tasks]") {
  const auto x = mackey_glass(2000, 1);
  CHECK(x == mackey_glass(2000, 1));
  CHECK(x != mackey_glass(2000, 2));
  const double lo = *std::min_element(x.begin(), x.end());
  const double hi = *std::max_element(x.begin(), x.end());
  INFO("x in [" << lo << ", " << hi << "]");
  // The tau = 17 attractor spans about 0.4 .. 1.35 (measured 0.418 .. 1.318 here).
  CHECK(lo > 0.15);
  CHECK(lo < 0.5);
  CHECK(hi > 1.1);
  CHECK(hi < 1.45);
  // Smooth: a linear readout of the last 6 samples predicts the next one closely, while
  // chaos keeps the series from repeating (the value 50 steps ahead is far less linear).
  auto nrmse_ahead = [&](int ahead) {
    const int lags = 6, n = static_cast<int>(x.size()) - lags - ahead;
    Eigen::MatrixXd f(n, lags), y(n, 1);
    for (int t = 0; t < n; ++t) {
      for (int k = 0; k < lags; ++k) f(t, k) = x[static_cast<std::size_t>(t + k)];
      y(t, 0) = x[static_cast<std::size_t>(t + lags - 1 + ahead)];
    }
    const TestScore s = fit_and_test(f, y, 0);
    return nrmse(s.pred.col(0), s.target.col(0));
  };
  const double one = nrmse_ahead(1), fifty = nrmse_ahead(50);
  INFO("NRMSE 1 ahead " << one << ", 50 ahead " << fifty);
  CHECK(one < 0.01);
  CHECK(fifty > 0.3);
}
