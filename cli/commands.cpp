// glia run / check / info.
#include "cli/commands.hpp"
#include "glia_version.hpp"

#include "cli/pipeline.hpp"
#include "cli/progress.hpp"
#include "cli/run_control.hpp"
#include "gpu/backend.hpp"
#include "io/checkpoint.hpp"
#include "io/experiment.hpp"
#include "io/hdf5_output.hpp"
#include "io/memory_estimate.hpp"
#include "io/network_builder.hpp"
#include "io/sweep.hpp"
#include "neurons/registry.hpp"
#include "plasticity/modulator.hpp"
#include "plasticity/rule.hpp"
#include "reservoir/branching_factor.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

namespace glia {
namespace fs = std::filesystem;

std::size_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::size_t>(ru.ru_maxrss) * 1024u;
}

namespace {

constexpr int kBadInput = kExitBadInput;

int report(const std::exception& e) {
  std::fprintf(stderr, "glia: error: %s\n", e.what());
  return kBadInput;
}

void print_params(std::span<const ParamSpec> params) {
  std::printf("  %-12s %-6s %12s  %-16s %s\n", "name", "unit", "default", "valid", "description");
  for (const auto& p : params)
    std::printf("  %-12s %-6s %12g  %-16s %s\n", std::string(p.name).c_str(),
                std::string(p.unit).c_str(), p.default_value, p.range.describe().c_str(),
                std::string(p.doc).c_str());
}

void print_options(std::span<const OptionSpec> options) {
  for (const auto& o : options) {
    std::printf("  %-12s", std::string(o.name).c_str());
    for (std::size_t i = 0; i < o.choices.size(); ++i)
      std::printf(" %s%s", std::string(o.choices[i]).c_str(), i == 0 ? " (default)" : "");
    std::printf("  %s\n", std::string(o.doc).c_str());
  }
}

// `glia info RULE` and `glia info MODULATOR`; false when `name` is neither.
bool info_plasticity(const std::string& name) {
  if (const PlasticityInfo* r = PlasticityRegistry::global().find(name)) {
    std::printf("plasticity rule %s: %s\n\nparameters:\n", name.c_str(),
                std::string(r->doc).c_str());
    print_params(r->params);
    std::printf("\noptions:\n");
    print_options(r->options);
    if (!r->refs.empty()) std::printf("\nreferences:\n");
    for (const auto& f : r->refs)
      std::printf("  %-12s %s%s\n", std::string(f.name).c_str(), f.required ? "(required) " : "",
                  std::string(f.doc).c_str());
    return true;
  }
  const ModulatorInfo* m = ModulatorRegistry::global().find(name);
  if (!m) return false;
  std::printf("modulator %s: %s\n\nparameters:\n", name.c_str(), std::string(m->doc).c_str());
  print_params(m->params);
  if (!m->options.empty()) std::printf("\noptions:\n");
  print_options(m->options);
  std::printf("\narrays and objects:\n");
  for (const auto& a : m->arrays)
    std::printf("  %-12s %-6s %s%s\n", std::string(a.name).c_str(), std::string(a.unit).c_str(),
                a.required ? "(required) " : "", std::string(a.doc).c_str());
  for (const auto& o : m->objects)
    std::printf("  %-12s %-6s %s%s\n", std::string(o.name).c_str(), "name",
                o.required ? "(required) " : "", std::string(o.doc).c_str());
  std::printf("\nrecordable:\n");
  for (const auto& v : m->variables)
    std::printf("  %-12s %-6s %s\n", std::string(v.name).c_str(), std::string(v.unit).c_str(),
                std::string(v.doc).c_str());
  return true;
}

std::string default_output(const std::string& experiment) {
  return (fs::path("results") / fs::path(experiment).stem()).string() + ".h5";
}

// Refuses an output (or checkpoint) path that cannot be written before any time is
// spent building.
void check_output_path(const std::string& path, const std::string& what = "output file") {
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (fs::is_directory(p, ec))
    throw OutputError("cannot write " + what + " '" + path + "': it is a directory");
  if (!fs::exists(dir, ec))
    throw OutputError("cannot create " + what + " '" + path + "': directory '" + dir.string() +
                      "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw OutputError("cannot create " + what + " '" + path + "': directory '" + dir.string() +
                      "' is not writable");
  if (fs::exists(p, ec) && access(p.c_str(), W_OK) != 0)
    throw OutputError("cannot write " + what + " '" + path + "': permission denied");
}

// The [run.branching_factor] monitor, or null when the experiment asks for none.
std::unique_ptr<BranchingFactor> branching_monitor(const Experiment& ex, const Network& net,
                                                   std::uint64_t steps) {
  const BranchingSpec& b = ex.run.branching;
  if (b.populations.empty()) return nullptr;
  std::vector<int> pops;
  for (const auto& name : b.populations) pops.push_back(net.population_index(name));
  const auto from = static_cast<std::uint64_t>(std::llround(b.start / ex.run.dt));
  std::vector<std::uint64_t> ends;
  for (int k = 1; k <= b.segments; ++k)
    ends.push_back(from + (steps - from) * static_cast<std::uint64_t>(k) /
                              static_cast<std::uint64_t>(b.segments));
  return std::make_unique<BranchingFactor>(
      liquid_graph(net, pops), static_cast<std::uint32_t>(std::llround(b.window / ex.run.dt)), from,
      std::move(ends));
}

void report_branching(const Experiment& ex, const BranchingFactor& bf, Hdf5Output& out) {
  const BranchingSpec& b = ex.run.branching;
  std::string names;
  for (const auto& n : b.populations) names += (names.empty() ? "" : "+") + n;
  const auto r = bf.result();
  std::printf("branching     %.4f (%s, window %g ms, %llu spikes of %u neurons from %g ms)\n",
              r.sigma, names.c_str(), b.window, static_cast<unsigned long long>(r.spikes),
              r.neurons, b.start);
  out.set_attribute("/metrics", "branching_factor", r.sigma);
  out.set_attribute("/metrics", "branching_spikes", static_cast<std::int64_t>(r.spikes));
  if (bf.segments() < 2) return;
  std::printf("  by segment ");
  for (std::size_t k = 0; k < bf.segments(); ++k) {
    const double sk = bf.segment(k).sigma;
    std::printf(" %.4f", sk);
    out.set_attribute("/metrics", "branching_factor_" + std::to_string(k), sk);
  }
  std::printf("\n");
}

// backend = "cuda": the device engine when it can run this network, else a one-line
// warning and the CPU. Returns an exit code when the run must not go on (the network
// does not fit the device, or the device fails), else -1.
int choose_backend(const Experiment& ex, Network& net, Simulator& sim, bool checkpoints,
                   std::unique_ptr<StepEngine>& engine) {
  if (ex.run.backend != "cuda") return -1;
  std::string why;
  gpu::DeviceInfo dev;
  if (!gpu::cuda_compiled()) {
    why = "this glia was built without CUDA";
  } else {
    dev = gpu::probe_devices(0);
    if (dev.count == 0) why = "no CUDA device";
  }
  if (why.empty()) why = gpu::unsupported_reason(net, !sim.weight_monitors().empty(), checkpoints);
  if (!why.empty()) {
    std::fprintf(stderr, "glia: warning: %s%s\n", gpu::fallback_message(why).c_str(),
                 dev.error.empty() || dev.error == why ? "" : (" (" + dev.error + ")").c_str());
    return -1;
  }
  gpu::DeviceOptions opt;
  opt.fixed_point = ex.run.gpu_fixed_point;
  const gpu::DevicePlan plan = gpu::make_plan(net, opt);
  std::uint64_t neurons = 0;
  for (const auto& p : plan.populations) neurons += p.n;
  const std::string fit =
      gpu::device_fit_error(gpu::device_memory(plan, gpu::block_steps_for(neurons)), dev);
  if (!fit.empty()) {
    std::fprintf(stderr, "glia: error: %s\n", fit.c_str());
    return kBadInput;
  }
  try {
    engine = gpu::make_cuda_engine(plan);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "glia: error: cannot start the cuda backend: %s\n", e.what());
    return kExitFailure;
  }
  sim.set_engine(engine.get());
  std::fprintf(stderr, "glia: running on %s\n", engine->describe().c_str());
  return -1;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

} // namespace

