// Weight and delay monitors: snapshots equal the engine's weights at the sampled times,
// histograms count every synapse and equal a histogram of the weights, recording changes
// nothing in the run (settling pending STDP updates early included), the output does not
// depend on the thread count, bad records are reported with file, line and key, and the
// glia binary writes the same numbers under /weights.
#include "io/experiment.hpp"
#include "io/network_builder.hpp"
#include "recurrent_stdp.hpp"
#include "run_glia.hpp"
#include "sim/plasticity.hpp"
#include "sim/simulator.hpp"
#include "sim/weight_monitor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace glia;
using glia::test::read_attribute;
using glia::test::read_dataset;
using glia::test::run_glia;
using glia::test::ScratchDir;

namespace {

constexpr double kDt = 0.1;

// The plasticity tests' recurrent network (300 LIF neurons at about 120 Hz, additive
// STDP on its 8968 E->E synapses: weights drift down quickly, so every sample sees
// different values), with `extra` (records, a second projection) appended.
std::string plastic_experiment(const std::string& extra = "") {
  return glia::test::recurrent_experiment() + extra;
}

// A static projection with drawn weights and delays and multapses, for the float-weight
// and per-synapse-delay paths.
const std::string kStaticProjection = R"(
[[projection]]
name = "drawn"
pre = "E"
post = "E"
weight = { dist = "uniform", low = 0.0, high = 0.1 }
delay = { dist = "uniform", low = 0.5, high = 3.0 }
[projection.connect]
rule = "fixed_indegree"
indegree = 40
)";

// Keeps what the simulator hands a sink, in memory.
struct MemorySink final : RecordingSink {
  void declare_spikes(const std::string&, std::uint64_t) override {}
  void append_spikes(const std::string&, std::span<const double> t,
                     std::span<const std::uint64_t> ids) override {
    spike_times.insert(spike_times.end(), t.begin(), t.end());
    spike_ids.insert(spike_ids.end(), ids.begin(), ids.end());
  }
  void declare_state(int, const StateReportInfo&) override {}
  void append_state(int, std::span<const double>, std::size_t) override {}
  void flush(bool) override { ++flushes; }
  void declare_weights(int id, const WeightReportInfo& i) override { info[id] = i; }
  void append_weights(int id, std::span<const double> t, std::span<const double> rows) override {
    times[id].insert(times[id].end(), t.begin(), t.end());
    values[id].insert(values[id].end(), rows.begin(), rows.end());
  }
  void append_weight_histogram(int id, std::span<const double> t,
                               std::span<const std::uint64_t> rows) override {
    times[id].insert(times[id].end(), t.begin(), t.end());
    counts[id].insert(counts[id].end(), rows.begin(), rows.end());
  }
  int flushes = 0;
  std::vector<double> spike_times;
  std::vector<std::uint64_t> spike_ids;
  std::map<int, WeightReportInfo> info;
  std::map<int, std::vector<double>> times, values;
  std::map<int, std::vector<std::uint64_t>> counts;
};

// Connected (pre, post) pairs of a projection, one per `stride` synapses in (block, row) order.
std::vector<std::pair<std::uint32_t, std::uint32_t>> some_pairs(const Projection& pr,
                                                                std::size_t stride) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  std::size_t k = 0;
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
        if (k++ % stride == 0 &&
            std::find(out.begin(), out.end(), std::pair{j, b.target[s]}) == out.end())
          out.emplace_back(j, b.target[s]);
  return out;
}

// All weights of a projection in (pre, post, storage) order: independent of the block split.
std::vector<double> all_weights(const Projection& pr) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<double>> by_pair;
  for (const auto& b : pr.blocks)
    for (std::uint32_t j = 0; j + 1 < b.row.size(); ++j)
      for (std::uint64_t s = b.row[j]; s < b.row[j + 1]; ++s)
        by_pair[{j, b.target[s]}].push_back(pr.weight_of(b, s));
  std::vector<double> w;
  for (const auto& [k, v] : by_pair) w.insert(w.end(), v.begin(), v.end());
  return w;
}

