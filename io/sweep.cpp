// The [sweep] table: parsing, expansion into points and validation against the
// experiment (io/sweep.hpp). Values are carried as TOML text because each point is run
// as `glia run --set key=TEXT`, and validation applies the very same strings.
#include "io/sweep.hpp"

#include "io/toml_guard.hpp"
#include "sim/random.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace glia {

namespace {

// Random draws of a sweep: StreamKind values are the engine's; this one is the
// sweep's own, outside their range, so no network draws the same numbers.
constexpr std::uint32_t kSweepStream = 0x53575050u; // "SWPP"
// More points than any cluster runs from one file; the list itself stays small.
constexpr std::size_t kMaxPoints = 1000000;

std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v); // shortest exact form
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// A value as --set reads it back (inline TOML).
std::string toml_text(const toml::node& n, const TomlShield& shield) {
  if (const auto* i = n.as_integer()) return std::to_string(i->get());
  if (const auto* f = n.as_floating_point()) return float_text(f->get());
  if (const auto* b = n.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* s = n.as_string()) return toml_quoted(shield.restore(s->get()));
  if (const auto* a = n.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < a->size(); ++i)
      out += (i ? ", " : "") + toml_text(*a->get(i), shield);
    return out + "]";
  }
  if (const auto* t = n.as_table()) {
    std::string out = "{";
    const char* sep = " ";
    for (auto&& [k, v] : *t) {
      out += sep + toml_quoted(shield.restore(k.str())) + " = " + toml_text(v, shield);
      sep = ", ";
    }
    return out + (t->empty() ? "}" : " }");
  }
  std::ostringstream s; // dates and times
  if (const auto* d = n.as_date()) s << d->get();
  if (const auto* d = n.as_time()) s << d->get();
  if (const auto* d = n.as_date_time()) s << d->get();
  return s.str();
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  default:
    return "a date or time";
  }
}

// One key of [sweep.values]: its candidate values (grid: the array; random: a choice
// among the array, or a distribution).
struct KeySource {
  std::string key;
  SourceLocation where;
  std::vector<std::string> values;         // grid, or random choice
  std::vector<SourceLocation> value_where; // per value
  enum class Dist { none, uniform, log_uniform } dist = Dist::none;
  double low = 0, high = 0;
  bool integer = false;
};

class SweepReader {
public:
  SweepReader(std::string path, const TomlShield& shield)
      : path_(std::move(path)), shield_(shield) {}

  SourceLocation loc(const toml::node& n) const {
    const auto& b = n.source().begin;
    return {path_, static_cast<int>(b.line), static_cast<int>(b.column)};
  }
  SourceLocation loc(const toml::key& k) const {
    const auto& b = k.source().begin;
    return {path_, static_cast<int>(b.line), static_cast<int>(b.column)};
  }
  [[noreturn]] void fail(const SourceLocation& where, const std::string& key,
                         const std::string& what) const {
    throw InputError(where.str() + ": " + key + ": " + what);
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& key,
                         const std::string& what) const {
    fail(loc(n), key, what);
  }

  double number(const toml::node& n, const std::string& key) const {
    if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
    if (const auto* f = n.as_floating_point()) {
      if (!std::isfinite(f->get())) fail(n, key, "expected a finite number");
      return f->get();
    }
    fail(n, key, "expected a number, got " + type_name(n));
  }
  std::int64_t integer(const toml::node& n, const std::string& key, std::int64_t lo,
                       std::int64_t hi) const {
    const auto* i = n.as_integer();
    if (!i) fail(n, key, "expected an integer, got " + type_name(n));
    if (i->get() < lo || i->get() > hi)
      fail(n, key,
           "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
               std::to_string(i->get()));
    return i->get();
  }