int run_command(const RunOptions& opt) {
  SignalGuard signals; // from here on, SIGINT/SIGTERM stop the run cleanly
  Experiment ex;
  std::optional<Checkpoint> resumed;
  std::string out_path = opt.output;
  try {
    if (!opt.resume.empty()) {
      resumed = read_checkpoint(opt.resume);
      ex = resume_experiment(*resumed, opt.experiment, opt.overrides);
      if (out_path.empty()) out_path = resumed->info.output_path;
    } else {
      if (opt.experiment.empty())
        throw InputError("glia run: give an experiment file (or --resume CHECKPOINT)");
      ex = load_experiment(opt.experiment, opt.overrides);
      if (out_path.empty()) {
        out_path = default_output(opt.experiment);
        fs::create_directories(fs::path(out_path).parent_path());
      }
      check_output_path(out_path);
    }
    if (opt.checkpoint_every < 0 ||
        (opt.checkpoint_every > 0 && std::llround(opt.checkpoint_every / ex.run.dt) < 1))
      throw InputError("--checkpoint-every " + std::to_string(opt.checkpoint_every) +
                       ": must be at least the time step dt = " + std::to_string(ex.run.dt) +
                       " ms");
    if (opt.max_wall < 0) throw InputError("--max-wall: must be >= 0 seconds");
  } catch (const InputError& e) {
    return report(e);
  } catch (const CheckpointError& e) {
    return report(e);
  } catch (const OutputError& e) {
    return report(e);
  } catch (const fs::filesystem_error& e) {
    return report(e);
  }
  if (ex.pipeline()) {
    if (resumed) {
      std::fprintf(stderr, "glia: error: --resume: experiments with a [dataset] pipeline cannot "
                           "be resumed (run them again)\n");
      return kBadInput;
    }
    return run_pipeline(opt, ex, out_path);
  }
  const std::string ckpt_path = !opt.checkpoint.empty() ? opt.checkpoint
                                : resumed               ? opt.resume
                                                        : default_checkpoint_path(out_path);
  try {
    check_output_path(ckpt_path, "checkpoint");
  } catch (const OutputError& e) {
    return report(e);
  }
  const auto ckpt_every =
      static_cast<std::uint64_t>(std::llround(opt.checkpoint_every / ex.run.dt));

  const int threads = resolve_threads(ex, opt.threads);
  if (!memory_guard(ex, threads, ckpt_every > 0, opt.ignore_memory_limit)) return kBadInput;
  const auto t_build = std::chrono::steady_clock::now();
  std::unique_ptr<Network> net;
  try {
    net = build_network(ex, opt.threads);
  } catch (const InputError& e) {
    return report(e);
  }
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_build).count();

  std::unique_ptr<Hdf5Output> out;
  try {
    out = resumed ? std::make_unique<Hdf5Output>(out_path,
                                                 Hdf5Output::Continue{resumed->info.output_counts})
                  : std::make_unique<Hdf5Output>(out_path);
  } catch (const OutputError& e) {
    return report(e);
  }
  std::uint64_t n_neurons = 0;
  for (const auto& p : net->populations()) n_neurons += p->size();
  const std::uint64_t n_syn = net->n_synapses();
  const std::string shown = resumed ? resumed->info.experiment_path : opt.experiment;
  std::fprintf(stderr, "glia %s: %s: %llu neurons, %llu synapses, %d thread%s, built in %s\n",
               GLIA_VERSION, shown.c_str(), static_cast<unsigned long long>(n_neurons),
               static_cast<unsigned long long>(n_syn), threads, threads == 1 ? "" : "s",
               format_seconds(build_s).c_str());

  std::string overrides;
  for (const auto& o : opt.overrides) overrides += (overrides.empty() ? "" : "\n") + o;
  const std::string experiment_path =
      resumed ? resumed->info.experiment_path : fs::absolute(opt.experiment).string();
  try {
    if (!resumed) {
      out->set_attribute("/", "glia_version", std::string(GLIA_VERSION));
      out->set_attribute("/", "experiment_path", opt.experiment);
      out->set_attribute("/", "experiment_source", ex.source_text);
      out->set_attribute("/", "overrides", overrides);
      out->set_attribute("/", "seed", static_cast<std::int64_t>(ex.run.seed));
      out->set_attribute("/", "created", now_iso8601());
    } else {
      out->set_attribute("/", "resumed_from",
                         opt.resume + " at t = " + std::to_string(resumed->info.time_ms()) + " ms");
    }
    out->set_attribute("/", "experiment", ex.resolved_text);
    out->set_attribute("/", "threads", static_cast<std::int64_t>(threads));
    out->set_attribute("/", "dt", ex.run.dt);
    out->set_attribute("/", "duration", ex.run.duration);
    // Until the run ends, a reader (or a run killed with SIGKILL) sees "running".
    out->set_attribute("/", "status", std::string("running"));
  } catch (const OutputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitFailure;
  }

  Simulator sim(*net, out.get());
  const auto steps = static_cast<std::uint64_t>(std::llround(ex.run.duration / ex.run.dt));
  const auto branching = branching_monitor(ex, *net, steps);
  if (branching) sim.add_observer(branching.get());
  try {
    attach_records(ex, sim);
  } catch (const InputError& e) {
    out.reset();
    fs::remove(out_path);
    return report(e);
  }
  if (resumed) {
    try {
      sim.load(resumed->state);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "glia: error: cannot resume from checkpoint '%s': %s\n",
                   opt.resume.c_str(), e.what());
      return kBadInput;
    }
  }
  std::unique_ptr<StepEngine> engine;
  if (const int rc = choose_backend(ex, *net, sim, ckpt_every > 0 || resumed.has_value(), engine);
      rc >= 0) {
    out.reset();
    fs::remove(out_path);
    return rc;
  }
  out->set_attribute("/", "backend", engine ? engine->describe() : std::string("cpu"));
  sim.set_flush_interval(
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(ex.run.flush_interval / ex.run.dt)));
  ProgressLine progress(sim.time_ms(), static_cast<double>(steps) * ex.run.dt, !opt.quiet);
  sim.set_progress([&](const ProgressInfo& p) { progress.update(p); }, progress.interval_s());

  const auto t_run = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count();
  };
  const double wall_before = resumed ? resumed->info.wall_time_s : 0.0;
  bool wall_limit = false;
  sim.set_stop_poll([&] {
    if (opt.max_wall > 0 && !wall_limit && elapsed() >= opt.max_wall) wall_limit = true;
    return wall_limit || SignalGuard::received() != 0;
  });
  // The last checkpoint that is known to be whole (the one resumed from, at first).
  std::string last_ckpt = resumed ? opt.resume : "";
  double last_ckpt_ms = resumed ? resumed->info.time_ms() : 0.0;
  sim.set_checkpoint(ckpt_every, [&] {
    CheckpointInfo info;
    info.glia_version = GLIA_VERSION;
    info.experiment = ex.resolved_text;
    info.experiment_path = experiment_path;
    info.experiment_source = ex.source_text;
    info.overrides = resumed ? resumed->info.overrides : overrides;
    info.step = sim.current_step();
    info.dt = ex.run.dt;
    info.threads = threads;
    info.output_path = fs::absolute(out_path).string();
    info.output_counts = out->record_counts();
    info.wall_time_s = wall_before + elapsed();
    info.created = now_iso8601();
    StateArchive state;
    sim.save(state);
    write_checkpoint(ckpt_path, info, state);
    last_ckpt = ckpt_path;
    last_ckpt_ms = info.time_ms();
  });

  RunEnd end = RunEnd::completed;
  try {
    end = sim.run(steps - std::min(steps, sim.current_step()));
  } catch (const OutputError& e) {
    std::fprintf(stderr, "\nglia: error: %s\n", e.what());
    if (!last_ckpt.empty())
      std::fprintf(stderr, "glia: the last checkpoint, at t = %.1f ms, is intact: %s\n",
                   last_ckpt_ms, last_ckpt.c_str());
    return kExitFailure;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "\nglia: error: out of memory while running\n");
    return kExitFailure;
  }
  const double wall_s = elapsed();
  std::uint64_t total = 0;
  for (std::size_t p = 0; p < net->populations().size(); ++p)
    total += sim.stats(static_cast<int>(p)).total;
  progress.finish(wall_s, total);

  const double model_s = sim.time_ms() * 1e-3;
  const double rtf = model_s > 0 ? wall_s / model_s : 0.0;
  const std::size_t peak = peak_rss_bytes();
  std::printf("\n%-12s %10s %12s %8s\n", "population", "neurons", "rate (Hz)", "CV ISI");
  try {
    for (std::size_t p = 0; p < net->populations().size(); ++p) {
      const auto& pop = *net->populations()[p];
      const int pi = static_cast<int>(p);
      std::printf("%-12s %10u %12.3f %8.3f\n", pop.name().c_str(), pop.size(), sim.mean_rate_hz(pi),
                  sim.mean_cv_isi(pi));
      out->set_attribute("/metrics", "rate_" + pop.name() + "_hz", sim.mean_rate_hz(pi));
      out->set_attribute("/metrics", "cv_isi_" + pop.name(), sim.mean_cv_isi(pi));
      out->set_attribute("/metrics", "spikes_" + pop.name(),
                         static_cast<std::int64_t>(sim.stats(pi).total));
    }
    std::printf("\nspikes        %llu\n", static_cast<unsigned long long>(total));
    std::printf("simulated     %.1f ms\n", sim.time_ms());
    std::printf("build time    %s\n", format_seconds(build_s).c_str());
    std::printf("wall time     %s\n", format_seconds(wall_s).c_str());
    std::printf("realtime      %.3f (wall / model time)\n", rtf);
    std::printf("peak memory   %s (%.2f bytes per synapse)\n",
                format_bytes(static_cast<double>(peak)).c_str(),
                n_syn ? static_cast<double>(peak) / static_cast<double>(n_syn) : 0.0);
    const PhaseTimes& ph = sim.phase_times();
    std::printf("time per phase inputs %.2f s, integrate %.2f s, record %.2f s, propagate %.2f s, "
                "learn %.2f s, flush %.2f s, wait %.2f s\n",
                ph.inputs, ph.integrate, ph.record, ph.propagate, ph.learn, ph.flush, ph.wait);
    const std::vector<double>& busy = sim.thread_busy();
    if (busy.size() > 1) {
      const auto [lo, hi] = std::minmax_element(busy.begin(), busy.end());
      std::string each;
      for (double b : busy) {
        char one[32];
        std::snprintf(one, sizeof one, "%s%.2f s", each.empty() ? "" : ", ", b);
        each += one;
      }
      // A gap with equal shares of work is the cores' own: some run slower than others.
      std::printf("threads busy  %s (the busiest %.0f %% above the least busy)\n", each.c_str(),
                  *lo > 0 ? 100.0 * (*hi / *lo - 1.0) : 0.0);
      out->set_attribute("/metrics", "time_busy_min_s", *lo);
      out->set_attribute("/metrics", "time_busy_max_s", *hi);
    }
    if (branching) report_branching(ex, *branching, *out);
    std::printf("output        %s\n", out_path.c_str());
    out->set_attribute("/metrics", "time_inputs_s", ph.inputs);
    out->set_attribute("/metrics", "time_integrate_s", ph.integrate);
    out->set_attribute("/metrics", "time_record_s", ph.record);
    out->set_attribute("/metrics", "time_propagate_s", ph.propagate);
    out->set_attribute("/metrics", "time_learn_s", ph.learn);
    out->set_attribute("/metrics", "time_flush_s", ph.flush);
    out->set_attribute("/metrics", "time_wait_s", ph.wait);

    out->set_attribute("/metrics", "spikes_total", static_cast<std::int64_t>(total));
    out->set_attribute("/metrics", "neurons", static_cast<std::int64_t>(n_neurons));
    out->set_attribute("/metrics", "synapses", static_cast<std::int64_t>(n_syn));
    out->set_attribute("/metrics", "simulated_ms", sim.time_ms());
    out->set_attribute("/metrics", "build_time_s", build_s);
    out->set_attribute("/metrics", "wall_time_s", wall_before + wall_s);
    out->set_attribute("/metrics", "realtime_factor", rtf);
    out->set_attribute("/metrics", "peak_rss_bytes", static_cast<std::int64_t>(peak));
    out->set_attribute("/metrics", "network_bytes", static_cast<std::int64_t>(net->bytes()));

    int code = kExitOk;
    std::string status = "complete";
    if (end == RunEnd::non_finite) {
      const NonFinite& nf = sim.non_finite();
      const Population& pop = *net->populations()[static_cast<std::size_t>(nf.population)];
      std::string var(pop.model().state[static_cast<std::size_t>(nf.variable)].name);
      if (pop.state_width(nf.variable) > 1) var += "[" + std::to_string(nf.element) + "]";
      char where[512];
      const double t = static_cast<double>(nf.step + 1) * ex.run.dt;
      const double every = static_cast<double>(sim.finite_check_interval()) * ex.run.dt;
      std::snprintf(where, sizeof where,
                    "non-finite state at t = %.6g ms: population '%s', neuron %u, variable '%s' "
                    "= %g",
                    t, pop.name().c_str(), nf.neuron, var.c_str(), nf.value);
      std::fprintf(stderr,
                   "glia: error: %s (state is checked every %.4g ms of model time, so it became "
                   "non-finite after t = %.6g ms; of all such values the first in population, "
                   "neuron, variable order is shown). The model is unstable: check weights, "
                   "parameters and dt\n",
                   where, every, std::max(0.0, t - every));
      code = kExitNonFinite;
      status = std::string("failed: ") + where;
    } else if (end == RunEnd::stopped) {
      const int sig = SignalGuard::received();
      const std::string why =
          sig != 0 ? signal_name(sig) : "--max-wall " + format_seconds(opt.max_wall);
      if (engine)
        std::fprintf(stderr,
                     "glia: stopped by %s at t = %.1f ms (the cuda backend writes no "
                     "checkpoint)\n",
                     why.c_str(), sim.time_ms());
      else
        std::fprintf(stderr,
                     "glia: stopped by %s at t = %.1f ms; checkpoint written to %s\n"
                     "glia: resume with: glia run --resume %s\n",
                     why.c_str(), sim.time_ms(), ckpt_path.c_str(), ckpt_path.c_str());
      code = sig != 0 ? 128 + sig : kExitWallLimit;
      status = "stopped by " + why + " at t = " + std::to_string(sim.time_ms()) +
               " ms; resume with: glia run --resume " + ckpt_path;
    }
    out->set_attribute("/", "status", status);
    out->close();
    return code;
  } catch (const OutputError& e) {
    std::fprintf(stderr, "glia: error: %s\n", e.what());
    return kExitFailure;
  }
}