// Counts per bin of `edges` (the last bin closed), then below and above: computed from
// the edges alone, independently of the monitor's arithmetic.
std::vector<std::uint64_t> histogram_of(const std::vector<double>& values,
                                        const std::vector<double>& edges) {
  const std::size_t bins = edges.size() - 1;
  std::vector<std::uint64_t> h(bins + 2, 0);
  for (double v : values) {
    if (v < edges.front()) {
      ++h[bins];
    } else if (v > edges.back()) {
      ++h[bins + 1];
    } else {
      const auto k = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) -
                                              edges.begin()) -
                     1;
      ++h[std::min(k, bins - 1)];
    }
  }
  return h;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

WeightMonitorRequest synapses_request(std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs,
                                      std::vector<std::uint64_t> steps) {
  WeightMonitorRequest r;
  r.pairs = std::move(pairs);
  r.schedule.steps = std::move(steps);
  return r;
}

WeightMonitorRequest histogram_request(std::uint32_t bins, double low, double high,
                                       std::uint64_t every) {
  WeightMonitorRequest r;
  r.histogram = true;
  r.bins = bins;
  r.low = low;
  r.high = high;
  r.schedule.every = every;
  return r;
}

// What a run with monitors gives: the sink's contents (spikes included), the final
// weights, and the final weights of the first monitor's columns.
struct Outcome {
  MemorySink sink;
  std::vector<double> weights, columns;
};

// Runs the plastic experiment for `steps` (in two run() calls) with the given monitors.
Outcome run_with(int threads, const std::vector<WeightMonitorRequest>& monitors,
                 std::uint64_t steps = 5000) {
  const Experiment ex = parse_experiment(plastic_experiment(), "w.toml");
  auto net = build_network(ex, threads);
  Outcome out;
  Simulator sim(*net, &out.sink);
  sim.set_flush_interval(300);
  sim.record_spikes(0);
  for (const auto& m : monitors) sim.record_weights(m);
  sim.run(steps / 2);
  sim.run(steps - steps / 2);
  const Projection& pr = net->projections()[0];
  out.weights = all_weights(pr);
  for (const auto& [j, i] : monitors.empty() ? decltype(monitors[0].pairs){} : monitors[0].pairs)
    for (const auto& [b, s] : find_synapses(pr, j, i))
      out.columns.push_back(pr.weight_of(pr.blocks[b], s));
  return out;
}

} // namespace

TEST_CASE("weight snapshots equal the engine's weights at the sampled times", "[weights]") {
  const Experiment ex = parse_experiment(plastic_experiment(), "w.toml");
  const std::vector<std::uint64_t> steps{0, 1, 100, 1234, 2500, 4999, 5000};
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  {
    auto net = build_network(ex, 2);
    pairs = some_pairs(net->projections()[0], 700);
  }
  REQUIRE(pairs.size() >= 10);
  MemorySink sink;
  auto net = build_network(ex, 2);
  Simulator sim(*net, &sink);
  sim.set_flush_interval(300);
  sim.record_weights(synapses_request(pairs, steps));
  sim.run(5000);
  const std::size_t cols = sink.info[0].pre.size();
  REQUIRE(cols == pairs.size()); // fixed_probability: no multapses
  REQUIRE(sink.times[0].size() == steps.size());
  REQUIRE(sink.values[0].size() == steps.size() * cols);

  double moved = 0.0;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    CHECK(sink.times[0][k] == Approx(static_cast<double>(steps[k]) * kDt));
    // Reference: a fresh network run for exactly that many steps, weights read after run().
    auto ref = build_network(ex, 1);
    Simulator ref_sim(*ref);
    ref_sim.run(steps[k]);
    const Projection& pr = ref->projections()[0];
    std::vector<double> expected,
        got(sink.values[0].begin() + static_cast<std::ptrdiff_t>(k * cols),
            sink.values[0].begin() + static_cast<std::ptrdiff_t>((k + 1) * cols));
    for (const auto& [j, i] : pairs) {
      const auto at = find_synapses(pr, j, i);
      REQUIRE(at.size() == 1);
      expected.push_back(pr.weight_of(pr.blocks[at[0].first], at[0].second));
      moved = std::max(moved, std::abs(expected.back() - 0.5));
    }
    INFO("sample after " << steps[k] << " steps");
    CHECK(same_bits(got, expected));
  }
  std::printf("weight snapshots: %zu synapses x %zu times equal the engine's weights; largest "
              "change from 0.5: %.4f\n",
              cols, steps.size(), moved);
  CHECK(moved > 0.1); // the weights really moved
}