  SweepSpec read(const toml::table& sweep, std::uint32_t run_seed) {
    SweepSpec s;
    s.where = loc(sweep);
    static const std::vector<std::string> allowed = {
        "mode", "seeds", "samples", "sample_seed", "threads_per_point", "values"};
    for (auto&& [k, v] : sweep) {
      const std::string name(k.str());
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      const std::string near = nearest_name(name, allowed);
      fail(loc(k), "sweep." + name,
           "unknown key" + (near.empty() ? " (expected one of mode, seeds, samples, sample_seed, "
                                           "threads_per_point, values)"
                                         : " (did you mean '" + near + "'?)"));
    }
    if (const toml::node* m = sweep.get("mode")) {
      const auto* str = m->as_string();
      if (!str || (str->get() != "grid" && str->get() != "random"))
        fail(*m, "sweep.mode", "expected \"grid\" or \"random\"");
      s.mode = str->get() == "grid" ? SweepSpec::Mode::grid : SweepSpec::Mode::random;
    }
    const bool random = s.mode == SweepSpec::Mode::random;
    if (const toml::node* n = sweep.get("samples")) {
      if (!random)
        fail(*n, "sweep.samples", "only for mode = \"random\" (a grid runs every combination)");
      s.samples = static_cast<int>(integer(*n, "sweep.samples", 1, 1000000));
    } else if (random) {
      fail(sweep, "sweep.samples", "required key missing: how many points mode = \"random\" draws");
    }
    if (const toml::node* n = sweep.get("sample_seed")) {
      if (!random) fail(*n, "sweep.sample_seed", "only for mode = \"random\"");
      s.sample_seed = static_cast<std::uint32_t>(integer(*n, "sweep.sample_seed", 0, 4294967295ll));
    }
    if (const toml::node* n = sweep.get("threads_per_point"))
      s.threads_per_point = static_cast<int>(integer(*n, "sweep.threads_per_point", 1, 4096));
    if (const toml::node* n = sweep.get("seeds")) {
      if (n->is_integer()) {
        const auto count = integer(*n, "sweep.seeds", 1, 1000000);
        for (std::int64_t i = 1; i <= count; ++i) s.seeds.push_back(static_cast<std::uint32_t>(i));
      } else if (const auto* a = n->as_array()) {
        if (a->empty()) fail(*n, "sweep.seeds", "expected at least one seed");
        for (std::size_t i = 0; i < a->size(); ++i) {
          const std::string key = "sweep.seeds[" + std::to_string(i) + "]";
          const auto seed = static_cast<std::uint32_t>(integer(*a->get(i), key, 0, 4294967295ll));
          if (std::find(s.seeds.begin(), s.seeds.end(), seed) != s.seeds.end())
            fail(*a->get(i), key, "seed " + std::to_string(seed) + " is listed twice");
          s.seeds.push_back(seed);
        }
      } else {
        fail(*n, "sweep.seeds",
             "expected an array of seeds or a count N (seeds 1..N), got " + type_name(*n));
      }
    } else {
      s.seeds.push_back(run_seed);
    }

    const toml::node* vn = sweep.get("values");
    if (!vn)
      fail(sweep, "sweep.values",
           "required key missing: the [sweep.values] table of keys to sweep");
    const toml::table* values = vn->as_table();
    if (!values)
      fail(*vn, "sweep.values", "expected a table of key = values, got " + type_name(*vn));
    if (values->empty()) fail(*vn, "sweep.values", "no key to sweep");
    // toml++ keeps keys sorted: put them back in file order (the order of the summary).
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [k, v] : *values) entries.emplace_back(&k, &v);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto &x = a.first->source().begin, &y = b.first->source().begin;
      return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    });
    std::vector<KeySource> keys;
    for (const auto& [k, v] : entries) keys.push_back(key_source(*k, *v, random));

    for (const auto& k : keys) {
      s.keys.push_back(k.key);
      s.key_where.push_back(k.where);
      auto& listed = s.listed.emplace_back();
      for (std::size_t i = 0; i < k.values.size(); ++i)
        listed.emplace_back(k.values[i], k.value_where[i]);
    }
    // Combinations: a grid counts in mixed radix, the last key fastest; random draws
    // sample c's value of key j from the counter (c, j), so the list depends only on
    // sample_seed, whatever the shard or the number of samples.
    std::vector<std::vector<std::string>> combos;
    std::size_t total = random ? static_cast<std::size_t>(s.samples) : 1;
    for (const auto& k : keys) {
      if (!random) total *= k.values.size();
      if (total * s.seeds.size() > kMaxPoints)
        fail(s.where, "sweep",
             "more than " + std::to_string(kMaxPoints) +
                 " points (combinations x seeds): split the sweep into several files");
    }
    if (!random) {
      for (std::size_t c = 0; c < total; ++c) {
        std::vector<std::string> combo(keys.size());
        std::size_t rest = c;
        for (std::size_t j = keys.size(); j-- > 0;) {
          combo[j] = keys[j].values[rest % keys[j].values.size()];
          rest /= keys[j].values.size();
        }
        combos.push_back(std::move(combo));
      }
    } else {
      const Stream stream{s.sample_seed, kSweepStream};
      for (int c = 0; c < s.samples; ++c) {
        std::vector<std::string> combo;
        for (std::size_t j = 0; j < keys.size(); ++j)
          combo.push_back(draw(keys[j], stream.draw(static_cast<std::uint32_t>(c),
                                                    static_cast<std::uint32_t>(j), 0, 0)));
        combos.push_back(std::move(combo));
      }
    }
    int number = 1;
    for (std::size_t c = 0; c < combos.size(); ++c)
      for (const std::uint32_t seed : s.seeds) {
        SweepPoint p;
        p.number = number++;
        p.combination = static_cast<int>(c);
        p.seed = seed;
        p.values = combos[c];
        s.points.push_back(std::move(p));
      }
    return s;
  }

