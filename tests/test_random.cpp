// Tests of the vectorised hot paths against plain per-element definitions.
// Stream::draw must be Random123's Philox4x32-10 (checked against the published
// known-answer vectors); Stream::draw_run, which computes many counters at once with
// vector instructions, must give bitwise the words of draw for every counter, including
// partial batches and counters that wrap at 2^32; PoissonInput::deliver, which inverts
// those batches, must give exactly the counts of a plain per-neuron chop-down inversion
// for any block [lo, hi) of neurons. The vectorised neuron loop (PopulationOf, with
// branch-free LIF steps) must give bitwise the state and spikes of the LIF rules written
// as plain branches, for either parameter layout and any split into blocks.
#include "neurons/lif_cond_exp.hpp"
#include "neurons/lif_delta.hpp"
#include "neurons/lif_exp.hpp"
#include "neurons/registry.hpp"
#include "sim/inputs.hpp"
#include "sim/normal_draw.hpp"
#include "sim/population.hpp"
#include "sim/random.hpp"

#include <catch2/catch.hpp>

#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

using Words = std::array<std::uint32_t, 4>;

Words words(const r123::Philox4x32::ctr_type& r) {
  return {r[0], r[1], r[2], r[3]};
}

} // namespace

TEST_CASE("Stream::draw is Philox4x32-10 (Random123 known answers)", "[random]") {
  // tests/kat_vectors of Random123 (github.com/DEShawResearch/random123), the three
  // "philox4x32 10" lines: counter (4 words), key (2 words), expected output.
  struct Kat {
    Words ctr;
    std::array<std::uint32_t, 2> key;
    Words out;
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const glia::Stream s{k.key[0], k.key[1]};
    CHECK(words(s.draw(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3])) == k.out);
    // The batched form on a run that starts at this counter.
    std::uint32_t out[4 * 17];
    s.draw_run(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3], 17, out);
    CHECK(Words{out[0], out[1], out[2], out[3]} == k.out);
  }
}

TEST_CASE("Stream::draw_run equals Stream::draw counter by counter", "[random]") {
  // Keys and counters from the generator itself, so that every bit position varies.
  const glia::Stream source{2024, 7};
  std::vector<std::uint32_t> out(4 * 200 + 1);
  int runs = 0;
  for (std::uint32_t t = 0; t < 300; ++t) {
    const auto r = source.draw(t, 0, 0, 0), q = source.draw(t, 1, 0, 0);
    const glia::Stream s{r[0], r[1]};
    // Lengths cover empty runs, partial vector blocks (1-3, 5-15, 17-19 counters) and
    // long runs; starts near 2^32 make the counter wrap inside a run.
    const std::uint32_t n = t < 40 ? t : q[3] % 200;
    std::uint32_t c = q[2];
    if (t % 3 == 0) c = 0xffffffffu - (q[2] % 24);
    out.assign(out.size(), 0xdeadbeefu);
    s.draw_run(r[2], r[3], c, q[1], n, out.data());
    for (std::uint32_t g = 0; g < n; ++g) {
      const Words want = words(s.draw(r[2], r[3], c + g, q[1]));
      const Words got{out[4 * g], out[4 * g + 1], out[4 * g + 2], out[4 * g + 3]};
      INFO("run " << t << ", counter " << g << " of " << n);
      REQUIRE(got == want);
      // And draw is Random123's generator called directly.
      r123::Philox4x32 rng;
      REQUIRE(words(rng({{r[2], r[3], c + g, q[1]}}, {{r[0], r[1]}})) == want);
    }
    REQUIRE(out[4 * n] == 0xdeadbeefu); // nothing written past the run
    ++runs;
  }
  CHECK(runs == 300);
}

namespace {

// |got - ref| in units of the last place of ref rounded to double.
double ulps(double got, long double ref) {
  const double r = std::fabs(static_cast<double>(ref));
  const double ulp = std::nextafter(r, std::numeric_limits<double>::infinity()) - r;
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) / ulp);
}

} // namespace

