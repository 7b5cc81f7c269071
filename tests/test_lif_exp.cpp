// Tests of the lif_exp model (NEST iaf_psc_exp) against closed-form results. The model
// integrates its linear subthreshold system with the exact propagator, so
//  - a single input's PSP sampled at the steps must equal the analytic alpha-like
//    difference of exponentials to rounding, including the singular case
//    tau_syn == tau_m and its neighbourhood, where the closed form is 0/0;
//  - with a constant current the time to threshold is known in closed form, and in
//    discrete time the spike falls in the first step that ends at or after it, so the
//    interspike interval is the analytic one rounded up to a whole number of steps.
// Both are checked through the whole engine (ring buffer, input, step loop, recording).
#include "neurons/model.hpp"
#include "neurons/registry.hpp"
#include "sim/inputs.hpp"
#include "sim/network.hpp"
#include "sim/population.hpp"
#include "sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

const glia::ModelInfo& lif_exp() {
  const glia::ModelInfo* m = glia::Registry::global().find("lif_exp");
  REQUIRE(m != nullptr);
  return *m;
}

int param(const glia::ModelInfo& m, const std::string& name) {
  const int k = glia::find_spec(m.params, name);
  REQUIRE(k >= 0);
  return k;
}

int state(const glia::ModelInfo& m, const std::string& name) {
  const int k = glia::find_spec(m.state, name);
  REQUIRE(k >= 0);
  return k;
}

struct PspCase {
  double dt = 0.1;
  double tau_syn = 2.0;
  int port = 0; // 0 = "ex", 1 = "in"
  double weight = 100.0;
  double e_l = -70.0;
};

constexpr double kTauM = 10.0, kCm = 250.0;

// Runs one never-firing lif_exp neuron that receives one event at step `arrival` and
// returns V_m - E_L at the end of every step.
std::vector<double> simulate_psp(const PspCase& c, std::uint64_t arrival, std::uint64_t n_steps) {
  glia::Network net(c.dt, 7, 1);
  const glia::ModelInfo& m = lif_exp();
  glia::PopulationSetup setup;
  setup.name = "n";
  setup.size = 1;
  glia::Population& pop = net.add_population(m, setup);
  pop.set_param(param(m, "C_m"), {kCm});
  pop.set_param(param(m, "tau_m"), {kTauM});
  pop.set_param(param(m, "E_L"), {c.e_l});
  pop.set_param(param(m, "V_th"), {1e9}); // never fires: the PSP is seen undisturbed
  pop.set_param(param(m, c.port == 0 ? "tau_syn_ex" : "tau_syn_in"), {c.tau_syn});
  // The other port's time constant is set far away, so mixing the ports up would show.
  pop.set_param(param(m, c.port == 0 ? "tau_syn_in" : "tau_syn_ex"), {0.5});
  pop.state(state(m, "V_m"))[0] = c.e_l;
  auto in = std::make_unique<glia::SpikeTimesInput>(
      std::vector<std::uint64_t>{arrival}, std::vector<std::uint32_t>{0}, c.weight, c.port);
  in->target = 0;
  net.add_input(std::move(in));
  net.prepare();
  glia::Simulator sim(net);
  sim.record_state(0, state(m, "V_m"), 0, {0}, 1, "V_m");
  sim.run(n_steps);
  const auto& rec = sim.state_records().at(0);
  REQUIRE(rec.n_rows == n_steps);
  std::vector<double> v(rec.rows.begin(), rec.rows.begin() + static_cast<long>(n_steps));
  for (double& x : v) x -= c.e_l;
  return v;
}

