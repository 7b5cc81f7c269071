// `glia run` of an experiment with a [dataset] table: unsupervised training of the
// liquid, per-sample feature extraction, readout (issue 5; reservoir/features.hpp,
// reservoir/softmax.hpp).
#pragma once

#include "cli/commands.hpp"
#include "io/experiment.hpp"

#include <string>

namespace glia {

int run_pipeline(const RunOptions& opt, const Experiment& ex, const std::string& out_path);

} // namespace glia