int check_command(const CheckOptions& opt) {
  Experiment ex;
  std::optional<SweepSpec> sweep;
  try {
    ex = load_experiment(opt.experiment, opt.overrides);
    sweep = parse_sweep(ex.source_text, opt.experiment, ex.run.seed);
    if (sweep) validate_sweep(*sweep, ex.source_text, opt.experiment, opt.overrides);
  } catch (const InputError& e) {
    return report(e);
  }
  std::printf("%s: ok\n", opt.experiment.c_str());
  std::printf("  run: %.1f ms at dt = %g ms, seed %u, %d thread(s)\n", ex.run.duration, ex.run.dt,
              ex.run.seed, resolve_threads(ex));
  for (const auto& p : ex.populations)
    std::printf("  population %-10s %8u x %s\n", p.name.c_str(), p.size, p.model.c_str());
  for (const auto& p : ex.projections)
    std::printf("  projection %-10s %s -> %s\n", p.name.c_str(), p.pre.c_str(), p.post.c_str());
  std::printf("  %zu input(s), %zu recording(s)\n", ex.inputs.size(), ex.records.size());
  if (ex.pipeline()) {
    const DatasetSpec& d = ex.dataset;
    std::printf("  pipeline: %s (%s), %u train / %u validation / %u test, %s encoding into '%s', "
                "%g ms per sample\n",
                d.name.c_str(), d.dir.c_str(), d.train, d.validation, d.test, d.encoding.c_str(),
                d.target.c_str(), d.window);
    std::printf("  training: %u images x %g ms; features: %s%s of", ex.training.images,
                ex.training.window, ex.features.counts ? "counts" : "",
                ex.features.trace_times.empty() ? "" : " + traces");
    for (const auto& p : ex.features.populations) std::printf(" %s", p.c_str());
    std::printf("; readout: softmax, %u epochs\n", ex.readout.epochs);
  }
  if (sweep) std::printf("  sweep: %s\n", sweep->describe().c_str());
  const int threads = resolve_threads(ex, opt.threads);
  std::printf("  memory: %s with %d thread(s)\n", describe_memory(ex, threads, false).c_str(),
              threads);
  if (const auto available = available_memory_bytes()) {
    const bool fits = estimate_memory(ex, threads, false).total() <= *available;
    std::printf("  available: %s%s\n", format_bytes(*available).c_str(),
                fits ? ""
                     : " -- too little: glia run refuses this (override: --ignore-memory-limit)");
  }
  return 0;
}

