// The shipped experiments are the networks MODELS.md defines, and they fire as the
// reference simulator does: mean rates within 5 % of Brian2's, irregular firing; in
// COBA and CUBA, whose E and I neurons are alike, E and I fire at the same rate.
// Brian2 figures: MODELS.md for Brunel (37.3 Hz; bench/brian2/brunel.py seed 1 here gave
// E 37.51 Hz, I 37.60 Hz, mean CV of ISIs 0.417); for COBA and CUBA the mean over seeds
// 1-5 of bench/brian2/{coba,cuba}.py (1 s, runtime mode, Brian2's default step order and
// refractory counting, i.e. the scripts before they adopted glia's step rules), measured on
// this machine:
// COBA E 22.00 Hz (seeds: 21.13 20.56 26.10 19.23 22.99), CUBA E 5.75 Hz
// (5.61 5.50 6.25 5.48 5.91).
#include "run_glia.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>

using namespace glia::test;

namespace {

struct Rates {
  double e = 0, i = 0, cv_e = 0;
};

Rates run(const std::string& experiment, const ScratchDir& dir, const std::string& args = "") {
  const std::string out = dir / "out.h5";
  const RunResult r =
      run_glia("run " + source_path(experiment) + " -o " + out + " -q " + args, dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return {read_attribute(out, "/metrics", "rate_E_hz"),
          read_attribute(out, "/metrics", "rate_I_hz"),
          read_attribute(out, "/metrics", "cv_isi_E")};
}

Rates mean_over_seeds(const std::string& experiment, const ScratchDir& dir) {
  Rates m;
  for (int seed = 1; seed <= 5; ++seed) {
    const Rates r = run(experiment, dir, "--set run.seed=" + std::to_string(seed));
    std::printf("%s seed %d: E %.3f Hz, I %.3f Hz, CV %.3f\n", experiment.c_str(), seed, r.e, r.i,
                r.cv_e);
    m.e += r.e / 5;
    m.i += r.i / 5;
    m.cv_e += r.cv_e / 5;
  }
  return m;
}

} // namespace

TEST_CASE("brunel.toml fires at Brian2's rate, asynchronously and irregularly", "[networks]") {
  ScratchDir dir("brunel");
  const Rates r = run("experiments/brunel.toml", dir);
  std::printf("brunel: E %.3f Hz, I %.3f Hz, CV(ISI) E %.3f\n", r.e, r.i, r.cv_e);
  CHECK(r.e == Approx(37.3).epsilon(0.05));
  CHECK(r.i == Approx(37.4).epsilon(0.05));
  // Strongly driven (eta = 2, mean input above threshold): irregular but more regular
  // than Poisson, in Brian2 (0.417) as here.
  CHECK(r.cv_e == Approx(0.417).epsilon(0.1));
}

TEST_CASE("coba.toml fires at Brian2's rate", "[networks]") {
  ScratchDir dir("coba");
  const Rates m = mean_over_seeds("experiments/coba.toml", dir);
  CHECK(m.e == Approx(22.00).epsilon(0.05));
  CHECK(m.cv_e > 0.8); // irregular, bursty firing (CV of ISIs about 1.5 here)
}

TEST_CASE("cuba.toml fires at Brian2's rate", "[networks]") {
  ScratchDir dir("cuba");
  const Rates m = mean_over_seeds("experiments/cuba.toml", dir);
  CHECK(m.e == Approx(5.75).epsilon(0.05));
  CHECK(m.cv_e > 0.3);
}

TEST_CASE("coba.toml and cuba.toml: E and I neurons fire at the same rate", "[networks]") {
  // E and I neurons have the same parameters and receive from both populations with the
  // same probability, so their rates agree in expectation; a bias of connectivity or
  // delivery towards one population's targets or sources (ports, projection order,
  // blocks) would separate them. Per seed the two differ by about 5 % (SD; both here and
  // in Brian2, set by the seed's connectivity and the same for any run length), so the
  // seed mean of rate_E / rate_I - 1 over 16 short runs must lie within 3 standard
  // errors (about 4 % for COBA, 2.6 % for CUBA) of zero.
  ScratchDir dir("e_vs_i");
  for (const char* experiment : {"experiments/coba.toml", "experiments/cuba.toml"}) {
    constexpr int kSeeds = 16;
    double sum = 0, sumsq = 0;
    for (int seed = 1; seed <= kSeeds; ++seed) {
      const Rates r =
          run(experiment, dir, "--set run.duration=300 --set run.seed=" + std::to_string(seed));
      const double d = r.e / r.i - 1.0;
      sum += d;
      sumsq += d * d;
    }
    const double mean = sum / kSeeds;
    const double se = std::sqrt((sumsq - kSeeds * mean * mean) / (kSeeds - 1) / kSeeds);
    std::printf("%s: rate_E / rate_I - 1 = %+.2f %% (SE %.2f %%, %d seeds x 300 ms)\n", experiment,
                100 * mean, 100 * se, kSeeds);
    INFO(experiment << ": mean " << mean << ", SE " << se);
    CHECK(std::abs(mean) < 3 * se);
    CHECK(se < 0.02); // the test resolves a bias of a few percent
  }
}
