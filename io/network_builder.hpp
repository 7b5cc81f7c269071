// Turns a validated Experiment into a Network ready to run, and attaches the
// experiment's recordings to a Simulator.
#pragma once

#include "io/experiment.hpp"
#include "sim/network.hpp"
#include "sim/simulator.hpp"

#include <memory>

namespace glia {

// Threads: `threads_override` > 0 replaces run.threads; run.threads == 0 means all cores.
std::unique_ptr<Network> build_network(const Experiment& ex, int threads_override = 0);

// The thread count build_network will use.
int resolve_threads(const Experiment& ex, int threads_override = 0);

void attach_records(const Experiment& ex, Simulator& sim);

// Resolves a recording name ("V_m", "m[3]") of a population's model to (variable, element);
// element -1 for a whole vector variable. Returns false when unknown.
bool resolve_state_name(const Population& pop, const std::string& name, int& var, int& element);

} // namespace glia
