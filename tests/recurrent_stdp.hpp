// A small recurrent network with STDP on its E->E synapses, shared by the plasticity
// tests: 300 LIF neurons at about 120 Hz driven by Poisson input, p = 0.1 (8968 synapses).
#pragma once

#include <string>

namespace glia::test {

// `extra` goes into [projection.plasticity] (options of the rule).
inline std::string recurrent_experiment(const std::string& extra = "") {
  return R"([run]
duration = 2000.0
dt = 0.1
seed = 11

[[population]]
name = "E"
model = "lif_delta"
size = 300
[population.params]
tau_m = 20.0
E_L = 0.0
V_reset = 10.0
V_th = 20.0
[population.init]
V_m = { dist = "uniform", low = 0.0, high = 20.0 }

[[projection]]
pre = "E"
post = "E"
weight = 0.5
delay = 1.5
[projection.connect]
rule = "fixed_probability"
p = 0.1
[projection.plasticity]
rule = "stdp"
tau_plus = 20.0
tau_minus = 25.0
A_plus = 0.02
A_minus = 0.021
w_min = 0.0
w_max = 1.0
)" + extra +
         R"(
[[input]]
type = "poisson"
target = "E"
rate = 9000.0
weight = 0.2
)";
}

} // namespace glia::test