private:
  KeySource key_source(const toml::key& k, const toml::node& v, bool random) const {
    KeySource ks;
    ks.key = shield_.restore(k.str());
    ks.where = loc(k);
    const std::string key = "sweep.values.\"" + ks.key + "\"";
    if (ks.key.empty()) fail(ks.where, key, "empty key");
    if (ks.key == "run.seed")
      fail(ks.where, key,
           "the seed is swept with sweep.seeds = [...] (every point runs each seed)");
    if (const auto* a = v.as_array()) {
      if (a->empty()) fail(v, key, "expected at least one value");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string text = toml_text(*a->get(i), shield_);
        if (!seen.insert(text).second)
          fail(*a->get(i), key + "[" + std::to_string(i) + "]",
               "value " + text + " is listed twice");
        ks.values.push_back(text);
        ks.value_where.push_back(loc(*a->get(i)));
      }
      return ks;
    }
    const auto* t = v.as_table();
    if (!t || !random)
      fail(v, key,
           random ? "expected an array of values to choose from or a distribution { dist = "
                    "\"uniform\" | \"log_uniform\", low, high }, got " +
                        type_name(v)
                  : "expected an array of values (mode = \"grid\"), got " + type_name(v));
    for (auto&& [tk, tv] : *t) {
      const std::string name(tk.str());
      if (name != "dist" && name != "low" && name != "high" && name != "integer")
        fail(loc(tk), key + "." + name, "unknown key (expected dist, low, high, integer)");
    }
    const toml::node* d = t->get("dist");
    if (!d) fail(v, key + ".dist", "required key missing: \"uniform\" or \"log_uniform\"");
    const auto* ds = d->as_string();
    if (!ds || (ds->get() != "uniform" && ds->get() != "log_uniform"))
      fail(*d, key + ".dist", "expected \"uniform\" or \"log_uniform\"");
    ks.dist = ds->get() == "uniform" ? KeySource::Dist::uniform : KeySource::Dist::log_uniform;
    const toml::node* lo = t->get("low");
    const toml::node* hi = t->get("high");
    if (!lo) fail(v, key + ".low", "required key missing");
    if (!hi) fail(v, key + ".high", "required key missing");
    ks.low = number(*lo, key + ".low");
    ks.high = number(*hi, key + ".high");
    if (const toml::node* in = t->get("integer")) {
      if (!in->is_boolean()) fail(*in, key + ".integer", "expected true or false");
      ks.integer = in->as_boolean()->get();
    }
    if (!(ks.high > ks.low)) fail(*hi, key + ".high", "must be above low = " + float_text(ks.low));
    if (ks.dist == KeySource::Dist::log_uniform && !(ks.low > 0))
      fail(*lo, key + ".low", "log_uniform needs low > 0");
    if (ks.integer && (ks.low != std::floor(ks.low) || ks.high != std::floor(ks.high)))
      fail(v, key, "integer = true needs whole-number low and high");
    return ks;
  }

  // Key j's value of one random sample, from its four Philox words.
  static std::string draw(const KeySource& k, const r123::Philox4x32::ctr_type& r) {
    const double u = u01(r[0], r[1]);
    if (k.dist == KeySource::Dist::none)
      return k.values[below(r[2], static_cast<std::uint32_t>(k.values.size()))];
    if (k.integer) {
      // Uniform over the integers low..high, or over their logarithms' span.
      double v = k.dist == KeySource::Dist::uniform
                     ? std::floor(k.low + u * (k.high - k.low + 1))
                     : std::floor(std::exp(std::log(k.low) +
                                           u * (std::log(k.high + 1) - std::log(k.low))));
      v = std::clamp(v, k.low, k.high);
      return std::to_string(static_cast<long long>(v));
    }
    const double v = k.dist == KeySource::Dist::uniform
                         ? k.low + u * (k.high - k.low)
                         : std::exp(std::log(k.low) + u * (std::log(k.high) - std::log(k.low)));
    return float_text(std::clamp(v, k.low, k.high));
  }

  std::string path_;
  const TomlShield& shield_;
};