// Largest relative deviation from `psp(t)` over the steps after the arrival where the
// analytic PSP exceeds 1e-6 of its peak; also checks that nothing moves before it.
double max_psp_error(const PspCase& c, const std::function<double(double)>& psp) {
  const std::uint64_t arrival = 10;
  const std::uint64_t n = arrival + static_cast<std::uint64_t>(std::llround(150.0 / c.dt));
  const std::vector<double> v = simulate_psp(c, arrival, n);
  // The event enters I_syn at the end of its arrival step: V is untouched until then.
  for (std::uint64_t k = 0; k <= arrival; ++k) REQUIRE(v[k] == 0.0);
  double peak = 0.0;
  for (std::uint64_t m = 1; arrival + m < n; ++m)
    peak = std::max(peak, std::abs(psp(static_cast<double>(m) * c.dt)));
  REQUIRE(peak > 0.0);
  double worst = 0.0;
  std::uint64_t compared = 0;
  for (std::uint64_t m = 1; arrival + m < n; ++m) {
    const double expect = psp(static_cast<double>(m) * c.dt);
    if (std::abs(expect) <= 1e-6 * peak) continue;
    worst = std::max(worst, std::abs(v[arrival + m] - expect) / std::abs(expect));
    ++compared;
  }
  // At least 100 ms of the PSP was compared.
  REQUIRE(static_cast<double>(compared) * c.dt >= 100.0);
  return worst;
}

} // namespace

TEST_CASE("lif_exp PSP equals the analytic difference of exponentials", "[engine][lif_exp]") {
  for (const PspCase c : {PspCase{0.1, 2.0, 0, 100.0}, PspCase{0.1, 5.0, 1, -80.0},
                          PspCase{0.05, 2.0, 0, 150.0}, PspCase{0.1, 20.0, 0, 100.0}}) {
    CAPTURE(c.dt, c.tau_syn, c.port, c.weight);
    const double ts = c.tau_syn, w = c.weight;
    auto psp = [&](double t) {
      return w * ts * kTauM / (kCm * (kTauM - ts)) * (std::exp(-t / kTauM) - std::exp(-t / ts));
    };
    const double err = max_psp_error(c, psp);
    INFO("max relative PSP error " << err);
    CHECK(err < 1e-6);
  }
}

TEST_CASE("lif_exp PSP is exact to rounding when V_m carries no offset", "[engine][lif_exp]") {
  // With E_L = -70 the error floor above is V_m's own rounding (half an ulp of 70 mV,
  // ~7e-15 mV per step, against PSP tails of ~1e-6 mV), ~1e-7 relative. With E_L = 0
  // that floor goes, and what is left measures the propagator: any error in it
  // (a wrong coefficient, an off-by-one step) would be far above 1e-10.
  for (const double ts : {2.0, kTauM}) {
    CAPTURE(ts);
    const PspCase c{0.1, ts, 0, 100.0, 0.0};
    auto psp = [&](double t) {
      if (ts == kTauM) return c.weight / kCm * t * std::exp(-t / kTauM);
      return c.weight * ts * kTauM / (kCm * (kTauM - ts)) *
             (std::exp(-t / kTauM) - std::exp(-t / ts));
    };
    const double err = max_psp_error(c, psp);
    INFO("max relative PSP error " << err);
    CHECK(err < 1e-10);
  }
}

TEST_CASE("lif_exp PSP at tau_syn == tau_m equals the limit w/C t exp(-t/tau)",
          "[engine][lif_exp]") {
  const PspCase c{0.1, kTauM, 0, 100.0};
  auto psp = [&](double t) { return c.weight / kCm * t * std::exp(-t / kTauM); };
  const double err = max_psp_error(c, psp);
  INFO("max relative PSP error " << err);
  CHECK(err < 1e-6);
}