TEST_CASE("weight histograms count every synapse and equal a histogram of the weights",
          "[weights]") {
  const Experiment ex = parse_experiment(plastic_experiment(kStaticProjection), "w.toml");
  MemorySink sink;
  auto net = build_network(ex, 2);
  Simulator sim(*net, &sink);
  sim.set_flush_interval(700);
  sim.record_weights(histogram_request(25, 0.0, 0.45, 1000)); // w(0) = 0.5 is above the range
  WeightMonitorRequest drawn = histogram_request(10, 0.0, 0.1, 2500);
  drawn.projection = 1;
  sim.record_weights(drawn);
  WeightMonitorRequest delays = histogram_request(20, 1.0, 3.0, 2500); // drawn from [0.5, 3]
  delays.projection = 1;
  delays.variable = SynapseVariable::delay;
  sim.record_weights(delays);
  sim.run(5000);

  const Projection& pr = net->projections()[0];
  const Projection& st = net->projections()[1];
  const std::uint64_t n = pr.n_synapses();
  CHECK(sink.info[0].n_synapses == n);
  REQUIRE(sink.times[0].size() == 6); // 0, 100, ..., 500 ms
  const std::size_t cols = 25 + 2;
  for (std::size_t r = 0; r < 6; ++r) {
    std::uint64_t sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += sink.counts[0][r * cols + c];
    CHECK(sum == n);
  }
  // First row: every weight is still 0.5, above the last edge.
  CHECK(sink.counts[0][26] == n);
  const std::vector<std::uint64_t> last(sink.counts[0].end() - static_cast<std::ptrdiff_t>(cols),
                                        sink.counts[0].end());
  const auto expected = histogram_of(all_weights(pr), sink.info[0].bin_edges);
  CHECK(last == expected);
  CHECK(last[26] < n / 2); // most weights moved into the range
  std::printf("plastic histogram at 500 ms: %llu synapses, %llu above 0.45, largest bin %llu\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(last[26]),
              static_cast<unsigned long long>(*std::max_element(last.begin(), last.end() - 2)));

  // The static projection: float weights, per-synapse delays (in ms), every sample the same.
  std::vector<double> w, d;
  for (const auto& b : st.blocks)
    for (std::uint64_t s = 0; s < b.size(); ++s) {
      w.push_back(st.weight_of(b, s));
      d.push_back(static_cast<double>(st.delay_of(b, s)) * kDt);
    }
  CHECK(st.n_synapses() == 300u * 40u);
  const auto hw = histogram_of(w, sink.info[1].bin_edges),
             hd = histogram_of(d, sink.info[2].bin_edges);
  CHECK(std::vector<std::uint64_t>(sink.counts[1].begin(), sink.counts[1].begin() + 12) == hw);
  CHECK(std::vector<std::uint64_t>(sink.counts[2].begin(), sink.counts[2].begin() + 22) == hd);
  CHECK(sink.info[2].unit == "ms");
  CHECK(sink.info[1].unit == "mV");
  // Delays of 0.5 to 0.9 ms are below the first edge (1 ms).
  CHECK(hd[20] > 1000);
  std::printf("drawn delays: %llu below 1 ms, %llu in the last bin [2.9, 3.0]\n",
              static_cast<unsigned long long>(hd[20]), static_cast<unsigned long long>(hd[19]));
}