int info_command(const std::string& model) {
  const Registry& reg = Registry::global();
  if (model.empty()) {
    std::printf("models:\n");
    for (const auto& m : reg.models())
      std::printf("  %-14s %s\n", std::string(m.name).c_str(), std::string(m.doc).c_str());
    std::printf("\nconnection rules: all_to_all, one_to_one, fixed_probability, fixed_indegree, "
                "fixed_outdegree, fixed_total_number, distance, explicit\n");
    std::printf("inputs: poisson, spike_times, dc, step_current, noise\n");
    std::printf("backends: cpu, cuda (%s", gpu::cuda_build_description().c_str());
    if (gpu::cuda_compiled()) {
      const gpu::DeviceInfo d = gpu::probe_devices(0);
      if (d.count > 0)
        std::printf("; %d device%s, device 0: %s", d.count, d.count == 1 ? "" : "s",
                    d.name.c_str());
      else
        std::printf("; no CUDA device here: backend = \"cuda\" runs on the CPU");
    }
    std::printf(")\n");
    std::printf("plasticity rules:");
    for (const auto& r : PlasticityRegistry::global().names()) std::printf(" %s", r.c_str());
    std::printf("\nmodulators:");
    for (const auto& r : ModulatorRegistry::global().names()) std::printf(" %s", r.c_str());
    std::printf("\n\n'glia info MODEL' lists a model's parameters, state and ports; 'glia info "
                "RULE' or 'glia info MODULATOR' a rule's or modulator's.\n");
    return 0;
  }
  if (info_plasticity(model)) return 0;
  const ModelInfo* m = reg.find(model);
  if (!m) {
    const std::string near = nearest_name(model, reg.names());
    std::fprintf(stderr, "glia: error: unknown model '%s'%s\n", model.c_str(),
                 near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
    return kBadInput;
  }
  std::printf("%s: %s\n\nparameters:\n", std::string(m->name).c_str(), std::string(m->doc).c_str());
  print_params(m->params);
  std::printf("\nstate (recordable):\n");
  for (const auto& s : m->state)
    std::printf("  %-12s %-6s %12g  %s\n", std::string(s.name).c_str(), std::string(s.unit).c_str(),
                s.initial, std::string(s.doc).c_str());
  std::printf("\nports:\n");
  for (const auto& p : m->ports)
    std::printf("  %-12s %-6s %s\n", std::string(p.name).c_str(), std::string(p.unit).c_str(),
                std::string(p.doc).c_str());
  std::printf("\nintegrators:");
  for (std::size_t i = 0; i < m->integrators.size(); ++i)
    std::printf(" %s%s", std::string(m->integrators[i]).c_str(), i == 0 ? " (default)" : "");
  std::printf("\n");
  return 0;
}

} // namespace glia