TEST_CASE("lif_exp PSP next to the singular case tau_syn -> tau_m", "[engine][lif_exp]") {
  // The closed form w ts tm / (C (tm - ts)) (e^{-t/tm} - e^{-t/ts}) cancels here; the
  // same function written without cancellation is w/C e^{-t/tm} (1 - e^{-a t}) / a with
  // a = 1/ts - 1/tm. The model switches from its expm1 form to the limit at |a dt| < 1e-12,
  // so these offsets sit on both sides of that switch.
  for (const double rel : {1e-4, 1e-9, 1e-13, -1e-9}) {
    const PspCase c{0.1, kTauM * (1.0 - rel), 0, 100.0};
    CAPTURE(rel);
    const double a = (kTauM - c.tau_syn) / (c.tau_syn * kTauM); // 1/ts - 1/tm
    auto psp = [&](double t) {
      return c.weight / kCm * std::exp(-t / kTauM) * -std::expm1(-a * t) / a;
    };
    const double err = max_psp_error(c, psp);
    INFO("max relative PSP error " << err);
    CHECK(err < 1e-6);
  }
}

namespace {

struct FiCase {
  double dt, c_m, tau_m, t_ref, e_l, v_th, v_reset;
  std::vector<double> currents; // pA, all above rheobase
};

} // namespace

TEST_CASE("lif_exp f-I curve: ISI is the analytic value rounded up to whole steps",
          "[engine][lif_exp]") {
  // Rheobase is (V_th - E_L) C / tau_m: 375 pA for the first case, 250 pA for the second.
  const std::vector<FiCase> cases = {
      {0.1, 250.0, 10.0, 2.0, -70.0, -55.0, -70.0, {380.0, 400.0, 500.0, 750.0, 1000.0, 2500.0}},
      {0.05, 500.0, 20.0, 1.5, -65.0, -55.0, -60.0, {260.0, 300.0, 420.0, 800.0, 3000.0}},
  };
  for (const FiCase& c : cases) {
    CAPTURE(c.dt, c.tau_m, c.t_ref, c.v_reset);
    const double duration = 1000.0; // ms
    const auto n_steps = static_cast<std::uint64_t>(std::llround(duration / c.dt));
    const auto n = static_cast<std::uint32_t>(c.currents.size());
    glia::Network net(c.dt, 3, 1);
    const glia::ModelInfo& m = lif_exp();
    glia::PopulationSetup setup;
    setup.name = "fi";
    setup.size = n;
    glia::Population& pop = net.add_population(m, setup);
    pop.set_param(param(m, "C_m"), {c.c_m});
    pop.set_param(param(m, "tau_m"), {c.tau_m});
    pop.set_param(param(m, "t_ref"), {c.t_ref});
    pop.set_param(param(m, "E_L"), {c.e_l});
    pop.set_param(param(m, "V_th"), {c.v_th});
    pop.set_param(param(m, "V_reset"), {c.v_reset});
    pop.set_param(param(m, "I_e"), c.currents); // one current per neuron
    std::fill_n(pop.state(state(m, "V_m")), n, c.e_l);
    net.prepare();
    glia::Simulator sim(net);
    sim.record_spikes(0);
    sim.run(n_steps);

    const auto& rec = sim.spike_records().at(0);
    const double r = c.tau_m / c.c_m; // membrane resistance, mV/pA
    const auto ref_steps = static_cast<std::int64_t>(std::llround(c.t_ref / c.dt));
    for (std::uint32_t i = 0; i < n; ++i) {
      const double ir = c.currents[i] * r;
      CAPTURE(c.currents[i]);
      // Time from V0 to threshold under constant current.
      auto to_threshold = [&](double v0) {
        return c.tau_m * std::log((ir - (v0 - c.e_l)) / (ir - (c.v_th - c.e_l)));
      };
      // Whole steps needed to cover time t (the first step whose end is at or after t).
      // When t/dt lies within rounding of an integer either neighbour is right.
      auto steps_for = [&](double t, bool& exact) {
        const double x = t / c.dt;
        exact = std::abs(x - std::round(x)) > 1e-6;
        return static_cast<std::int64_t>(std::ceil(x));
      };
      std::vector<std::int64_t> spike_steps;
      for (std::size_t k = 0; k < rec.ids.size(); ++k)
        if (rec.ids[k] == i) spike_steps.push_back(std::llround(rec.times[k] / c.dt) - 1);
      REQUIRE(spike_steps.size() >= 10);

      // First spike: from V = E_L, no refractory period before it.
      bool exact0 = true;
      const std::int64_t first = steps_for(to_threshold(c.e_l), exact0);
      if (exact0)
        CHECK(spike_steps[0] + 1 == first);
      else
        CHECK(std::abs(spike_steps[0] + 1 - first) <= 1);

      // Every later interval: refractory steps, then integration from V_reset.
      const double isi_analytic = c.t_ref + to_threshold(c.v_reset);
      bool exact = true;
      const std::int64_t isi_steps = ref_steps + steps_for(to_threshold(c.v_reset), exact);
      for (std::size_t k = 1; k < spike_steps.size(); ++k) {
        const std::int64_t isi = spike_steps[k] - spike_steps[k - 1];
        if (exact)
          REQUIRE(isi == isi_steps);
        else
          REQUIRE(std::abs(isi - isi_steps) <= 1);
        const double isi_ms = static_cast<double>(isi) * c.dt;
        REQUIRE(std::abs(isi_ms - isi_analytic) <= c.dt * (1 + 1e-9));
        REQUIRE(isi_ms >= isi_analytic - 1e-9);
      }

      // Rate: the measured one is 1/ISI of whole steps, so it lies between the analytic
      // rate and the rate of an interval one step longer.
      const double isi_ms = static_cast<double>(spike_steps[1] - spike_steps[0]) * c.dt;
      const double rate = 1000.0 / isi_ms, rate_analytic = 1000.0 / isi_analytic;
      const double quantum = rate_analytic - 1000.0 / (isi_analytic + c.dt);
      INFO("I " << c.currents[i] << " pA: ISI " << isi_ms << " ms (analytic " << isi_analytic
                << "), rate " << rate << " Hz (analytic " << rate_analytic << ")");
      CHECK(std::abs(rate - rate_analytic) <= quantum * (1 + 1e-9));
      // And the number of spikes in the run is what that periodic train gives.
      const auto expected_count = (static_cast<std::int64_t>(n_steps) - 1 - spike_steps[0]) /
                                      (spike_steps[1] - spike_steps[0]) +
                                  1;
      CHECK(static_cast<std::int64_t>(spike_steps.size()) == expected_count);
      CHECK(sim.stats(0).count[i] == spike_steps.size());
    }
  }
}