TEST_CASE("multapses give one column per synapse", "[weights]") {
  const Experiment ex = parse_experiment(plastic_experiment(kStaticProjection), "w.toml");
  auto net = build_network(ex, 2);
  const Projection& st = net->projections()[1];
  // A pair connected twice by fixed_indegree with multapses.
  std::pair<std::uint32_t, std::uint32_t> twice{0, 0};
  bool found = false;
  for (std::uint32_t j = 0; j < 300 && !found; ++j)
    for (std::uint32_t i = 0; i < 300 && !found; ++i)
      if (find_synapses(st, j, i).size() == 2) {
        twice = {j, i};
        found = true;
      }
  REQUIRE(found);
  MemorySink sink;
  Simulator sim(*net, &sink);
  WeightMonitorRequest r = synapses_request({twice}, {10});
  r.projection = 1;
  sim.record_weights(r);
  sim.run(10);
  REQUIRE(sink.info[0].pre.size() == 2);
  CHECK(sink.info[0].pre[0] == twice.first);
  CHECK(sink.info[0].post[1] == twice.second);
  const auto at = find_synapses(st, twice.first, twice.second);
  CHECK(sink.values[0][0] == st.weight_of(st.blocks[at[0].first], at[0].second));
  CHECK(sink.values[0][1] == st.weight_of(st.blocks[at[1].first], at[1].second));
}

TEST_CASE("recording weights changes nothing in the run, for any thread count",
          "[weights][determinism]") {
  // Every step: settles the pending post-synaptic updates of every block every step.
  std::vector<WeightMonitorRequest> monitors;
  {
    const Experiment ex = parse_experiment(plastic_experiment(), "w.toml");
    auto net = build_network(ex, 1);
    WeightMonitorRequest snap = synapses_request(some_pairs(net->projections()[0], 500), {});
    snap.schedule.every = 1;
    monitors.push_back(snap);
    monitors.push_back(histogram_request(50, 0.0, 1.0, 1));
    WeightMonitorRequest d = histogram_request(4, 0.0, 2.0, 7);
    d.variable = SynapseVariable::delay;
    monitors.push_back(d);
  }
  const Outcome off = run_with(1, {});
  const Outcome on1 = run_with(1, monitors), on2 = run_with(2, monitors),
                on3 = run_with(3, monitors);
  REQUIRE(off.sink.spike_ids.size() > 10000);
  for (const Outcome* o : {&on1, &on2, &on3}) {
    CHECK(o->sink.spike_ids == off.sink.spike_ids);
    CHECK(same_bits(o->sink.spike_times, off.sink.spike_times));
    CHECK(same_bits(o->weights, off.weights));
  }
  // The monitors' output: bitwise the same with 1, 2 and 3 threads.
  for (const Outcome* o : {&on2, &on3}) {
    for (int id = 0; id < 3; ++id) CHECK(same_bits(o->sink.times.at(id), on1.sink.times.at(id)));
    CHECK(same_bits(o->sink.values.at(0), on1.sink.values.at(0)));
    CHECK(o->sink.counts.at(1) == on1.sink.counts.at(1));
    CHECK(o->sink.counts.at(2) == on1.sink.counts.at(2));
  }
  CHECK(on1.sink.times.at(0).size() == 5001); // 0, 1, ..., 5000 steps
  CHECK(on1.sink.times.at(2).size() == 5000 / 7 + 1);
  // The last snapshot row equals the weights read after run().
  const std::size_t cols = on1.sink.info.at(0).pre.size();
  const auto& v = on1.sink.values.at(0);
  CHECK(same_bits(std::vector<double>(v.end() - static_cast<std::ptrdiff_t>(cols), v.end()),
                  on1.columns));
  std::printf("monitors every step (%zu synapse columns, 2 histograms): %zu spikes and %zu final "
              "weights bitwise equal with and without them, monitor output equal with 1, 2, 3 "
              "threads\n",
              cols, off.sink.spike_ids.size(), off.weights.size());
}

