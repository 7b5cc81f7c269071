// Scatter-add micro-benchmark: the inner loop of glia's spike propagation, measured
// alone, to tell how close the simulator's delivery comes to what this machine can do.
//
// A projection is stored as glia stores a static one: compressed rows by source neuron,
// each row the sorted 32-bit indices of its targets. A "spike" walks one row and adds a
// constant weight into a double array the size of one ring-buffer slot of the target
// population. Defaults are Brunel's E->E projection: rows of 1000 targets drawn with
// replacement out of 10 000, 10 000 rows (40 MB of indices, streamed from memory as in
// the simulator), sources drawn at random. Two layouts of the row data:
//   stream  all rows (larger than the caches), random source order
//   hot     16 rows only (cache-resident indices): the pure scatter-add rate
// and two thread counts: 1, and 2 threads on disjoint halves of the slot, each with its
// own rows restricted to its half (glia's per-thread synapse blocks), both walking the
// same spikes. Result: updates (synapse visits) per second, best of 3 passes.
//
// Usage: glia_scatter_add [--size N] [--row K] [--rows R] [--seconds S] [--json]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::uint32_t size = 10000; // slot length (target population size)
  std::uint32_t row = 1000;   // targets per row (out-degree into this population)
  std::uint32_t rows = 10000; // rows of the "stream" layout (source population size)
  double seconds = 0.4;       // approximate length of one timed pass
  bool json = false;
};

// Rows restricted to targets in [lo, hi): what one thread of glia owns.
struct Csr {
  std::vector<std::uint64_t> offset;
  std::vector<std::uint32_t> target;
  std::size_t bytes() const { return offset.size() * 8 + target.size() * 4; }
};

// Row r is the same draw for every [lo, hi): seeded by its index alone.
Csr make_csr(const Options& o, std::uint32_t n_rows, std::uint32_t lo, std::uint32_t hi) {
  Csr c;
  c.offset.reserve(n_rows + 1);
  c.offset.push_back(0);
  std::vector<std::uint32_t> row(o.row);
  for (std::uint32_t r = 0; r < n_rows; ++r) {
    std::mt19937_64 gen(0x9e3779b97f4a7c15ull ^ r);
    std::uniform_int_distribution<std::uint32_t> pick(0, o.size - 1);
    for (auto& t : row) t = pick(gen);
    std::sort(row.begin(), row.end());
    for (std::uint32_t t : row)
      if (t >= lo && t < hi) c.target.push_back(t);
    c.offset.push_back(c.target.size());
  }
  return c;
}

// The propagation loop of glia (constant weight, constant delay).
std::uint64_t deliver(const Csr& c, const std::vector<std::uint32_t>& spikes, std::size_t n,
                      double* slot, double w) {
  const std::uint32_t* tgt = c.target.data();
  std::uint64_t updates = 0;
  const std::size_t m = spikes.size();
  for (std::size_t s = 0; s < n; ++s) {
    const std::uint32_t src = spikes[s % m];
    const std::uint64_t a = c.offset[src], e = c.offset[src + 1];
    for (std::uint64_t k = a; k < e; ++k) slot[tgt[k]] += w;
    updates += e - a;
  }
  return updates;
}

struct Pass {
  double seconds = 0;
  std::uint64_t updates = 0;
};

// Every thread delivers the same n spikes through its own rows into its part of `slot`.
Pass timed_pass(const std::vector<Csr>& parts, const std::vector<std::uint32_t>& spikes,
                std::size_t n, std::vector<double>& slot) {
  std::vector<std::uint64_t> counts(parts.size(), 0);
  const auto t0 = std::chrono::steady_clock::now();
  if (parts.size() == 1) {
    counts[0] = deliver(parts[0], spikes, n, slot.data(), 0.1);
  } else {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < parts.size(); ++t)
      threads.emplace_back([&, t] { counts[t] = deliver(parts[t], spikes, n, slot.data(), 0.1); });
    for (auto& th : threads) th.join();
  }
  const auto t1 = std::chrono::steady_clock::now();
  Pass p;
  p.seconds = std::chrono::duration<double>(t1 - t0).count();
  for (auto c : counts) p.updates += c;
  return p;
}

struct Result {
  std::string layout;
  int threads = 0;
  std::uint32_t rows = 0;
  std::size_t index_bytes = 0;
  double updates_per_s = 0;
};

