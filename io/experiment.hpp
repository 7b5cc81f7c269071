// The experiment file (TOML) as validated, typed structures, and the parser that
// produces them. Every value that reaches the engine has been checked here: unknown
// keys, wrong types, out-of-range values and dangling names are reported with file,
// line and key, plus the nearest valid name. `--set key=value` overrides are applied
// to the document before validation, so they are checked the same way.
#pragma once

#include "neurons/model.hpp"
#include "sim/connectivity.hpp"
#include "sim/distribution.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glia {

// An error that reaches the user: already formatted as "file:line:col: key: message".
// The CLI prints what() and exits with code 2.
class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const; // "file:line:col" (or "file" / "--set" when there is no line)
};

// [run.branching_factor]: the branching factor of a set of populations (reservoir/
// branching_factor.hpp), reported in the summary and /metrics.
struct BranchingSpec {
  std::vector<std::string> populations; // empty: not measured
  double window = 4.0;                  // ms
  double start = 0.0;                   // ms: spikes before start + window are not counted
  int segments = 1;                     // equal parts of [start, duration) reported apart
};

struct RunSpec {
  double duration = 1000.0; // ms
  double dt = 0.1;          // ms
  std::uint32_t seed = 1;
  int threads = 1; // 0 = all hardware threads
  std::string backend = "cpu";
  // cuda backend: ring-buffer sums in 64-bit fixed point (order-independent, so repeated
  // device runs are bitwise identical) rather than double atomics
  bool gpu_fixed_point = true;
  double flush_interval = 100.0; // ms of model time between output flushes
  BranchingSpec branching;
};

struct NamedValue {
  std::string name;
  Distribution value;
  SourceLocation where;
};

struct PopulationSpec {
  std::string name;
  std::string model;
  std::uint32_t size = 0;
  std::string integrator;         // empty: the model's default
  std::vector<NamedValue> random; // [population.random]: per-neuron random variables
  std::vector<NamedValue> params; // [population.params]: only the ones given
  std::vector<NamedValue> init;   // [population.init]: only the ones given
  SharedConfig shared;            // [population.shared]
  GridLayout layout;              // [population.layout]: positions on a grid
  SourceLocation where;
};

// [projection.plasticity]: a rule of plasticity/ with its parameters and options.
struct PlasticitySpec {
  std::string rule;              // empty: a static projection
  std::vector<double> params;    // one value per ParamSpec of the rule, defaults filled in
  std::vector<int> options;      // one choice index per OptionSpec of the rule
  std::vector<std::string> refs; // one name per RefSpec of the rule ("" if not given)
  SourceLocation where;
};

struct ProjectionSpec {
  std::string name; // default "pre->post"
  std::string pre, post;
  std::string port; // empty: the post model's first port
  ConnectSpec connect;
  Distribution weight;
  Distribution delay;     // ms; default dt
  double max_delay = 0.0; // ms; 0: the longest delay drawn (room for delays that grow)
  PlasticitySpec plasticity;
  SourceLocation where;
};

struct InputSpec {
  enum class Type { poisson, spike_times, dc, step_current, noise };
  Type type = Type::poisson;
  std::string name;
  std::string target;                 // population
  std::vector<std::uint32_t> neurons; // empty: all neurons of the target
  std::string port;                   // event inputs; empty: first port
  double weight = 0.0;                // event inputs
  double rate = 0.0;                  // poisson, Hz (per target neuron)
  double start = 0.0, stop = -1.0;    // ms; stop < 0: until the end
  double delay = -1.0;                // spike_times, ms; < 0: dt
  std::vector<double> times;          // spike_times, step_current (ms)
  std::vector<std::uint32_t> ids;     // spike_times: per time, the neuron (index into neurons)
  double period = 0.0;                // spike_times, ms: times repeat with it (0: once); the
                                      // times are shifted by `start`, those from `stop` dropped
  double amplitude = 0.0;             // dc, pA
  std::vector<double> amplitudes;     // step_current, pA
  double mean = 0.0, std = 0.0;       // noise, pA
  double interval = -1.0;             // noise redraw interval, ms; < 0: dt
  bool uniform = false;               // noise: uniform with the given mean and std, not normal
  SourceLocation where;
};

// [[modulator]]: a signal that plasticity rules read (plasticity/modulator.hpp).
struct ModulatorSpec {
  std::string name;
  std::string type;
  std::vector<double> params;              // one per ParamSpec of the type, defaults filled in
  std::vector<int> options;                // one per OptionSpec
  std::vector<std::vector<double>> arrays; // one per ArraySpec (empty when not given)
  std::vector<std::vector<std::string>> objects; // one per ObjectRefSpec: names given
  SourceLocation where;
};

// [[record]] type = "weights": a projection's synapse variables, sampled on a schedule.
struct WeightRecordSpec {
  std::string prefix; // "record #3", the key prefix of messages
  std::string projection;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> synapses; // (pre, post); empty: histogram
  std::vector<SourceLocation> synapse_where;                     // per pair
  std::uint32_t bins = 0;                                        // histogram
  double low = 0.0, high = 0.0;
  double start = 0.0;        // ms, first sample of an interval schedule
  std::vector<double> times; // ms; explicit schedule when not empty (else `interval`)
};