TEST_CASE("monitors without a sink keep every sample", "[weights]") {
  const Experiment ex = parse_experiment(plastic_experiment(), "w.toml");
  auto net = build_network(ex, 2);
  Simulator sim(*net);
  sim.set_flush_interval(64);
  sim.record_weights(histogram_request(8, 0.0, 1.0, 100));
  sim.run(1000);
  sim.run(1000);
  const auto& m = sim.weight_monitors().monitors()[0];
  REQUIRE(m.n_rows == 21); // 0, 10, ..., 200 ms
  CHECK(m.times[20] == Approx(200.0));
  for (std::size_t r = 0; r < m.n_rows; ++r) {
    std::uint64_t sum = 0;
    for (std::size_t c = 0; c < m.columns; ++c) sum += m.counts[r * m.columns + c];
    CHECK(sum == net->projections()[0].n_synapses());
  }
  const std::vector<std::uint64_t> last(m.counts.begin() + 20 * 10, m.counts.begin() + 21 * 10);
  CHECK(last == histogram_of(all_weights(net->projections()[0]), m.edges));
}

TEST_CASE("bad weight records name file, line and key", "[weights][io]") {
  // The record starts on the line after the experiment: line L + 1 is [[record]].
  const std::string base = plastic_experiment();
  const int L = static_cast<int>(std::count(base.begin(), base.end(), '\n'));
  auto error_of = [&](const std::string& record) {
    try {
      parse_experiment(base + "[[record]]\ntype = \"weights\"\n" + record, "w.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto at = [&](int offset) { return "w.toml:" + std::to_string(L + offset) + ":"; };
  // Line L + 3 is the first line of `record`.
  std::string e = error_of("projection = \"E-E\"\ninterval = 1.0\nhistogram = { bins = 5, low = "
                           "0.0, high = 1.0 }\n");
  CHECK_THAT(e, Catch::Contains(at(3)) &&
                    Catch::Contains("record #0.projection: unknown projection 'E-E' (did you mean "
                                    "'E->E'?)"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1], [300, 2]]\n");
  CHECK_THAT(e, Catch::Contains(at(5)) &&
                    Catch::Contains("record #0.synapses[1]: pre neuron 300 is out of range "
                                    "(population 'E' has 300 neurons)"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1], [0, 1]]\n");
  CHECK_THAT(e, Catch::Contains(at(5)) && Catch::Contains("pair [0, 1] is listed twice"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1, 2]]\n");
  CHECK_THAT(e, Catch::Contains("record #0.synapses[0]: expected a [pre, post] pair"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nhistogram = { bins = 0, low = 0.0, high = "
               "1.0 }\n");
  CHECK_THAT(e, Catch::Contains(at(5)) &&
                    Catch::Contains("record #0.histogram.bins: must be an integer in [1, "));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nhistogram = { bins = 5, low = 1.0, high = "
               "1.0 }\n");
  CHECK_THAT(e, Catch::Contains(at(5)) &&
                    Catch::Contains("record #0.histogram.high: must be greater than low = 1"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nhistogram = { bins = 5, low = 0.0, hihg = "
               "1.0 }\n");
  CHECK_THAT(e, Catch::Contains("record #0.histogram.hihg: unknown key (did you mean 'high'?)"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\n");
  CHECK_THAT(e, Catch::Contains("record #0.synapses: required key missing"));
  e = error_of(
      "projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1]]\nhistogram = { bins = 5, "
      "low = 0.0, high = 1.0 }\n");
  CHECK_THAT(e, Catch::Contains(at(6)) && Catch::Contains("not both"));
  e = error_of("projection = \"E->E\"\ninterval = 0.25\nsynapses = [[0, 1]]\n");
  CHECK_THAT(e, Catch::Contains(at(4)) &&
                    Catch::Contains("record #0.interval: must be a multiple of the time step"));
  e = error_of("projection = \"E->E\"\ntimes = [0.0, 5.0, 5.0]\nsynapses = [[0, 1]]\n");
  CHECK_THAT(e, Catch::Contains(at(4)) &&
                    Catch::Contains("record #0.times[2]: times must increase, got 5 after 5"));
  e = error_of("projection = \"E->E\"\ntimes = [1.0]\ninterval = 1.0\nsynapses = [[0, 1]]\n");
  CHECK_THAT(e, Catch::Contains("record #0.times: give either 'times' or 'interval'"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nstart = -0.1\nsynapses = [[0, 1]]\n");
  CHECK_THAT(e,
             Catch::Contains(at(5)) &&
                 Catch::Contains("record #0.start: must be >= 0 and a multiple of the time step"));
  // A valid one: the schedule in steps.
  const Experiment ok = parse_experiment(
      base +
          "[[record]]\ntype = \"weights\"\nprojection = \"E->E\"\ninterval = 2.5\nstart = 0.3\n"
          "histogram = { bins = 3, low = 0.0, high = 1.0 }\nvariables = [\"delay\", \"weight\"]\n",
      "w.toml");
  CHECK(ok.records[0].weights.start == 0.3);
  CHECK(ok.records[0].interval == 2.5);
  CHECK(ok.records[0].variables == std::vector<std::string>{"delay", "weight"});
  auto net = build_network(ok, 1);
  Simulator sim(*net);
  attach_records(ok, sim);
  REQUIRE(sim.weight_monitors().monitors().size() == 2);
  const SampleSchedule& sch = sim.weight_monitors().monitors()[0].request.schedule;
  CHECK(sch.start == 3);
  CHECK(sch.every == 25);
  CHECK(sch.count(2) == 0);
  CHECK(sch.count(3) == 1);
  CHECK(sch.count(53) == 3);
  CHECK(sch.contains(28));
  CHECK_FALSE(sch.contains(29));
  e = error_of("projection = \"E->E\"\nsynapses = [[0, 1]]\n");
  CHECK_THAT(e, Catch::Contains("record #0.interval: required key missing"));
  e = error_of(
      "projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1]]\nvariables = [\"wieght\"]\n");
  CHECK_THAT(e, Catch::Contains(at(6)) &&
                    Catch::Contains("record #0.variables[0]: unknown synapse variable 'wieght' "
                                    "(did you mean 'weight'?)"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1]]\nsynapse = 3\n");
  CHECK_THAT(e, Catch::Contains("record #0.synapse: unknown key (did you mean 'synapses'?)"));
  e = error_of("projection = \"E->E\"\ninterval = 1.0\nsynapses = [[0, 1]]\n\n[[record]]\ntype = "
               "\"weights\"\nprojection = \"E->E\"\ninterval = 2.0\nsynapses = [[0, 2]]\n");
  CHECK_THAT(e, Catch::Contains("record #1: synapses of 'weight' of projection 'E->E' are already "
                                "recorded at " +
                                at(1)));
}

TEST_CASE("glia run writes weight reports under /weights", "[weights][cli]") {
  ScratchDir dir("weights");
  // Connected and unconnected pairs, from the network the binary will build.
  const Experiment probe = parse_experiment(plastic_experiment(), "w.toml");
  auto net = build_network(probe, 1);
  const Projection& pr = net->projections()[0];
  const auto pairs = some_pairs(pr, 1500);
  REQUIRE(pairs.size() >= 5);
  std::pair<std::uint32_t, std::uint32_t> missing{0, 0};
  while (!find_synapses(pr, missing.first, missing.second).empty()) ++missing.second;
  std::string list;
  for (const auto& [j, i] : pairs)
    list += (list.empty() ? "[" : ", [") + std::to_string(j) + ", " + std::to_string(i) + "]";
  const std::string records = R"(
[[record]]
type = "weights"
projection = "E->E"
histogram = { bins = 20, low = 0.0, high = 1.0 }
interval = 100.0

[[record]]
type = "weights"
projection = "E->E"
variables = ["weight", "delay"]
times = [0.0, 12.3, 250.0, 499.9]
synapses = [)" + list + "]\n";
  const std::string path = dir.write("w.toml", plastic_experiment(records));
  const auto r =
      run_glia("run " + path + " -q --threads 2 --set run.duration=500 -o " + (dir / "w.h5"), dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string out = dir / "w.h5";

  // The same monitors in process, 1 thread: the file must hold exactly their numbers.
  MemorySink sink;
  Simulator sim(*net, &sink);
  attach_records(parse_experiment(plastic_experiment(records), "w.toml"), sim);
  sim.run(5000);

  const std::string h = "/weights/E->E/weight/histogram/";
  const auto counts = read_dataset<std::uint64_t>(out, h + "counts");
  const auto under = read_dataset<std::uint64_t>(out, h + "underflow");
  const auto over = read_dataset<std::uint64_t>(out, h + "overflow");
  const auto edges = read_dataset<double>(out, h + "bin_edges");
  const auto time = read_dataset<double>(out, h + "mapping/time");
  REQUIRE(counts.size() == 6 * 20); // 0, 100, ..., 500 ms
  REQUIRE(under.size() == 6);
  REQUIRE(edges.size() == 21);
  CHECK(edges == sink.info[0].bin_edges);
  CHECK(time == std::vector<double>{0.0, 600.0, 100.0});
  const double n = read_attribute(out, h, "n_synapses");
  CHECK(n == static_cast<double>(pr.n_synapses()));
  for (std::size_t row = 0; row < 6; ++row) {
    std::uint64_t sum = under[row] + over[row];
    for (std::size_t c = 0; c < 20; ++c) {
      sum += counts[row * 20 + c];
      CHECK(counts[row * 20 + c] == sink.counts[0][row * 22 + c]);
    }
    CHECK(static_cast<double>(sum) == n);
  }

  const std::string s = "/weights/E->E/weight/synapses/";
  const auto data = read_dataset<double>(out, s + "data");
  CHECK(same_bits(data, sink.values[1]));
  CHECK(data.size() == 4 * pairs.size());
  // Sample times are step counts times dt, as spike times are.
  const auto times = read_dataset<double>(out, s + "mapping/times");
  REQUIRE(times.size() == 4);
  for (std::size_t k = 0; k < 4; ++k)
    CHECK(times[k] == static_cast<double>(std::array{0, 123, 2500, 4999}[k]) * kDt);
  const auto pre = read_dataset<std::uint64_t>(out, s + "mapping/pre");
  const auto post = read_dataset<std::uint64_t>(out, s + "mapping/post");
  REQUIRE(pre.size() == pairs.size());
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    CHECK(pre[k] == pairs[k].first);
    CHECK(post[k] == pairs[k].second);
  }
  CHECK(data[0] == 0.5);
  const auto delays = read_dataset<double>(out, "/weights/E->E/delay/synapses/data");
  CHECK(delays == std::vector<double>(4 * pairs.size(), 1.5));
  std::printf("glia run: /weights/E->E/weight/histogram %zu x 20, /weights/E->E/weight/synapses "
              "4 x %zu, equal to the in-process monitors\n",
              under.size(), pairs.size());

  // A pair the connection rule did not draw: exit 2 at the pair's line, no output file.
  const std::string bad_list =
      list + ", [" + std::to_string(missing.first) + ", " + std::to_string(missing.second) + "]";
  std::string bad = plastic_experiment(records);
  bad.replace(bad.find(list), list.size(), bad_list);
  const std::string bad_path = dir.write("bad.toml", bad);
  const int line = static_cast<int>(std::count(bad.begin(), bad.end(), '\n'));
  const auto b = run_glia("run " + bad_path + " -q -o " + (dir / "bad.h5"), dir);
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::Contains("bad.toml:" + std::to_string(line) + ":") &&
                        Catch::Contains("record #1.synapses[" + std::to_string(pairs.size()) +
                                        "]: neurons [" + std::to_string(missing.first) + ", " +
                                        std::to_string(missing.second) +
                                        "] are not connected by projection 'E->E'"));
  CHECK_FALSE(std::filesystem::exists(dir / "bad.h5"));
}