Result measure(const Options& o, const std::string& layout, std::uint32_t n_rows, int n_threads,
               std::vector<double>& slot, double& checksum) {
  std::vector<Csr> parts;
  for (int t = 0; t < n_threads; ++t) {
    const auto lo = static_cast<std::uint32_t>(std::uint64_t{o.size} * t / n_threads);
    const auto hi = static_cast<std::uint32_t>(std::uint64_t{o.size} * (t + 1) / n_threads);
    parts.push_back(make_csr(o, n_rows, lo, hi));
  }
  std::mt19937_64 gen(12345);
  std::uniform_int_distribution<std::uint32_t> src(0, n_rows - 1);
  std::vector<std::uint32_t> spikes(1u << 20);
  for (auto& s : spikes) s = src(gen);

  std::fill(slot.begin(), slot.end(), 0.0);
  std::size_t n = 256; // calibrate: double until a pass lasts 1/8 of the target
  while (timed_pass(parts, spikes, n, slot).seconds < o.seconds / 8) n *= 2;
  n = static_cast<std::size_t>(static_cast<double>(n) * 8);
  Result r{layout, n_threads, n_rows, 0, 0.0};
  for (const auto& c : parts) r.index_bytes += c.bytes();
  for (int rep = 0; rep < 3; ++rep) {
    const Pass p = timed_pass(parts, spikes, n, slot);
    r.updates_per_s = std::max(r.updates_per_s, static_cast<double>(p.updates) / p.seconds);
  }
  for (double x : slot) checksum += x;
  return r;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> double {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return std::stod(argv[++i]);
    };
    if (a == "--size")
      o.size = static_cast<std::uint32_t>(value());
    else if (a == "--row")
      o.row = static_cast<std::uint32_t>(value());
    else if (a == "--rows")
      o.rows = static_cast<std::uint32_t>(value());
    else if (a == "--seconds")
      o.seconds = value();
    else if (a == "--json")
      o.json = true;
    else
      throw std::invalid_argument("unknown argument " + a);
  }
  return o.size > 1 && o.row > 0 && o.rows > 0 && o.seconds > 0;
}

void print_text(const Options& o, const std::vector<Result>& rs, double checksum) {
  std::printf("scatter-add: slot of %u doubles (%.0f KiB), rows of %u sorted targets\n", o.size,
              o.size * 8.0 / 1024, o.row);
  for (const auto& r : rs)
    std::printf("  %-6s %6u rows, %8.2f MiB of indices, %d thread%s: %8.1f M updates/s\n",
                r.layout.c_str(), r.rows, static_cast<double>(r.index_bytes) / (1 << 20), r.threads,
                r.threads == 1 ? " " : "s", r.updates_per_s * 1e-6);
  std::printf("  (checksum %.6g)\n", checksum);
}

void print_json(const Options& o, const std::vector<Result>& rs, double checksum) {
  std::printf("{\"size\": %u, \"row\": %u, \"checksum\": %.17g, \"results\": [", o.size, o.row,
              checksum);
  for (std::size_t i = 0; i < rs.size(); ++i)
    std::printf("%s{\"layout\": \"%s\", \"threads\": %d, \"rows\": %u, \"index_bytes\": %zu, "
                "\"updates_per_s\": %.6g}",
                i ? ", " : "", rs[i].layout.c_str(), rs[i].threads, rs[i].rows, rs[i].index_bytes,
                rs[i].updates_per_s);
  std::printf("]}\n");
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    if (!parse(argc, argv, o)) throw std::invalid_argument("sizes and --seconds must be > 0");
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "glia_scatter_add: %s\nusage: glia_scatter_add [--size N] [--row K] "
                 "[--rows R] [--seconds S] [--json]\n",
                 e.what());
    return 2;
  }
  std::vector<double> slot(o.size, 0.0);
  double checksum = 0;
  std::vector<Result> rs;
  for (int threads : {1, 2}) {
    rs.push_back(measure(o, "stream", o.rows, threads, slot, checksum));
    rs.push_back(measure(o, "hot", std::min<std::uint32_t>(16, o.rows), threads, slot, checksum));
  }
  if (o.json)
    print_json(o, rs, checksum);
  else
    print_text(o, rs, checksum);
  return 0;
}