// Where the value of `sweep.keys[j]` equal to `text` came from (a listed value), else
// the key.
SourceLocation value_location(const SweepSpec& s, std::size_t j, const std::string& text) {
  if (j < s.listed.size())
    for (const auto& [v, where] : s.listed[j])
      if (v == text) return where;
  return s.key_where[j];
}

toml::table parse_document(const TomlShield& shield, const std::string& path) {
  try {
    return toml::parse(shield.text(), path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw InputError(
        SourceLocation{path, static_cast<int>(b.line), static_cast<int>(b.column)}.str() +
        ": invalid TOML: " + shield.restore(e.description()));
  }
}

} // namespace

std::string SweepPoint::stem() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "point_%04d_seed_%u", number, seed);
  return buf;
}

std::vector<std::string> SweepSpec::overrides(const SweepPoint& p) const {
  std::vector<std::string> out;
  for (std::size_t j = 0; j < keys.size(); ++j) out.push_back(keys[j] + "=" + p.values[j]);
  out.push_back("run.seed=" + std::to_string(p.seed));
  return out;
}

std::string SweepSpec::describe(const SweepPoint& p) const {
  std::string out = "seed " + std::to_string(p.seed);
  for (std::size_t j = 0; j < keys.size(); ++j) out += ", " + keys[j] + "=" + p.values[j];
  return out;
}

std::string SweepSpec::describe() const {
  std::string out;
  if (mode == Mode::grid) {
    out = "grid over " + std::to_string(keys.size()) + " key" + (keys.size() == 1 ? "" : "s");
    out += " (" + std::to_string(combinations()) + " combination" +
           (combinations() == 1 ? "" : "s") + ")";
  } else {
    out = "random, " + std::to_string(samples) + " sample" + (samples == 1 ? "" : "s") + " of " +
          std::to_string(keys.size()) + " key" + (keys.size() == 1 ? "" : "s");
  }
  out += " x " + std::to_string(seeds.size()) + " seed" + (seeds.size() == 1 ? "" : "s") + ": " +
         std::to_string(points.size()) + " point" + (points.size() == 1 ? "" : "s") + ", " +
         std::to_string(threads_per_point) + " thread" + (threads_per_point == 1 ? "" : "s") +
         " each";
  return out;
}

std::optional<SweepSpec> parse_sweep(const std::string& text, const std::string& path,
                                     std::uint32_t run_seed) {
  const TomlShield shield(text);
  const toml::table doc = parse_document(shield, path);
  const toml::node* n = doc.get("sweep");
  if (!n) return std::nullopt;
  SweepReader reader(path, shield);
  if (!n->is_table()) reader.fail(*n, "sweep", "expected a table ([sweep]), got " + type_name(*n));
  return reader.read(*n->as_table(), run_seed);
}

void validate_sweep(const SweepSpec& s, const std::string& text, const std::string& path,
                    const std::vector<std::string>& overrides) {
  auto with = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> all = overrides;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  // Each key with each of its values alone: a key that names nothing fails at its
  // first value, a value out of range at its own line.
  for (std::size_t j = 0; j < s.keys.size(); ++j) {
    std::set<std::string> done;
    for (const auto& p : s.points) {
      const std::string& v = p.values[j];
      if (!done.insert(v).second) continue;
      try {
        parse_experiment(text, path, with({s.keys[j] + "=" + v}));
      } catch (const InputError& e) {
        const bool first = done.size() == 1;
        throw InputError(value_location(s, j, v).str() + ": sweep.values.\"" + s.keys[j] +
                         "\": " + (first ? "" : "value " + v + ": ") + e.what());
      }
    }
  }
  // Combinations (values may depend on each other: a delay and max_delay).
  if (s.keys.size() < 2) return;
  int last = -1;
  for (const auto& p : s.points) {
    if (p.combination == last) continue;
    last = p.combination;
    try {
      parse_experiment(text, path, with(s.overrides(p)));
    } catch (const InputError& e) {
      throw InputError(s.where.str() + ": sweep: point " + std::to_string(p.number) + " (" +
                       s.describe(p) + "): " + e.what());
    }
  }
}

SweepPlan load_sweep(const std::string& path, const std::vector<std::string>& overrides) {
  SweepPlan plan;
  plan.experiment = load_experiment(path, overrides);
  plan.text = plan.experiment.source_text;
  std::optional<SweepSpec> s = parse_sweep(plan.text, path, plan.experiment.run.seed);
  if (!s)
    throw InputError(path + ": sweep: the experiment has no [sweep] table (add one with "
                            "[sweep.values], see README 'Parameter sweeps')");
  validate_sweep(*s, plan.text, path, overrides);
  plan.sweep = std::move(*s);
  return plan;
}

} // namespace glia