// The noise's own logarithm and cosine (sim/normal_draw.hpp) against long double, on the
// values u01 gives and on the edges of their reductions; measured 0.75 and 1.49 ulp.
TEST_CASE("normal draws: log_unit and cos_two_pi are within 1 and 2 ulp", "[random]") {
  const glia::Stream s{11, 5};
  double worst_log = 0.0, worst_cos = 0.0;
  for (std::uint32_t c = 0; c < 500000; ++c) {
    const auto r = s.draw(c, 0, 0, 0);
    const double u = glia::u01(r[0], r[1]), t = glia::u01(r[2]);
    worst_log = std::max(worst_log, ulps(glia::log_unit(u), std::log(static_cast<long double>(u))));
    // cos(2 pi t) in long double by the same exact reduction to [-pi/4, pi/4]: cosl of
    // 2 pi t itself loses the small values near t = 1/4 and 3/4.
    const double y = std::min(t, 1.0 - t);
    const int q = (y > 0.125) + (y > 0.375);
    const long double x =
        6.283185307179586476925286766559L * (static_cast<long double>(y) - 0.25L * q);
    const long double v = q == 1 ? std::sin(x) : std::cos(x);
    worst_cos = std::max(worst_cos, ulps(glia::cos_two_pi(t), q == 0 ? v : -v));
  }
  for (double u : {0x1p-54, 0x1p-32, 0.5, 0.7071067811865475, 0.7071067811865476,
                   0.7071067811865477, 1.0 - 0x1p-53, 1.0 - 0x1p-20})
    worst_log = std::max(worst_log, ulps(glia::log_unit(u), std::log(static_cast<long double>(u))));
  CHECK(glia::log_unit(1.0) == 0.0);
  CHECK(worst_log <= 1.0);
  CHECK(worst_cos <= 2.0);
  CHECK(glia::cos_two_pi(0.0) == 1.0);
  CHECK(glia::cos_two_pi(0.5) == -1.0);
  CHECK(glia::cos_two_pi(1.0) == 1.0);
  CHECK(std::fabs(glia::cos_two_pi(0.25)) < 1e-300);
}

// normal01_noise is standard normal: mean, variance and the largest distance of its
// empirical CDF from Phi (Kolmogorov-Smirnov, critical value at alpha = 0.001).
TEST_CASE("normal draws: normal01_noise is standard normal", "[random]") {
  const glia::Stream s{12, 6};
  const std::size_t n = 400000;
  std::vector<double> x(n);
  double sum = 0.0, sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = s.draw(static_cast<std::uint32_t>(i), 1, 2, 3);
    x[i] = glia::normal01_noise(r[0], r[1], r[2]);
    sum += x[i];
    sq += x[i] * x[i];
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::fabs(mean) < 5.0 / std::sqrt(static_cast<double>(n)));
  CHECK(std::fabs(var - 1.0) < 5.0 * std::sqrt(2.0 / n));
  std::sort(x.begin(), x.end());
  double d = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double phi = 0.5 * std::erfc(-x[i] / std::sqrt(2.0));
    d = std::max({d, std::fabs(phi - static_cast<double>(i) / n),
                  std::fabs(phi - static_cast<double>(i + 1) / n)});
  }
  CHECK(d < 1.95 / std::sqrt(static_cast<double>(n)));
}

TEST_CASE("PoissonInput::deliver equals per-neuron inversion on any block of neurons",
          "[random][poisson]") {
  const double dt = 0.1;
  const std::uint32_t n = 1000;
  const glia::ModelInfo& m = *glia::Registry::global().find("lif_delta");
  glia::PopulationSetup setup;
  setup.name = "target";
  setup.size = n;
  auto pop = m.create(m, setup);
  pop->prepare(dt, 1, 1);
  // Blocks with edges on and off the 4-neuron Philox blocks and the 64-neuron batches.
  const std::pair<std::uint32_t, std::uint32_t> blocks[] = {
      {0, n}, {0, 1}, {1, 2}, {3, 5}, {5, 67}, {63, 65}, {64, 128}, {129, 999}, {997, 1000}};
  for (const double rate_hz : {20000.0, 3000.0, 95000.0}) {
    const double weight = 0.25;
    const glia::Stream stream{77, glia::stream_id(glia::StreamKind::input, 3)};
    const glia::PoissonInput in(rate_hz, weight, 0, 0, 1000, dt, stream);
    const double lambda = rate_hz * dt * 1e-3;
    for (std::uint64_t step : {0ull, 1ull, 999ull}) {
      for (const auto& [lo, hi] : blocks) {
        double* buf = pop->ring().slot(0, 0);
        std::fill(buf, buf + n, 0.0);
        in.deliver(step, *pop, lo, hi);
        std::uint32_t events = 0;
        for (std::uint32_t i = 0; i < n; ++i) {
          double want = 0.0;
          if (i >= lo && i < hi) {
            const auto r = stream.draw(static_cast<std::uint32_t>(step), 0, i >> 2, 0x504f4953u);
            const std::uint32_t k =
                glia::poisson_inversion(glia::u01(r[i & 3u]), lambda, std::exp(-lambda));
            want = k * weight;
            events += k;
          }
          INFO("rate " << rate_hz << ", step " << step << ", block [" << lo << ", " << hi
                       << "), neuron " << i);
          REQUIRE(buf[i] == want);
        }
        // Not trivially zero: a block of 60 neurons at lambda 0.3 has events.
        if (hi - lo > 60) CHECK(events > 0);
      }
    }
  }
}

