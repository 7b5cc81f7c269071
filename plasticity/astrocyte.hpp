// The NALSM astrocyte (Ivanov & Michmizos, NeurIPS 2021; MODELS.md): one global signal
// A(t) that integrates the liquid's spikes minus the input layer's spikes,
//   A(t+1) = A(t) + [w_astro (L(t) - I(t)) + b_astro - A(t)] / (tau_astro / dt),
// L(t), I(t) the spike counts of step t of the neurons it sees. astro_stdp reads A(t)
// as its depression rate A-(t): more liquid spikes than input spikes -> more
// depression -> the liquid settles near a branching factor of 1.
//
// Timing, as in the published code (NALSM_RUN_MAIN_SIM_*.py: STDP, then the astrocyte
// update with the same spikes): the learning of step t uses A(t), which has seen the
// spikes up to step t-1. The engine calls update() for step t after that step's spikes
// are known and before its learn phase, so update() makes A(t) current and computes
// A(t+1) from the spikes of step t. Recorded row k is A(k), the value in force during
// step k; A(0) = A0.
//
// `fraction` < 1: the astrocyte sees, in each population it observes, the first
// ceil(fraction n) neurons of a permutation drawn from (seed, modulator, population)
// (ceil as the published code's sparse astrocyte mask).
#pragma once

#include "plasticity/modulator.hpp"
#include "sim/network.hpp"
#include "sim/random.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace glia {

class Astrocyte final : public Modulator {
public:
  static constexpr std::string_view name = "astrocyte";
  static constexpr std::string_view doc =
      "NALSM astrocyte: A(t+1) = A + [w_astro (liquid spikes - input spikes) + b_astro - A] / "
      "(tau_astro/dt); the depression rate of astro_stdp";
  enum P { w_astro, b_astro, tau_astro, A0, fraction };
  static constexpr ParamSpec params[] = {
      {"w_astro", "1", 0.015, kAny,
       "weight of the spike-count difference (0.015 for a 1000-neuron liquid, 0.0075 for 8000)"},
      {"b_astro", "1", 0.15, kAny, "bias: the value A relaxes to when L = I"},
      {"tau_astro", "ms", 100.0, kPositive, "time constant (at least dt)"},
      {"A0", "1", 0.15, kAny, "A at t = 0"},
      {"fraction", "1", 1.0, Range{0.0, 1.0, true, false},
       "fraction of each observed population's neurons it sees (a seeded choice)"},
  };
  enum O { liquid, input };
  static constexpr ObjectRefSpec objects[] = {
      {"liquid", ObjectRefSpec::Kind::populations, true,
       "populations whose spikes raise A (the liquid)"},
      {"input", ObjectRefSpec::Kind::populations, false,
       "populations whose spikes lower A (the input layer)"},
  };
  static constexpr StateSpec variables[] = {
      {"A", "1", 0.15, "the depression rate in force during the step"}};

  static std::string check(const ModulatorCheck& c) {
    if (c.params[tau_astro] < c.dt)
      return "'tau_astro' must be at least the time step dt (the update divides by tau/dt)";
    return "";
  }

  explicit Astrocyte(const ModulatorSetup& s)
      : Modulator(s.name), w_(s.params[w_astro]), b_(s.params[b_astro]),
        tau_steps_(s.params[tau_astro] / s.dt), a_(s.params[A0]), next_(a_) {
    std::vector<int> seen;
    std::uint32_t ordinal = 0;
    for (int kind : {liquid, input})
      for (int p : s.objects[static_cast<std::size_t>(kind)]) {
        for (int q : seen)
          if (q == p)
            throw std::invalid_argument("population '" + s.net->populations()[p]->name() +
                                        "' is listed twice in 'liquid' and 'input'");
        seen.push_back(p);
        Observed o{p, kind == input, {}};
        const std::uint32_t n = s.net->populations()[p]->size();
        const double f = s.params[fraction];
        if (f < 1.0) {
          const auto k = static_cast<std::uint32_t>(std::ceil(f * n));
          const Stream st{s.seed, stream_id(StreamKind::modulator,
                                            static_cast<std::uint32_t>(s.index), ordinal)};
          const auto order = permutation(n, st);
          o.sees.assign(n, 0);
          for (std::uint32_t i = 0; i < k; ++i) o.sees[order[i]] = 1;
        }
        observed_.push_back(std::move(o));
        ++ordinal;
      }
  }

  void update(const ModulatorContext& ctx) override {
    std::uint64_t l = 0, in = 0;
    for (const Observed& o : observed_) {
      std::uint64_t& n = o.is_input ? in : l;
      const StepSpikes& sp = (*ctx.spikes)[static_cast<std::size_t>(o.population)];
      if (o.sees.empty())
        n += sp.count();
      else
        sp.for_each([&](std::uint32_t i) { n += o.sees[i]; });
    }
    a_ = next_;
    next_ = a_ + (w_ * (static_cast<double>(l) - static_cast<double>(in)) + b_ - a_) / tau_steps_;
  }
  double value() const override { return a_; }
  std::span<const StateSpec> variable_specs() const override { return variables; }
  double read(int, std::uint32_t) const override { return a_; }
  void save(StateArchive& ar, const std::string& prefix) const override {
    ar.put_scalar(prefix + "A", a_);
    ar.put_scalar(prefix + "A_next", next_);
  }
  void load(const StateArchive& ar, const std::string& prefix) override {
    a_ = ar.get_scalar<double>(prefix + "A");
    next_ = ar.get_scalar<double>(prefix + "A_next");
  }

  // Which neurons of an observed population it sees (empty: all).
  const std::vector<char>& sees(std::size_t k) const { return observed_[k].sees; }

private:
  struct Observed {
    int population;
    bool is_input;
    std::vector<char> sees; // per neuron; empty: every neuron
  };
  double w_, b_, tau_steps_;
  double a_, next_; // A(t) in force now, A(t+1) from this step's spikes
  std::vector<Observed> observed_;
};

} // namespace glia