// The neuron loop's full-width loads and stores assume that every state, parameter and
// external-current array starts on a cache line (sim/cache_aligned.hpp): they must stay
// so after per-neuron parameters, prepare() and a checkpoint round trip, for sizes that
// are not a multiple of a line.
TEST_CASE("lif_exp: state, parameter and external-current arrays start on a cache line",
          "[lif_exp]") {
  const glia::ModelInfo& m = lif_exp();
  auto aligned = [](const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) % glia::kCacheLine == 0;
  };
  for (std::uint32_t n : {1u, 7u, 13u, 1250u}) {
    glia::Network net(0.1, 3, 2);
    glia::PopulationSetup setup;
    setup.name = "n";
    setup.size = n;
    glia::Population& pop = net.add_population(m, setup);
    std::vector<double> v_th(n, -50.0);
    for (std::uint32_t i = 0; i < n; ++i) v_th[i] -= 0.01 * i;
    pop.set_param(param(m, "V_th"), v_th);
    net.prepare();
    glia::StateArchive ar;
    pop.save(ar, "p/");
    pop.state(state(m, "V_m"))[0] = 1.0;
    pop.load(ar, "p/");
    INFO("size " << n);
    for (int k = 0; k < pop.n_state(); ++k) CHECK(aligned(pop.state(k)));
    for (int k = 0; k < static_cast<int>(m.params.size()); ++k) CHECK(aligned(pop.param(k).data()));
    CHECK(aligned(pop.i_ext().data()));
    CHECK(pop.state(state(m, "V_m"))[0] == -70.0); // the round trip did restore
  }
}