namespace {

// One population of a model with the given parameters; `per_neuron` names a parameter
// that is given as one (identical) value per neuron, which selects the per-neuron layout.
std::unique_ptr<glia::Population> lif_population(const char* model, int integrator, std::uint32_t n,
                                                 const char* per_neuron) {
  const glia::ModelInfo& m = *glia::Registry::global().find(model);
  glia::PopulationSetup setup;
  setup.name = "p";
  setup.size = n;
  setup.integrator = integrator;
  auto pop = m.create(m, setup);
  auto set = [&](const char* name, double v) {
    const int k = glia::find_spec(m.params, name);
    REQUIRE(k >= 0);
    if (std::string(name) == per_neuron)
      pop->set_param(k, std::vector<double>(n, v));
    else
      pop->set_param(k, {v});
  };
  set("E_L", -65.0);
  set("V_th", -50.0);
  set("V_reset", -60.0);
  set("t_ref", 0.3); // 3 steps
  set("I_e", 1.0);
  pop->prepare(0.1, 9, 1);
  return pop;
}

// Random state around threshold, refractory counts (some fractional, as an initial
// state may be), inputs and external current, all from one stream.
void scramble(glia::Population& pop, const glia::Stream& s, std::uint64_t step) {
  const std::uint32_t n = pop.size();
  for (int k = 0; k < pop.n_state(); ++k) {
    const std::string name(pop.model().state[k].name);
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto r = s.draw(static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(k), i, 1);
      double& x = pop.state(k)[i];
      if (name == "V_m")
        x = -66.0 + 17.0 * glia::u01(r[0]);
      else if (name == "refractory")
        x = (r[1] & 3u) == 0 ? std::floor(4.0 * glia::u01(r[2])) + ((r[1] & 4u) ? 0.5 : 0.0) : 0.0;
      else
        x = 40.0 * glia::u01(r[3]) - 10.0;
    }
  }
}

// Inputs on every port (mV, pA or nS, of the size that moves V_m by about a mV) and
// an external current that drives most neurons to fire every few ms (rheobase 375 pA
// for the current-based models, 250 pA for lif_cond_exp).
void add_inputs(glia::Population& pop, const glia::Stream& s, std::uint64_t step) {
  const std::uint32_t n = pop.size();
  const std::string_view model = pop.model().name;
  const double scale = model == "lif_exp" ? 50.0 : model == "lif_cond_exp" ? 0.2 : 1.0;
  for (int port = 0; port < pop.n_ports(); ++port) {
    double* buf = pop.ring().slot(port, pop.ring().slot_index(step));
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto r = s.draw(static_cast<std::uint32_t>(step), 100 + port, i, 2);
      buf[i] = (r[0] & 1u) ? scale * (3.0 * glia::u01(r[1]) - 0.5) : 0.0;
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto r = s.draw(static_cast<std::uint32_t>(step), 200, i, 3);
    pop.i_ext()[i] = (r[0] & 7u) == 0 ? 0.0 : 3000.0 * glia::u01(r[1]);
  }
}

// The first i where a and b differ in any bit, or -1.
long first_difference(const double* a, const double* b, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return i;
  return -1;
}

// The LIF rules as plain branches (NEST's iaf_psc_delta and iaf_psc_exp), one neuron.
bool reference_delta(double& v, double& r, const double* d, double i_ext, double in) {
  const double el = -65.0, v_th = -50.0, v_reset = -60.0, i_e = 1.0;
  if (r > 0.0) {
    r -= 1.0;
    return false;
  }
  v = el + (v - el) * d[glia::LifDelta::P22] + (i_e + i_ext) * d[glia::LifDelta::P20] + in;
  if (v < v_th) return false;
  v = v_reset;
  r = d[glia::LifDelta::ref_steps];
  return true;
}

bool reference_exp(double& v, double& ie, double& ii, double& r, const double* d, double i_ext,
                   double in_ex, double in_in) {
  using L = glia::LifExp;
  const double el = -65.0, v_th = -50.0, v_reset = -60.0, i_e = 1.0;
  if (r > 0.0) {
    r -= 1.0;
  } else {
    v = el + (v - el) * d[L::P22] + ie * d[L::P21ex] + ii * d[L::P21in] + (i_e + i_ext) * d[L::P20];
  }
  ie = ie * d[L::P11ex] + in_ex;
  ii = ii * d[L::P11in] + in_in;
  if (v < v_th) return false;
  v = v_reset;
  r = d[L::ref_steps];
  return true;
}

} // namespace