struct RecordSpec {
  enum class Type { spikes, state, modulator, weights };
  Type type = Type::spikes;
  std::string population;             // spikes, state; for modulator records: the modulator's name
  std::vector<std::string> variables; // state; weights: "weight", "delay"
  std::vector<std::uint32_t> neurons; // empty: all (spikes) or neuron 0 (state)
  double interval = -1.0;             // state sampling, ms; < 0: dt
  WeightRecordSpec weights;           // weights
  SourceLocation where;
};

// The dataset pipeline (issue 5): [dataset], [training], [features], [readout]. With a
// [dataset] table `glia run` trains the liquid unsupervised (optional), extracts
// per-sample features from it, and fits a readout (reservoir/pipeline.hpp).
struct DatasetSpec {
  std::string name; // "fashion_mnist"; empty: no pipeline
  std::string dir = "/usr/share/datasets/fashion-mnist";
  // The 60k training file gives train (first) and validation (next); test from the 10k file.
  std::uint32_t train = 50000, validation = 10000, test = 10000;
  std::string encoding = "current"; // "current" (NALSM) or "poisson" (rate coding)
  double scale = 100.0;             // current: pA at the dataset's largest normalised pixel
  double max_rate = 100.0;          // poisson: Hz at pixel value 255
  double weight = 10.0;             // poisson: pA per input spike
  std::string port;                 // poisson: receptor port of the target (empty: first)
  std::string target = "input";     // population that gets one pixel per neuron
  double window = 250.0;            // ms per sample (feature extraction)
  SourceLocation where;
};

// [training]: the unsupervised phase. The first `images` training images, `window` ms
// each, presented one after the other to the plastic network; afterwards the weights are
// frozen. images = 0: no training (a fixed liquid).
struct TrainingSpec {
  std::uint32_t images = 0;
  double window = 20.0; // ms
  // Before every image: neuron state, in-flight input and the modulators' state (the
  // astrocyte's A) back to their initial values; weights and traces carry on.
  bool reset = false;
  // Threads of the training simulation (0: run.threads / --threads). A liquid of a few
  // thousand neurons steps fastest on one: a barrier per 1 ms step costs more than it
  // saves, and far more on a loaded machine where spinning threads wait for each other.
  int threads = 1;
  // The plastic projections that learn (empty: all of them). The others' plasticity is
  // dropped at parse time, so they keep their initial weights in every phase.
  std::vector<std::string> learn;
};

// [features]: what the readout sees of each sample, each simulated on its own from the
// trained weights and the network's initial state.
struct FeaturesSpec {
  std::vector<std::string> populations; // default: every population but the dataset target
  bool counts = true;                   // spike count per neuron over the window
  std::vector<double> trace_times;      // ms into the window: low-pass traces sampled then
  double trace_tau = 20.0;              // ms
  bool save = false;                    // write /features (float32) to the output
  // Plasticity stays on while a sample's features are collected, as in NALSM's published
  // code: every sample starts again from the trained weights and the rules' and
  // modulators' initial state, and the rules' rates fade by rate_decay per step.
  bool plastic = false;
  double rate_decay = 1.0;
};

// [readout]: softmax regression (cross-entropy + L2, Adam) on standardised features.
struct ReadoutSpec {
  std::string type = "softmax";
  double l2 = 1e-4;
  std::uint32_t epochs = 30;
  std::uint32_t batch = 256;
  double learning_rate = 1e-3;
};

struct Experiment {
  std::string path;          // as given
  std::string source_text;   // the file as read
  std::string resolved_text; // the document after --set overrides, as TOML
  RunSpec run;
  std::vector<PopulationSpec> populations;
  std::vector<ProjectionSpec> projections;
  std::vector<InputSpec> inputs;
  std::vector<ModulatorSpec> modulators;
  std::vector<RecordSpec> records;
  DatasetSpec dataset;
  TrainingSpec training;
  FeaturesSpec features;
  ReadoutSpec readout;
  bool pipeline() const { return !dataset.name.empty(); }

  int population_index(const std::string& name) const; // -1 if absent
  int projection_index(const std::string& name) const; // -1 if absent
  int modulator_index(const std::string& name) const;  // -1 if absent
};

// Reads, overrides and validates an experiment. Throws InputError.
// `overrides` are "dotted.key=value" strings from --set; arrays of tables are addressed
// by the `name` of an element (population.E.size=100) or by index (input.0.rate=5).
Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});
Experiment parse_experiment(const std::string& text, const std::string& path,
                            const std::vector<std::string>& overrides = {});

// A TOML basic string: quotes, backslashes and control characters escaped (for writing
// TOML back: the resolved experiment, sweep overrides).
std::string toml_quoted(std::string_view s);

// Levenshtein-nearest candidate, or "" when nothing is close.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

} // namespace glia