TEST_CASE("neuron loop: layouts and blocks give the state of the plain LIF rules",
          "[random][population]") {
  // 1000 neurons: chunks of kNeuronChunk with a partial last one; blocks with edges off
  // the vector width and the chunks.
  const std::uint32_t n = 1000;
  const std::vector<std::uint32_t> cuts = {0, 1, 7, 300, 517, 999, 1000};
  struct Case {
    const char* model;
    int integrator;
  };
  for (const Case c : {Case{"lif_delta", 0}, Case{"lif_exp", 0}, Case{"lif_cond_exp", 0},
                       Case{"lif_cond_exp", 1}, Case{"lif_cond_exp", 2}}) {
    INFO(c.model << ", integrator " << c.integrator);
    auto whole = lif_population(c.model, c.integrator, n, "");
    auto blocks = lif_population(c.model, c.integrator, n, "");
    auto per_neuron = lif_population(c.model, c.integrator, n, "V_th");
    const glia::Stream s{5, 6};
    scramble(*whole, s, 0);
    scramble(*blocks, s, 0);
    scramble(*per_neuron, s, 0);
    // Derived coefficients of the plain rules: the model's own, for these parameters.
    const glia::ModelInfo& m = whole->model();
    std::vector<double> p(m.params.size()), d(8);
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = whole->param(static_cast<int>(k))[0];
    std::vector<double> v(whole->state(0), whole->state(0) + n);
    std::vector<std::vector<double>> ref_state(whole->n_state());
    for (int k = 0; k < whole->n_state(); ++k)
      ref_state[k].assign(whole->state(k), whole->state(k) + n);
    if (std::string(c.model) == "lif_delta") glia::LifDelta::derive(p.data(), 0.1, 0, d.data());
    if (std::string(c.model) == "lif_exp") glia::LifExp::derive(p.data(), 0.1, 0, d.data());
    std::uint32_t spikes = 0, refractory_steps = 0;
    for (std::uint64_t step = 0; step < 200; ++step) {
      // The plain rules read the inputs before the populations clear them.
      add_inputs(*whole, s, step);
      std::vector<std::uint32_t> want;
      if (std::string(c.model) != "lif_cond_exp") {
        const double* in0 = whole->ring().slot(0, 0);
        const double* in1 = whole->n_ports() > 1 ? whole->ring().slot(1, 0) : nullptr;
        for (std::uint32_t i = 0; i < n; ++i) {
          refractory_steps += ref_state.back()[i] > 0.0;
          const bool fired =
              std::string(c.model) == "lif_delta"
                  ? reference_delta(ref_state[0][i], ref_state[1][i], d.data(), whole->i_ext()[i],
                                    in0[i])
                  : reference_exp(ref_state[0][i], ref_state[1][i], ref_state[2][i],
                                  ref_state[3][i], d.data(), whole->i_ext()[i], in0[i], in1[i]);
          if (fired) want.push_back(i);
        }
      }
      add_inputs(*blocks, s, step);
      add_inputs(*per_neuron, s, step);
      std::vector<std::uint32_t> a, b, e;
      whole->integrate(step, 0, n, a);
      for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
        blocks->integrate(step, cuts[k], cuts[k + 1], b);
      per_neuron->integrate(step, 0, n, e);
      REQUIRE(a == b);
      REQUIRE(a == e);
      if (std::string(c.model) != "lif_cond_exp") REQUIRE(a == want);
      spikes += static_cast<std::uint32_t>(a.size());
      for (int k = 0; k < whole->n_state(); ++k) {
        INFO("step " << step << ", state " << k);
        const double* x = whole->state(k);
        CHECK(first_difference(x, blocks->state(k), n) == -1);
        CHECK(first_difference(x, per_neuron->state(k), n) == -1);
        if (std::string(c.model) != "lif_cond_exp")
          CHECK(first_difference(x, ref_state[k].data(), n) == -1);
      }
      // The input slots are cleared for the next use.
      const std::vector<double> zeros(n, 0.0);
      for (int port = 0; port < whole->n_ports(); ++port)
        CHECK(first_difference(blocks->ring().slot(port, 0), zeros.data(), n) == -1);
    }
    // The rules were exercised: spikes and refractory neurons on most steps.
    CHECK(spikes > 5000);
    if (std::string(c.model) != "lif_cond_exp") CHECK(refractory_steps > 1000);
  }
}

TEST_CASE("neuron loop: ring slots cleared in the loop, non-finite state flagged per block",
          "[random][population][guard]") {
  // The loop clears the neurons' slot of this step and, when asked, ORs whether any of
  // their state came out non-finite. The oracle is a scan of the state after the step.
  const std::uint32_t n = 1000;
  const std::vector<std::uint32_t> cuts = {0, 7, 300, 517, 1000};
  for (const char* model : {"lif_delta", "lif_exp", "lif_cond_exp"}) {
    INFO(model);
    const glia::Stream s{9, 4};
    int flagged = 0;
    for (int planted = -1; planted < 4; ++planted) {
      auto pop = lif_population(model, 0, n, planted == 0 ? "V_th" : "");
      if (planted >= pop->n_state()) continue;
      scramble(*pop, s, 0);
      add_inputs(*pop, s, 0);
      const double values[] = {std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::quiet_NaN()};
      // One bad value in block 2 (neurons 300-516), in state variable `planted`.
      if (planted >= 0) pop->state(planted)[401] = values[planted % 3];
      const std::uint32_t slot = pop->ring().slot_index(0);
      // A value just outside each block's range must survive that block's step.
      for (std::size_t b = 0; b + 1 < cuts.size(); ++b) {
        INFO("planted in state " << planted << ", block " << b);
        const auto lo = cuts[b], hi = cuts[b + 1];
        std::vector<double> after(pop->n_ports());
        for (int k = 0; k < pop->n_ports(); ++k) {
          if (hi < n) pop->ring().slot(k, slot)[hi] = 1.25 + k;
          after[k] = hi < n ? pop->ring().slot(k, slot)[hi] : 0.0;
        }
        std::vector<std::uint32_t> spikes;
        const bool flag = pop->integrate(0, lo, hi, spikes, true);
        bool scan = false;
        for (int k = 0; k < pop->n_state(); ++k)
          for (std::uint32_t i = lo; i < hi; ++i) scan = scan || !std::isfinite(pop->state(k)[i]);
        CHECK(flag == scan);
        flagged += flag;
        for (int k = 0; k < pop->n_ports(); ++k) {
          const double* v = pop->ring().slot(k, slot);
          CHECK(std::all_of(v + lo, v + hi, [](double x) { return x == 0.0; }));
          if (hi < n) CHECK(v[hi] == after[k]);
        }
      }
      // Without the check nothing is reported, whatever the state.
      auto again = lif_population(model, 0, n, "");
      again->state(0)[3] = std::numeric_limits<double>::quiet_NaN();
      std::vector<std::uint32_t> spikes;
      CHECK_FALSE(again->integrate(0, 0, n, spikes, false));
    }
    CHECK(flagged >= 1); // some planted value survives the step (a spike resets V_m)
  }
}

TEST_CASE("neuron loop: a population never given external current steps as with zero current",
          "[random][population]") {
  // Until something takes i_ext() for writing the loop does not read it.
  const std::uint32_t n = 600;
  for (const char* model : {"lif_delta", "lif_exp", "lif_cond_exp"}) {
    INFO(model);
    auto untouched = lif_population(model, 0, n, "");
    auto zeros = lif_population(model, 0, n, "");
    const glia::Stream s{3, 8};
    scramble(*untouched, s, 0);
    scramble(*zeros, s, 0);
    zeros->i_ext().assign(n, 0.0);
    std::uint32_t spikes = 0;
    for (std::uint64_t step = 0; step < 100; ++step) {
      for (glia::Population* p : {untouched.get(), zeros.get()})
        for (int port = 0; port < p->n_ports(); ++port) {
          double* buf = p->ring().slot(port, p->ring().slot_index(step));
          for (std::uint32_t i = 0; i < n; ++i) {
            const auto r = s.draw(static_cast<std::uint32_t>(step), 100 + port, i, 2);
            const double scale = std::string(model) == "lif_cond_exp" ? 0.5 : 30.0;
            buf[i] = (r[0] & 1u) ? scale * glia::u01(r[1]) : 0.0;
          }
        }
      std::vector<std::uint32_t> a, b;
      untouched->integrate(step, 0, n, a);
      zeros->integrate(step, 0, n, b);
      REQUIRE(a == b);
      spikes += static_cast<std::uint32_t>(a.size());
    }
    for (int k = 0; k < untouched->n_state(); ++k)
      CHECK(std::equal(untouched->state(k), untouched->state(k) + n, zeros->state(k)));
    CHECK(spikes > 20u); // the states were compared through spikes and resets
  }
}
