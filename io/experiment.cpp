// Experiment files: reading, --set overrides, and strict validation into the typed
// specs of io/experiment.hpp. The only translation unit that includes toml++ (it is
// slow to compile). Every check reports "file:line:col: key: message"; values that came
// from --set are reported at the override ("--set run.duration=abc: run.duration: ...").
#include "io/experiment.hpp"

#include "io/expression.hpp"
#include "io/toml_guard.hpp"
#include "neurons/registry.hpp"
#include "plasticity/modulator.hpp"
#include "plasticity/rule.hpp"

#include <hdf5.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace glia {

std::string SourceLocation::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

int Experiment::population_index(const std::string& name) const {
  for (std::size_t i = 0; i < populations.size(); ++i)
    if (populations[i].name == name) return static_cast<int>(i);
  return -1;
}

int Experiment::projection_index(const std::string& name) const {
  for (std::size_t i = 0; i < projections.size(); ++i)
    if (projections[i].name == name) return static_cast<int>(i);
  return -1;
}

int Experiment::modulator_index(const std::string& name) const {
  for (std::size_t i = 0; i < modulators.size(); ++i)
    if (modulators[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

} // namespace

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string key = lower(name);
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = levenshtein(key, lower(c));
    if (d <= limit && d < best_d) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

namespace {

constexpr int kMaxDelaySteps = 65535; // delays are stored as uint16 steps

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// " (did you mean 'x'?)", or the list of valid names when it is short and nothing is close.
std::string suggest(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string near = nearest_name(name, candidates);
  if (!near.empty()) return " (did you mean '" + near + "'?)";
  if (!candidates.empty() && candidates.size() <= 12)
    return " (expected one of " + quoted_list(candidates) + ")";
  return "";
}

std::string type_name(toml::node_type t) {
  switch (t) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a floating-point number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  default:
    return "nothing";
  }
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

template <class Spec> std::vector<std::string> spec_names(std::span<const Spec> table) {
  std::vector<std::string> out;
  for (const auto& s : table) out.emplace_back(s.name);
  return out;
}

std::vector<std::string> view_names(std::span<const std::string_view> table) {
  return {table.begin(), table.end()};
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// ---------------------------------------------------------------------------------------
// Explicit connection lists. Problems come back as text ("conn.csv:5: ...") that the
// caller prefixes with the location of the `file` key.

struct ConnectionLimits {
  std::uint32_t pre_size, post_size;
  std::string pre, post;
  double dt;
};

class ListError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check_entry(const std::string& where, const ConnectionLimits& lim, std::uint64_t src,
                 std::uint64_t tgt, const double* weight, const double* delay) {
  if (src >= lim.pre_size)
    throw ListError(where + ": source " + std::to_string(src) + " is out of range (population '" +
                    lim.pre + "' has " + std::to_string(lim.pre_size) + " neurons)");
  if (tgt >= lim.post_size)
    throw ListError(where + ": target " + std::to_string(tgt) + " is out of range (population '" +
                    lim.post + "' has " + std::to_string(lim.post_size) + " neurons)");
  if (weight && !std::isfinite(*weight))
    throw ListError(where + ": weight must be a finite number, got " + fmt(*weight));
  if (delay && !(*delay >= lim.dt))
    throw ListError(where + ": delay " + fmt(*delay) +
                    " ms is below the time step dt = " + fmt(lim.dt) + " ms");
  if (delay && *delay / lim.dt > kMaxDelaySteps + 0.5)
    throw ListError(where + ": delay " + fmt(*delay) + " ms is longer than the longest delay (" +
                    std::to_string(kMaxDelaySteps) + " steps of dt = " + fmt(lim.dt) + " ms)");
}

void load_csv(const std::filesystem::path& path, const std::string& shown,
              const ConnectionLimits& lim, ConnectSpec& c) {
  std::ifstream in(path);
  if (!in)
    throw ListError("cannot read connection file '" + path.string() + "': " + std::strerror(errno));
  std::string line;
  int line_no = 0;
  // Column order after source,target is free; -1 = absent.
  int col_weight = -1, col_delay = -1, n_cols = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t from = 0;
    for (;;) {
      const std::size_t comma = t.find(',', from);
      fields.push_back(trim(std::string_view(t).substr(from, comma - from)));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    const std::string where = shown + ":" + std::to_string(line_no);
    if (!have_header) {
      if (fields.size() < 2 || fields[0] != "source" || fields[1] != "target")
        throw ListError(where + ": expected the header 'source,target[,weight][,delay]', got '" +
                        t + "'");
      for (std::size_t k = 2; k < fields.size(); ++k) {
        int& col = fields[k] == "weight" ? col_weight : fields[k] == "delay" ? col_delay : n_cols;
        if (&col == &n_cols)
          throw ListError(where + ": unknown column '" + fields[k] + "'" +
                          suggest(fields[k], {"weight", "delay"}));
        if (col >= 0) throw ListError(where + ": column '" + fields[k] + "' appears twice");
        col = static_cast<int>(k);
      }
      n_cols = static_cast<int>(fields.size());
      have_header = true;
      continue;
    }
    if (static_cast<int>(fields.size()) != n_cols)
      throw ListError(where + ": expected " + std::to_string(n_cols) + " columns, got " +
                      std::to_string(fields.size()));
    auto index = [&](int k, const char* what) {
      std::uint64_t v = 0;
      const auto& f = fields[static_cast<std::size_t>(k)];
      const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
      if (f.empty() || r.ec != std::errc() || r.ptr != f.data() + f.size())
        throw ListError(where + ": " + what + " must be a non-negative integer, got '" + f + "'");
      return v;
    };
    auto number = [&](int k, const char* what) {
      double v = 0.0;
      const auto& f = fields[static_cast<std::size_t>(k)];
      const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
      if (f.empty() || r.ec != std::errc() || r.ptr != f.data() + f.size())
        throw ListError(where + ": " + what + " must be a number, got '" + f + "'");
      return v;
    };
    const std::uint64_t src = index(0, "source"), tgt = index(1, "target");
    double w = 0.0, d = 0.0;
    if (col_weight >= 0) w = number(col_weight, "weight");
    if (col_delay >= 0) d = number(col_delay, "delay");
    check_entry(where, lim, src, tgt, col_weight >= 0 ? &w : nullptr,
                col_delay >= 0 ? &d : nullptr);
    c.sources.push_back(static_cast<std::uint32_t>(src));
    c.targets.push_back(static_cast<std::uint32_t>(tgt));
    if (col_weight >= 0) c.weights.push_back(w);
    if (col_delay >= 0) c.delays.push_back(d);
  }
  if (!have_header)
    throw ListError(shown + ": empty file; expected the header 'source,target[,weight][,delay]'");
}

// Owns an HDF5 handle.
class H5Handle {
public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; we report our own messages instead.
class H5Quiet {
public:
  H5Quiet() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  H5Quiet(const H5Quiet&) = delete;
  H5Quiet& operator=(const H5Quiet&) = delete;
  ~H5Quiet() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Reads a 1-D dataset converted to `T`; returns false when it does not exist.
template <class T>
bool read_h5_column(hid_t file, const std::string& shown, const char* name, bool integers,
                    std::vector<T>& out) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return false;
  const H5Handle ds(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw ListError(shown + ": " + name + " is not a dataset");
  const H5Handle type(H5Dget_type(ds.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && (integers || cls != H5T_FLOAT))
    throw ListError(shown + ": " + name + " must hold " + (integers ? "integers" : "numbers"));
  const H5Handle space(H5Dget_space(ds.get()), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1)
    throw ListError(shown + ": " + name + " must be a 1-D dataset");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  out.resize(static_cast<std::size_t>(n));
  const hid_t mem = std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  if (n > 0 && H5Dread(ds.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw ListError(shown + ": cannot read " + name);
  return true;
}

void load_h5(const std::filesystem::path& path, const std::string& shown,
             const ConnectionLimits& lim, ConnectSpec& c) {
  if (!std::filesystem::exists(path))
    throw ListError("cannot read connection file '" + path.string() +
                    "': No such file or directory");
  const H5Quiet quiet;
  const H5Handle file(H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw ListError(shown + ": not a readable HDF5 file");
  std::vector<std::int64_t> src, tgt;
  std::vector<double> w, d;
  if (!read_h5_column(file.get(), shown, "/source", true, src))
    throw ListError(shown + ": missing dataset /source");
  if (!read_h5_column(file.get(), shown, "/target", true, tgt))
    throw ListError(shown + ": missing dataset /target");
  const bool has_w = read_h5_column(file.get(), shown, "/weight", false, w);
  const bool has_d = read_h5_column(file.get(), shown, "/delay", false, d);
  auto same_length = [&](bool has, std::size_t n, const char* name) {
    if (has && n != src.size())
      throw ListError(shown + ": " + name + " has " + std::to_string(n) + " entries, /source has " +
                      std::to_string(src.size()));
  };
  same_length(true, tgt.size(), "/target");
  same_length(has_w, w.size(), "/weight");
  same_length(has_d, d.size(), "/delay");
  for (std::size_t k = 0; k < src.size(); ++k) {
    const std::string where = shown + ": row " + std::to_string(k);
    if (src[k] < 0 || tgt[k] < 0)
      throw ListError(where + ": " + (src[k] < 0 ? "source " : "target ") +
                      std::to_string(src[k] < 0 ? src[k] : tgt[k]) + " is negative");
    check_entry(where, lim, static_cast<std::uint64_t>(src[k]), static_cast<std::uint64_t>(tgt[k]),
                has_w ? &w[k] : nullptr, has_d ? &d[k] : nullptr);
  }
  c.sources.assign(src.begin(), src.end());
  c.targets.assign(tgt.begin(), tgt.end());
  if (has_w) c.weights = std::move(w);
  if (has_d) c.delays = std::move(d);
}

// ---------------------------------------------------------------------------------------
// Validation of the (overridden) document.

using Entry = std::pair<const toml::key*, const toml::node*>;
// Puts back the characters TomlShield kept from toml++ into every string of `n`.
void restore_strings(toml::node& n, const TomlShield& shield) {
  if (toml::value<std::string>* s = n.as_string()) {
    s->get() = shield.restore(s->get());
  } else if (toml::table* t = n.as_table()) {
    for (auto&& [key, value] : *t) restore_strings(value, shield);
  } else if (toml::array* a = n.as_array()) {
    for (auto& value : *a) restore_strings(value, shield);
  }
}

// Nodes that came from --set, with the override that set them (their location).
using SetNodes = std::unordered_map<const toml::node*, std::string>;

// Entries of a table in the order they were written (toml++ keeps tables sorted by key);
// entries added by --set come last.
std::vector<Entry> in_file_order(const toml::table& t) {
  std::vector<Entry> out;
  for (auto&& [k, v] : t) out.emplace_back(&k, &v);
  auto pos = [](const Entry& e) {
    const auto& b = e.first->source().begin;
    return b.line == 0 ? std::pair<std::uint64_t, std::uint64_t>{~0ull, 0}
                       : std::pair<std::uint64_t, std::uint64_t>{b.line, b.column};
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Entry& a, const Entry& b) { return pos(a) < pos(b); });
  return out;
}

class Validator {
public:
  Validator(std::string path, const SetNodes& set_nodes)
      : path_(std::move(path)), set_nodes_(set_nodes) {}

  void build(const toml::table& doc, Experiment& ex);

private:
  // --- locations and errors ---
  SourceLocation loc(const toml::node& n) const {
    if (auto it = set_nodes_.find(&n); it != set_nodes_.end()) return {it->second, 0, 0};
    const auto& b = n.source().begin;
    return {path_, static_cast<int>(b.line), static_cast<int>(b.column)};
  }
  SourceLocation loc(const Entry& e) const {
    if (set_nodes_.count(e.second) || e.first->source().begin.line == 0) return loc(*e.second);
    const auto& b = e.first->source().begin;
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
  [[noreturn]] void wrong_type(const toml::node& n, const std::string& key,
                               const std::string& expected) const {
    fail(n, key, "expected " + expected + ", got " + type_name(n.type()));
  }

  // --- strict tables ---
  void check_keys(const toml::table& t, const std::string& prefix,
                  const std::vector<std::string>& allowed, const std::string& what = "unknown key",
                  const std::vector<std::string>& known_elsewhere = {},
                  const std::string& elsewhere_note = "") const {
    for (const Entry& e : in_file_order(t)) {
      const std::string k(e.first->str());
      if (contains(allowed, k)) continue;
      const std::string key = prefix.empty() ? k : prefix + "." + k;
      if (contains(known_elsewhere, k)) fail(loc(e), key, "'" + k + "' " + elsewhere_note);
      fail(loc(e), key, what + suggest(k, allowed));
    }
  }
  const toml::table& as_table(const toml::node& n, const std::string& key) const {
    if (!n.is_table()) wrong_type(n, key, "a table");
    return *n.as_table();
  }
  const toml::node& required(const toml::table& t, const std::string& prefix, const char* k,
                             const std::string& hint = "") const {
    const toml::node* n = t.get(k);
    if (!n) fail(t, prefix + "." + k, "required key missing" + hint);
    return *n;
  }

  // --- scalars ---
  double number(const toml::node& n, const std::string& key) const {
    double v = 0.0;
    if (const auto* i = n.as_integer()) {
      v = static_cast<double>(i->get());
    } else if (const auto* f = n.as_floating_point()) {
      v = f->get();
    } else {
      wrong_type(n, key, "a number");
    }
    if (std::isnan(v)) fail(n, key, "expected a number, got nan");
    return v;
  }
  double finite(const toml::node& n, const std::string& key) const {
    const double v = number(n, key);
    if (!std::isfinite(v)) fail(n, key, "expected a finite number, got " + fmt(v));
    return v;
  }
  double in_range(const toml::node& n, const std::string& key, const Range& r) const {
    const double v = number(n, key);
    if (!r.contains(v)) fail(n, key, "must be " + r.describe() + ", got " + fmt(v));
    return v;
  }
  std::int64_t integer(const toml::node& n, const std::string& key, std::int64_t lo,
                       std::int64_t hi) const {
    const auto* i = n.as_integer();
    if (!i) wrong_type(n, key, "an integer");
    const std::int64_t v = i->get();
    if (v < lo || v > hi) {
      const std::string range = hi == std::numeric_limits<std::int64_t>::max()
                                    ? ">= " + std::to_string(lo)
                                    : "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      fail(n, key, "must be an integer " + range + ", got " + std::to_string(v));
    }
    return v;
  }
  std::string string(const toml::node& n, const std::string& key) const {
    const auto* s = n.as_string();
    if (!s) wrong_type(n, key, "a string");
    return s->get();
  }
  bool boolean(const toml::node& n, const std::string& key) const {
    const auto* b = n.as_boolean();
    if (!b) wrong_type(n, key, "a boolean (true or false)");
    return b->get();
  }
  // `of` qualifies the name in the message: "unknown integrator 'rk5' of model 'lif_delta'".
  std::string choice(const toml::node& n, const std::string& key,
                     const std::vector<std::string>& options, const std::string& what,
                     const std::string& of = "") const {
    const std::string s = string(n, key);
    if (!contains(options, s))
      fail(n, key, "unknown " + what + " '" + s + "'" + of + suggest(s, options));
    return s;
  }
  const toml::array& array(const toml::node& n, const std::string& key,
                           const std::string& of) const {
    if (!n.is_array()) wrong_type(n, key, "an array of " + of);
    return *n.as_array();
  }
  std::vector<double> numbers(const toml::node& n, const std::string& key) const {
    std::vector<double> out;
    const auto& a = array(n, key, "numbers");
    for (std::size_t k = 0; k < a.size(); ++k)
      out.push_back(finite(*a.get(k), key + "[" + std::to_string(k) + "]"));
    return out;
  }
  // Neuron indices into a population of `size`, each at most once.
  std::vector<std::uint32_t> indices(const toml::node& n, const std::string& key,
                                     const PopulationSpec& pop) const {
    std::vector<std::uint32_t> out;
    std::set<std::uint32_t> seen;
    const auto& a = array(n, key, "neuron indices");
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string ek = key + "[" + std::to_string(k) + "]";
      const std::int64_t raw = integer(*a.get(k), ek, 0, std::numeric_limits<std::int64_t>::max());
      if (raw >= static_cast<std::int64_t>(pop.size))
        fail(*a.get(k), ek,
             "neuron " + std::to_string(raw) + " is out of range (population '" + pop.name +
                 "' has " + std::to_string(pop.size) + " neurons)");
      const auto v = static_cast<std::uint32_t>(raw);
      if (!seen.insert(v).second)
        fail(*a.get(k), ek, "neuron " + std::to_string(v) + " is listed twice");
      out.push_back(v);
    }
    return out;
  }

  // --- values: numbers, distribution tables, expressions ---
  Distribution distribution_table(const toml::table& t, const std::string& key) const;
  void check_bounds(const toml::node& n, const std::string& key, const Distribution& d,
                    const Range& r) const;
  // `names` lists what an expression may use; `explain(name)` says why a known name
  // cannot be used here ("" when it is simply unknown).
  Distribution value(const toml::node& n, const std::string& key, const Range& r,
                     bool allow_expression, const std::vector<std::string>& names = {},
                     const std::function<std::string(const std::string&)>& explain = {}) const;

  // --- sections ---
  void run(const toml::table& doc, RunSpec& run);
  PopulationSpec population(const toml::table& t, std::size_t index,
                            const std::vector<PopulationSpec>& earlier) const;
  GridLayout layout(const toml::table& t, const std::string& key, const PopulationSpec& p,
                    const std::vector<PopulationSpec>& earlier) const;
  void branching(const toml::table& doc, Experiment& ex) const;
  void pipeline(const toml::table& doc, Experiment& ex) const;
  // The numbers of `specs` present in t, range-checked, into `out` (one per spec).
  void spec_numbers(const toml::table& t, const std::string& prefix,
                    std::span<const ParamSpec> specs, std::span<double* const> out) const {
    for (std::size_t k = 0; k < specs.size(); ++k)
      if (const auto* n = t.get(specs[k].name))
        *out[k] = in_range(*n, prefix + "." + std::string(specs[k].name), specs[k].range);
  }
  ProjectionSpec projection(const toml::table& t, std::size_t index, const Experiment& ex) const;
  ConnectSpec connect(const toml::table& t, const std::string& prefix, const PopulationSpec& pre,
                      const PopulationSpec& post) const;
  PlasticitySpec plasticity(const toml::table& t, const std::string& prefix,
                            const Experiment& ex) const;
  InputSpec input(const toml::table& t, std::size_t index, const Experiment& ex) const;
  ModulatorSpec modulator(const toml::table& t, std::size_t index, const Experiment& ex) const;
  RecordSpec record(const toml::table& t, std::size_t index, const Experiment& ex) const;
  RecordSpec modulator_record(const toml::table& t, const std::string& prefix,
                              const Experiment& ex) const;
  RecordSpec weights_record(const toml::table& t, const std::string& prefix,
                            const Experiment& ex) const;
  double interval(const toml::node& n, const std::string& key) const {
    const double v = finite(n, key);
    const double steps = v / dt_;
    if (v < dt_ * (1 - 1e-9) || std::fabs(steps - std::round(steps)) > 1e-9 * steps)
      fail(n, key, "must be a multiple of the time step dt = " + fmt(dt_) + " ms, got " + fmt(v));
    return v;
  }

  // A rule's reference to a [[modulator]] (validated before the modulators themselves,
  // which may observe projections): its name must be one of the file's modulators.
  struct ModulatorName {
    std::string name, type;
  };
  ModulatorName modulator_ref(const toml::node& n, const std::string& key,
                              const Experiment&) const {
    const std::string name = string(n, key);
    std::vector<std::string> names;
    for (const auto& m : modulator_names_) {
      if (m.name == name) return m;
      names.push_back(m.name);
    }
    fail(n, key,
         "unknown modulator '" + name + "'" +
             (names.empty() ? " (the experiment defines no [[modulator]])" : suggest(name, names)));
  }
  std::vector<ModulatorName> modulator_names_;

  // The element of `all` named at n; an unknown name is reported with the nearest one.
  template <class Spec>
  const Spec& named(const toml::node& n, const std::string& key, const std::vector<Spec>& all,
                    const char* what) const {
    const std::string name = string(n, key);
    std::vector<std::string> names;
    for (const Spec& s : all) {
      if (s.name == name) return s;
      names.push_back(s.name);
    }
    fail(n, key, std::string("unknown ") + what + " '" + name + "'" + suggest(name, names));
  }
  const PopulationSpec& population_ref(const toml::node& n, const std::string& key,
                                       const Experiment& ex) const {
    return named(n, key, ex.populations, "population");
  }
  const ProjectionSpec& projection_ref(const toml::node& n, const std::string& key,
                                       const Experiment& ex) const {
    return named(n, key, ex.projections, "projection");
  }
  // A point in time (ms) that falls on a step boundary: >= 0 and a multiple of dt.
  double step_time(const toml::node& n, const std::string& key) const {
    const double v = finite(n, key);
    const double steps = v / dt_;
    if (v < 0 || std::fabs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps))
      fail(n, key,
           "must be >= 0 and a multiple of the time step dt = " + fmt(dt_) + " ms, got " + fmt(v));
    return v;
  }
  std::string port(const toml::node& n, const std::string& key, const PopulationSpec& pop) const {
    const std::string p = string(n, key);
    const ModelInfo* info = Registry::global().find(pop.model);
    // Models with shared data may add ports beyond their static table (checked when the
    // population is built).
    if (info->ports.empty() || !pop.shared.empty()) return p;
    const auto names = spec_names(info->ports);
    if (!contains(names, p))
      fail(n, key, "unknown port '" + p + "' of model '" + pop.model + "'" + suggest(p, names));
    return p;
  }
  std::vector<const toml::table*> tables(const toml::table& doc, const char* key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = doc.get(key);
    if (!n || (n->is_array() && n->as_array()->empty())) return out;
    if (!n->is_array_of_tables()) {
      if (n->is_array()) {
        for (const auto& e : *n->as_array())
          if (!e.is_table()) wrong_type(e, key, std::string("a table ([[") + key + "]])");
      }
      wrong_type(*n, key, std::string("an array of tables ([[") + key + "]])");
    }
    for (const auto& e : *n->as_array()) out.push_back(e.as_table());
    return out;
  }

  std::string path_;
  const SetNodes& set_nodes_;
  double dt_ = 0.1;
};

Distribution Validator::distribution_table(const toml::table& t, const std::string& key) const {
  static const std::vector<std::string> kinds = {"uniform", "normal", "lognormal"};
  const std::string kind =
      choice(required(t, key, "dist", " (one of 'uniform', 'normal', 'lognormal')"), key + ".dist",
             kinds, "distribution");
  Distribution d;
  auto req = [&](const char* k) -> const toml::node& { return required(t, key, k); };
  auto sub = [&](const char* k) { return key + "." + k; };
  if (kind == "uniform") {
    check_keys(t, key, {"dist", "low", "high"});
    d.kind = Distribution::Kind::uniform;
    d.low = finite(req("low"), sub("low"));
    d.high = finite(req("high"), sub("high"));
    if (d.high < d.low)
      fail(req("high"), sub("high"), "must be >= low (" + fmt(d.low) + "), got " + fmt(d.high));
  } else if (kind == "normal") {
    check_keys(t, key, {"dist", "mean", "std", "min", "max"});
    d.kind = Distribution::Kind::normal;
    d.mean = finite(req("mean"), sub("mean"));
    d.std = finite(req("std"), sub("std"));
    if (d.std < 0) fail(req("std"), sub("std"), "must be >= 0, got " + fmt(d.std));
    if (const auto* n = t.get("min")) d.min = number(*n, sub("min"));
    if (const auto* n = t.get("max")) d.max = number(*n, sub("max"));
    if (d.max < d.min)
      fail(*t.get("max"), sub("max"), "must be >= min (" + fmt(d.min) + "), got " + fmt(d.max));
  } else {
    check_keys(t, key, {"dist", "mu", "sigma", "scale"});
    d.kind = Distribution::Kind::lognormal;
    d.mean = finite(req("mu"), sub("mu"));
    d.std = finite(req("sigma"), sub("sigma"));
    if (d.std < 0) fail(req("sigma"), sub("sigma"), "must be >= 0, got " + fmt(d.std));
    if (const auto* n = t.get("scale")) d.scale = finite(*n, sub("scale"));
  }
  return d;
}

void Validator::check_bounds(const toml::node& n, const std::string& key, const Distribution& d,
                             const Range& r) const {
  if (d.kind == Distribution::Kind::constant) {
    if (!r.contains(d.value)) fail(n, key, "must be " + r.describe() + ", got " + fmt(d.value));
    return;
  }
  if (d.kind == Distribution::Kind::expression) return; // known only per neuron
  const double lo = d.lowest(), hi = d.highest();
  // An open end may be touched by a continuous distribution (probability zero), unless
  // the distribution is a single point.
  const bool ok = lo >= r.lo && hi <= r.hi && (lo < hi || r.contains(lo));
  if (ok) return;
  std::string what;
  switch (d.kind) {
  case Distribution::Kind::uniform:
    what = "the uniform distribution over [" + fmt(d.low) + ", " + fmt(d.high) + "]";
    break;
  case Distribution::Kind::normal:
    what = "the normal distribution (clipped to [" + fmt(d.min) + ", " + fmt(d.max) + "])";
    break;
  default:
    what = "the lognormal distribution (scale " + fmt(d.scale) + ")";
    break;
  }
  std::string fix;
  if (d.kind == Distribution::Kind::normal) fix = "; set 'min'/'max' to clip it";
  fail(n, key,
       what + " can produce values outside the valid range (must be " + r.describe() + ")" + fix);
}

Distribution Validator::value(const toml::node& n, const std::string& key, const Range& r,
                              bool allow_expression, const std::vector<std::string>& names,
                              const std::function<std::string(const std::string&)>& explain) const {
  Distribution d;
  if (n.is_integer() || n.is_floating_point()) {
    d = Distribution::constant_of(number(n, key));
  } else if (n.is_table()) {
    d = distribution_table(*n.as_table(), key);
  } else if (n.is_string() && allow_expression) {
    const std::string text = n.as_string()->get();
    Expression e;
    try {
      e = Expression::parse(text);
    } catch (const std::invalid_argument& err) {
      fail(n, key, std::string("invalid expression: ") + err.what());
    }
    for (const auto& v : e.variables()) {
      if (contains(names, v)) continue;
      const std::string why = explain ? explain(v) : "";
      if (!why.empty()) fail(n, key, "expression '" + text + "' uses '" + v + "': " + why);
      fail(n, key, "unknown name '" + v + "' in expression '" + text + "'" + suggest(v, names));
    }
    if (e.is_constant()) {
      d = Distribution::constant_of(e.eval(std::span<const double>{}));
    } else {
      d.kind = Distribution::Kind::expression;
      d.expression = text;
    }
  } else if (allow_expression) {
    wrong_type(n, key, "a number, a distribution table or an expression string");
  } else if (n.is_string()) {
    fail(n, key,
         "expected a number or a distribution table, got a string (expressions are allowed only "
         "in population params and init)");
  } else {
    wrong_type(n, key, "a number or a distribution table");
  }
  check_bounds(n, key, d, r);
  return d;
}

void Validator::run(const toml::table& doc, RunSpec& run) {
  const toml::node* node = doc.get("run");
  if (!node) return;
  const toml::table& t = as_table(*node, "run");
  check_keys(t, "run",
             {"duration", "dt", "seed", "threads", "backend", "gpu_fixed_point", "flush_interval",
              "branching_factor"});
  auto positive = [&](const char* k, double& out) {
    if (const auto* n = t.get(k)) {
      out = finite(*n, std::string("run.") + k);
      if (!(out > 0)) fail(*n, std::string("run.") + k, "must be > 0, got " + fmt(out));
    }
  };
  positive("dt", run.dt);
  positive("duration", run.duration);
  positive("flush_interval", run.flush_interval);
  if (const auto* n = t.get("seed"))
    run.seed = static_cast<std::uint32_t>(integer(*n, "run.seed", 0, 4294967295LL));
  if (const auto* n = t.get("threads"))
    run.threads = static_cast<int>(integer(*n, "run.threads", 0, 65536));
  if (const auto* n = t.get("backend"))
    run.backend = choice(*n, "run.backend", {"cpu", "cuda"}, "backend");
  if (const auto* n = t.get("gpu_fixed_point"))
    run.gpu_fixed_point = boolean(*n, "run.gpu_fixed_point");
  if (run.duration < run.dt) {
    const toml::node* at = t.get("duration") ? t.get("duration") : t.get("dt");
    fail(*at, "run.duration",
         "must be at least one time step (dt = " + fmt(run.dt) + " ms), got " + fmt(run.duration));
  }
  dt_ = run.dt;
}

PopulationSpec Validator::population(const toml::table& t, std::size_t index,
                                     const std::vector<PopulationSpec>& earlier) const {
  PopulationSpec p;
  p.where = loc(t);
  std::string prefix = "population #" + std::to_string(index);
  const toml::node& name_node = required(t, prefix, "name");
  p.name = string(name_node, prefix + ".name");
  if (!is_identifier(p.name))
    fail(name_node, prefix + ".name",
         "'" + p.name +
             "' is not a valid name (letters, digits and '_', not starting with a digit)");
  for (const auto& q : earlier)
    if (q.name == p.name)
      fail(name_node, prefix + ".name",
           "duplicate population name '" + p.name + "' (first defined at " + q.where.str() + ")");
  prefix = "population '" + p.name + "'";
  check_keys(
      t, prefix,
      {"name", "model", "size", "integrator", "params", "random", "init", "shared", "layout"});

  const toml::node& model_node = required(t, prefix, "model");
  p.model = string(model_node, prefix + ".model");
  const ModelInfo* info = Registry::global().find(p.model);
  if (!info)
    fail(model_node, prefix + ".model",
         "unknown model '" + p.model + "'" + suggest(p.model, Registry::global().names()));

  p.size = static_cast<std::uint32_t>(
      integer(required(t, prefix, "size"), prefix + ".size", 1, 4294967295LL));

  if (const auto* n = t.get("layout"))
    p.layout = layout(as_table(*n, prefix + ".layout"), prefix + ".layout", p, earlier);

  if (const auto* n = t.get("integrator")) {
    const auto options = view_names(info->integrators);
    p.integrator =
        choice(*n, prefix + ".integrator", options, "integrator", " of model '" + p.model + "'");
  }

  const auto param_names = spec_names(info->params);
  const auto state_names = spec_names(info->state);

  if (const auto* n = t.get("shared")) {
    const auto& sh = as_table(*n, prefix + ".shared");
    for (const Entry& e : in_file_order(sh)) {
      const std::string key = prefix + ".shared." + std::string(e.first->str());
      std::vector<double> v;
      if (e.second->is_array()) {
        v = numbers(*e.second, key);
      } else if (e.second->is_integer() || e.second->is_floating_point()) {
        v.push_back(finite(*e.second, key));
      } else {
        wrong_type(*e.second, key, "a number or an array of numbers");
      }
      p.shared[std::string(e.first->str())] = std::move(v);
    }
  }

  std::vector<std::string> random_names;
  if (const auto* n = t.get("random")) {
    const auto& rt = as_table(*n, prefix + ".random");
    for (const Entry& e : in_file_order(rt)) {
      const std::string name(e.first->str());
      const std::string key = prefix + ".random." + name;
      if (!is_identifier(name) || Expression::is_reserved(name))
        fail(loc(e), key,
             "'" + name +
                 "' cannot name a random variable (use letters, digits and '_', not a function "
                 "name)");
      if (contains(param_names, name) || contains(state_names, name))
        fail(loc(e), key,
             "'" + name + "' is already a " +
                 (contains(param_names, name) ? "parameter" : "state variable") + " of model '" +
                 p.model + "'; give the random variable another name");
      p.random.push_back({name, value(*e.second, key, kAny, false), loc(e)});
      random_names.push_back(name);
    }
  }

  if (const auto* n = t.get("params")) {
    const auto& pt = as_table(*n, prefix + ".params");
    check_keys(pt, prefix + ".params", param_names, "unknown parameter of model '" + p.model + "'",
               state_names,
               "is a state variable of model '" + p.model + "'; set it in [population.init]");
    std::vector<std::string> set;
    for (const Entry& e : in_file_order(pt)) {
      const std::string name(e.first->str());
      const std::string key = prefix + ".params." + name;
      // Parameters are computed in the order written: an expression may use random
      // variables, parameters left at their defaults and parameters set before it.
      std::vector<std::string> usable = random_names;
      for (const auto& q : param_names)
        if (q != name && (contains(set, q) || !pt.get(q))) usable.push_back(q);
      auto explain = [&](const std::string& v) -> std::string {
        if (v == name) return "a parameter cannot be computed from itself";
        if (contains(param_names, v))
          return "parameter '" + v + "' is set later in the table; move it before '" + name + "'";
        if (contains(state_names, v)) return "state variables cannot be used in parameters";
        return "";
      };
      const int k = find_spec(info->params, name);
      p.params.push_back({name,
                          value(*e.second, key, info->params[static_cast<std::size_t>(k)].range,
                                true, usable, explain),
                          loc(e)});
      set.push_back(name);
    }
  }

  if (const auto* n = t.get("init")) {
    const auto& it = as_table(*n, prefix + ".init");
    check_keys(it, prefix + ".init", state_names,
               "unknown state variable of model '" + p.model + "'", param_names,
               "is a parameter of model '" + p.model + "'; set it in [population.params]");
    std::vector<std::string> usable = random_names;
    usable.insert(usable.end(), param_names.begin(), param_names.end());
    for (const Entry& e : in_file_order(it)) {
      const std::string name(e.first->str());
      const std::string key = prefix + ".init." + name;
      auto explain = [&](const std::string& v) -> std::string {
        if (contains(state_names, v))
          return "state variable '" + v + "' must be set before '" + name +
                 "' in [population.init]";
        return "";
      };
      p.init.push_back({name, value(*e.second, key, kAny, true, usable, explain), loc(e)});
      usable.push_back(name);
    }
  }
  return p;
}

GridLayout Validator::layout(const toml::table& t, const std::string& key, const PopulationSpec& p,
                             const std::vector<PopulationSpec>& earlier) const {
  check_keys(t, key, {"grid", "dims", "offset", "shuffle"});
  GridLayout g;
  g.grid = p.name;
  if (const auto* n = t.get("grid")) {
    g.grid = string(*n, key + ".grid");
    if (!is_identifier(g.grid))
      fail(*n, key + ".grid",
           "'" + g.grid +
               "' is not a valid name (letters, digits and '_', not starting with a "
               "digit)");
  }
  const toml::node& dn = required(t, key, "dims", " (points along x, y and z, e.g. [10, 10, 10])");
  const auto& a = array(dn, key + ".dims", "three positive integers");
  if (a.size() != 3)
    fail(dn, key + ".dims",
         "expected three positive integers [nx, ny, nz], got " + std::to_string(a.size()) +
             " value" + (a.size() == 1 ? "" : "s"));
  for (std::size_t k = 0; k < 3; ++k)
    g.dims[k] = static_cast<std::uint32_t>(
        integer(*a.get(k), key + ".dims[" + std::to_string(k) + "]", 1, 4294967295LL));
  // Appended piecewise: GCC 12 reports a false -Wrestrict for "[" + std::string&&.
  auto dims_text = [](const GridLayout& l) {
    std::string text = "[";
    for (std::size_t k = 0; k < 3; ++k) {
      if (k > 0) text += ", ";
      text += std::to_string(l.dims[k]);
    }
    text += "]";
    return text;
  };
  if (g.points() > 4294967295ULL)
    fail(dn, key + ".dims", "the grid " + dims_text(g) + " has more than 2^32 - 1 points");
  const toml::node* on = t.get("offset");
  if (on) g.offset = static_cast<std::uint32_t>(integer(*on, key + ".offset", 0, 4294967295LL));
  if (const auto* n = t.get("shuffle")) g.shuffle = boolean(*n, key + ".shuffle");
  const std::uint64_t end = static_cast<std::uint64_t>(g.offset) + p.size;
  for (const auto& q : earlier) {
    if (q.layout.grid != g.grid) continue;
    if (q.layout.dims != g.dims)
      fail(dn, key + ".dims",
           "grid '" + g.grid + "' is " + dims_text(q.layout) + " in population '" + q.name + "' (" +
               q.where.str() + "), here " + dims_text(g));
    if (q.layout.shuffle != g.shuffle)
      fail(t.get("shuffle") ? *t.get("shuffle") : static_cast<const toml::node&>(t),
           key + ".shuffle",
           "grid '" + g.grid + "' has shuffle = " + (q.layout.shuffle ? "true" : "false") +
               " in population '" + q.name + "'; every population on a grid must agree");
  }
  if (end > g.points())
    fail(on ? *on : dn, key + (on ? ".offset" : ".dims"),
         "population '" + p.name + "' needs points [" + std::to_string(g.offset) + ", " +
             std::to_string(end) + ") of grid '" + g.grid + "', which has " +
             std::to_string(g.points()) + " points " + dims_text(g));
  for (const auto& q : earlier) {
    if (q.layout.grid != g.grid) continue;
    const std::uint64_t q_end = static_cast<std::uint64_t>(q.layout.offset) + q.size;
    if (g.offset < q_end && q.layout.offset < end)
      fail(on ? *on : static_cast<const toml::node&>(t), key + ".offset",
           "points [" + std::to_string(g.offset) + ", " + std::to_string(end) + ") of grid '" +
               g.grid + "' overlap those of population '" + q.name + "' ([" +
               std::to_string(q.layout.offset) + ", " + std::to_string(q_end) +
               ")); populations on one grid take disjoint ranges (e.g. offset = " +
               std::to_string(q_end) + ")");
  }
  return g;
}

void Validator::branching(const toml::table& doc, Experiment& ex) const {
  const toml::node* rn = doc.get("run");
  const toml::node* n = rn && rn->is_table() ? rn->as_table()->get("branching_factor") : nullptr;
  if (!n) return;
  const std::string key = "run.branching_factor";
  const toml::table& t = as_table(*n, key);
  check_keys(t, key, {"populations", "window", "start", "segments"});
  BranchingSpec& b = ex.run.branching;
  const toml::node& pn = required(t, key, "populations", " (the populations of the liquid)");
  const auto& a = array(pn, key + ".populations", "population names");
  if (a.empty()) fail(pn, key + ".populations", "must name at least one population");
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::string ek = key + ".populations[" + std::to_string(k) + "]";
    const std::string name = population_ref(*a.get(k), ek, ex).name;
    if (contains(b.populations, name)) fail(*a.get(k), ek, "'" + name + "' is listed twice");
    b.populations.push_back(name);
  }
  if (const auto* w = t.get("window")) b.window = interval(*w, key + ".window");
  if (const auto* s = t.get("start")) {
    b.start = finite(*s, key + ".start");
    if (b.start < 0 || b.start >= ex.run.duration)
      fail(*s, key + ".start",
           "must be in [0, run.duration = " + fmt(ex.run.duration) + ") ms, got " + fmt(b.start));
  }
  if (const auto* g = t.get("segments"))
    b.segments = static_cast<int>(integer(*g, key + ".segments", 1, 10000));
}

ConnectSpec Validator::connect(const toml::table& t, const std::string& prefix,
                               const PopulationSpec& pre, const PopulationSpec& post) const {
  static const std::vector<std::string> rules = {
      "all_to_all",      "one_to_one",         "fixed_probability", "fixed_indegree",
      "fixed_outdegree", "fixed_total_number", "distance",          "explicit"};
  ConnectSpec c;
  const toml::node& rule_node = required(t, prefix, "rule", " (one of " + quoted_list(rules) + ")");
  const std::string rule = choice(rule_node, prefix + ".rule", rules, "connection rule");
  std::vector<std::string> keys = {"rule"};
  if (rule != "explicit") keys.push_back("autapses");
  if (rule != "explicit" && rule != "distance") keys.push_back("multapses");
  if (rule == "distance") keys.insert(keys.end(), {"C", "lambda"});
  if (rule == "fixed_probability") keys.push_back("p");
  if (rule == "fixed_indegree") keys.push_back("indegree");
  if (rule == "fixed_outdegree") keys.push_back("outdegree");
  if (rule == "fixed_total_number") keys.push_back("N");
  if (rule == "explicit") keys.push_back("file");
  check_keys(t, prefix, keys, "unknown key for rule '" + rule + "'");
  if (const auto* n = t.get("autapses")) c.autapses = boolean(*n, prefix + ".autapses");
  if (const auto* n = t.get("multapses")) c.multapses = boolean(*n, prefix + ".multapses");
  const bool self = pre.name == post.name;

  if (rule == "all_to_all") {
    c.rule = ConnectSpec::Rule::all_to_all;
  } else if (rule == "one_to_one") {
    c.rule = ConnectSpec::Rule::one_to_one;
    if (pre.size != post.size)
      fail(rule_node, prefix + ".rule",
           "one_to_one needs populations of equal size, '" + pre.name + "' has " +
               std::to_string(pre.size) + " neurons and '" + post.name + "' has " +
               std::to_string(post.size));
  } else if (rule == "fixed_probability") {
    c.rule = ConnectSpec::Rule::fixed_probability;
    c.probability = in_range(required(t, prefix, "p"), prefix + ".p", kUnit);
  } else if (rule == "fixed_indegree" || rule == "fixed_outdegree") {
    const bool in = rule == "fixed_indegree";
    c.rule = in ? ConnectSpec::Rule::fixed_indegree : ConnectSpec::Rule::fixed_outdegree;
    const char* k = in ? "indegree" : "outdegree";
    const toml::node& n = required(t, prefix, k);
    c.degree = static_cast<std::uint32_t>(integer(n, prefix + "." + k, 0, 4294967295LL));
    // Without multapses each neuron needs that many distinct partners.
    const PopulationSpec& other = in ? pre : post;
    const std::uint64_t available = other.size - (self && !c.autapses ? 1u : 0u);
    if (!c.multapses && c.degree > available)
      fail(n, prefix + "." + k,
           std::string(k) + " " + std::to_string(c.degree) + " is more than the " +
               std::to_string(available) + " distinct " + (in ? "sources" : "targets") +
               " in population '" + other.name + "' (multapses = false" +
               (self && !c.autapses ? ", autapses = false)" : ")"));
  } else if (rule == "fixed_total_number") {
    c.rule = ConnectSpec::Rule::fixed_total_number;
    const toml::node& n = required(t, prefix, "N", " (the number of synapses)");
    c.total = static_cast<std::uint64_t>(integer(n, prefix + ".N", 0, 4294967295LL));
    const std::uint64_t pool = pre.size - (self && !c.autapses ? 1u : 0u);
    if (c.total > 0 && pool == 0)
      fail(n, prefix + ".N",
           "population '" + pre.name + "' has no source neuron to connect from" +
               (self && !c.autapses ? " (autapses = false)" : ""));
    // Without multapses every synapse needs a pair of its own.
    if (!c.multapses && c.total > pool * post.size)
      fail(n, prefix + ".N",
           "N " + std::to_string(c.total) + " is more than the " +
               std::to_string(pool * post.size) + " distinct pairs of '" + pre.name + "' and '" +
               post.name + "' (multapses = false" +
               (self && !c.autapses ? ", autapses = false)" : ")"));
  } else if (rule == "distance") {
    c.rule = ConnectSpec::Rule::distance;
    c.c = in_range(required(t, prefix, "C", " (the connection probability at distance 0)"),
                   prefix + ".C", kUnit);
    c.lambda = in_range(required(t, prefix, "lambda", " (the length scale, in grid units)"),
                        prefix + ".lambda", kPositive);
    for (const PopulationSpec* p : {&pre, &post})
      if (!p->layout.placed())
        fail(rule_node, prefix + ".rule",
             "rule 'distance' needs the positions of population '" + p->name +
                 "': give it a [population.layout]");
  } else {
    c.rule = ConnectSpec::Rule::explicit_list;
    const toml::node& n = required(t, prefix, "file", " (a CSV or HDF5 connection list)");
    const std::string file = string(n, prefix + ".file");
    std::filesystem::path full(file);
    if (full.is_relative()) full = std::filesystem::path(path_).parent_path() / full;
    c.file = full.string();
    const ConnectionLimits lim{pre.size, post.size, pre.name, post.name, dt_};
    const std::string ext = lower(full.extension().string());
    // A device or a pipe could be read forever ("/dev/zero").
    std::error_code ec;
    if (std::filesystem::exists(full, ec) && !std::filesystem::is_regular_file(full, ec))
      fail(n, prefix + ".file", "'" + full.string() + "' is not a regular file");
    try {
      if (ext == ".h5" || ext == ".hdf5")
        load_h5(full, file, lim, c);
      else
        load_csv(full, file, lim, c);
    } catch (const ListError& e) {
      fail(n, prefix + ".file", e.what());
    }
  }
  return c;
}

ProjectionSpec Validator::projection(const toml::table& t, std::size_t index,
                                     const Experiment& ex) const {
  ProjectionSpec p;
  p.where = loc(t);
  std::string prefix = "projection #" + std::to_string(index);
  check_keys(
      t, prefix,
      {"name", "pre", "post", "port", "weight", "delay", "max_delay", "connect", "plasticity"});
  const toml::node* name_node = t.get("name");
  if (name_node) {
    p.name = string(*name_node, prefix + ".name");
    if (p.name.empty() || p.name.find_first_of(". \t=") != std::string::npos)
      fail(*name_node, prefix + ".name",
           "'" + p.name + "' is not a valid name (non-empty, without '.', '=' or spaces)");
    prefix = "projection '" + p.name + "'";
  }
  const PopulationSpec& pre = population_ref(required(t, prefix, "pre"), prefix + ".pre", ex);
  const PopulationSpec& post = population_ref(required(t, prefix, "post"), prefix + ".post", ex);
  p.pre = pre.name;
  p.post = post.name;
  if (!name_node) {
    p.name = pre.name + "->" + post.name;
    prefix = "projection '" + p.name + "'";
  }
  for (const auto& q : ex.projections)
    if (q.name == p.name)
      fail(name_node ? *name_node : static_cast<const toml::node&>(t), prefix + ".name",
           "duplicate projection name '" + p.name + "' (first defined at " + q.where.str() +
               "); give each projection a distinct name");
  if (const auto* n = t.get("port")) p.port = port(*n, prefix + ".port", post);

  p.connect = connect(as_table(required(t, prefix, "connect"), prefix + ".connect"),
                      prefix + ".connect", pre, post);
  const bool file_weights = !p.connect.weights.empty();
  const bool file_delays = !p.connect.delays.empty();

  if (const auto* n = t.get("weight")) {
    if (file_weights)
      fail(*n, prefix + ".weight",
           "the connection file already gives the weights; remove this key");
    p.weight = value(*n, prefix + ".weight", kAny, false);
  } else if (!file_weights) {
    fail(t, prefix + ".weight", "required key missing (the synaptic weight)");
  }

  p.delay = Distribution::constant_of(dt_);
  if (const auto* n = t.get("delay")) {
    const std::string key = prefix + ".delay";
    if (file_delays) fail(*n, key, "the connection file already gives the delays; remove this key");
    p.delay = value(*n, key, kAny, false);
    if (p.delay.is_constant() && p.delay.value < dt_)
      fail(*n, key,
           "delay " + fmt(p.delay.value) + " ms is below the time step dt = " + fmt(dt_) + " ms");
    if (p.delay.lowest() < 0)
      fail(*n, key,
           "the delay distribution can produce negative delays (lowest value " +
               fmt(p.delay.lowest()) + " ms)" +
               (p.delay.kind == Distribution::Kind::normal ? "; set 'min' >= 0" : ""));
    if (std::isfinite(p.delay.highest()) && p.delay.highest() / dt_ > kMaxDelaySteps + 0.5)
      fail(*n, key,
           "delay " + fmt(p.delay.highest()) + " ms is longer than the longest delay (" +
               std::to_string(kMaxDelaySteps) + " steps of dt = " + fmt(dt_) + " ms)");
  }
  if (const auto* n = t.get("max_delay")) {
    // Room in the ring buffers for delays that grow during the run (delay plasticity).
    const std::string key = prefix + ".max_delay";
    p.max_delay = finite(*n, key);
    if (p.max_delay < dt_ || p.max_delay / dt_ > kMaxDelaySteps + 0.5)
      fail(*n, key,
           "must be between dt = " + fmt(dt_) + " ms and " + std::to_string(kMaxDelaySteps) +
               " steps, got " + fmt(p.max_delay));
    const double longest = file_delays
                               ? *std::max_element(p.connect.delays.begin(), p.connect.delays.end())
                               : p.delay.highest();
    if (longest > p.max_delay * (1 + 1e-12))
      fail(*n, key,
           "max_delay " + fmt(p.max_delay) + " ms is below the longest delay (" + fmt(longest) +
               " ms" + (file_delays ? " in the connection file)" : ")"));
  }
  if (const auto* n = t.get("plasticity")) {
    const std::string key = prefix + ".plasticity";
    p.plasticity = plasticity(as_table(*n, key), key, ex);
    const PlasticityInfo& info = *PlasticityRegistry::global().find(p.plasticity.rule);
    // Pre-synaptic events of most rules are processed on arrival with one trace per
    // source neuron, which needs one delay for the whole projection.
    if (info.on_arrival && (!p.delay.is_constant() || file_delays))
      fail(*n, key,
           "plasticity rule '" + p.plasticity.rule +
               "' needs one delay for the whole projection; 'delay' must be a number");
    if (info.check) {
      PlasticityUse use;
      use.params = p.plasticity.params.data();
      use.options = p.plasticity.options.data();
      use.dt = dt_;
      use.constant_delay = p.delay.is_constant() && !file_delays;
      use.delay_min = file_delays
                          ? *std::min_element(p.connect.delays.begin(), p.connect.delays.end())
                          : p.delay.lowest();
      use.delay_max = file_delays
                          ? *std::max_element(p.connect.delays.begin(), p.connect.delays.end())
                          : p.delay.highest();
      use.max_delay = p.max_delay;
      use.pre_model = ex.populations[static_cast<std::size_t>(ex.population_index(p.pre))].model;
      use.post_model = ex.populations[static_cast<std::size_t>(ex.population_index(p.post))].model;
      const std::string why = info.check(use);
      if (!why.empty()) fail(*n, key, why);
    }
  }
  return p;
}

PlasticitySpec Validator::plasticity(const toml::table& t, const std::string& prefix,
                                     const Experiment& ex) const {
  PlasticitySpec ps;
  ps.where = loc(t);
  const auto& reg = PlasticityRegistry::global();
  ps.rule = choice(required(t, prefix, "rule"), prefix + ".rule", reg.names(), "plasticity rule");
  const PlasticityInfo& info = *reg.find(ps.rule);
  std::vector<std::string> allowed{"rule"};
  for (const auto& sp : info.params) allowed.emplace_back(sp.name);
  for (const auto& op : info.options) allowed.emplace_back(op.name);
  for (const auto& rf : info.refs) allowed.emplace_back(rf.name);
  check_keys(t, prefix, allowed, "unknown key of plasticity rule '" + ps.rule + "'");
  for (const auto& rf : info.refs) {
    const std::string key = prefix + "." + std::string(rf.name);
    const toml::node* n = t.get(rf.name);
    if (!n) {
      if (rf.required)
        fail(t, key,
             "plasticity rule '" + ps.rule + "' needs '" + std::string(rf.name) + "' (" +
                 std::string(rf.doc) + ")");
      ps.refs.emplace_back();
      continue;
    }
    const ModulatorName m = modulator_ref(*n, key, ex);
    if (!rf.types.empty() &&
        std::find(rf.types.begin(), rf.types.end(), m.type) == rf.types.end()) {
      std::string types;
      for (const auto& ty : rf.types)
        types += (types.empty() ? "'" : ", '") + std::string(ty) + "'";
      fail(*n, key,
           "modulator '" + m.name + "' is of type '" + m.type + "'; '" + std::string(rf.name) +
               "' needs a modulator of type " + types);
    }
    ps.refs.push_back(m.name);
  }
  for (const auto& sp : info.params) {
    const toml::node* n = t.get(sp.name);
    if (!n && std::isnan(sp.default_value))
      fail(t, prefix + "." + std::string(sp.name),
           "required key missing (" + std::string(sp.doc) +
               (sp.unit == "1" ? "" : ", in " + std::string(sp.unit)) + ")");
    ps.params.push_back(n ? in_range(*n, prefix + "." + std::string(sp.name), sp.range)
                          : sp.default_value);
  }
  for (const auto& op : info.options) {
    int index = 0;
    if (const toml::node* n = t.get(op.name)) {
      std::vector<std::string> choices(op.choices.begin(), op.choices.end());
      const std::string c = choice(*n, prefix + "." + std::string(op.name), choices, "choice");
      index = static_cast<int>(std::find(choices.begin(), choices.end(), c) - choices.begin());
    }
    ps.options.push_back(index);
  }
  return ps;
}

InputSpec Validator::input(const toml::table& t, std::size_t index, const Experiment& ex) const {
  static const std::vector<std::string> types = {"poisson", "spike_times", "dc", "step_current",
                                                 "noise"};
  static const std::map<std::string, std::vector<std::string>> type_keys = {
      {"poisson", {"rate", "weight", "port", "start", "stop"}},
      {"spike_times", {"times", "ids", "weight", "port", "delay", "period", "start", "stop"}},
      {"dc", {"amplitude", "start", "stop"}},
      {"step_current", {"times", "amplitudes"}},
      {"noise", {"mean", "std", "dist", "interval", "start", "stop"}},
  };
  InputSpec in;
  in.where = loc(t);
  std::string prefix = "input #" + std::to_string(index);
  if (const auto* n = t.get("name")) {
    in.name = string(*n, prefix + ".name");
    if (in.name.empty() || in.name.find_first_of(". \t=") != std::string::npos)
      fail(*n, prefix + ".name",
           "'" + in.name + "' is not a valid name (non-empty, without '.', '=' or spaces)");
    prefix = "input '" + in.name + "'";
    for (const auto& q : ex.inputs)
      if (q.name == in.name)
        fail(*n, prefix + ".name",
             "duplicate input name '" + in.name + "' (first defined at " + q.where.str() + ")");
  }
  const std::string type =
      choice(required(t, prefix, "type", " (one of " + quoted_list(types) + ")"), prefix + ".type",
             types, "input type");
  in.type =
      static_cast<InputSpec::Type>(std::find(types.begin(), types.end(), type) - types.begin());
  std::vector<std::string> keys = {"type", "name", "target", "neurons"};
  const auto& own = type_keys.at(type);
  keys.insert(keys.end(), own.begin(), own.end());
  std::vector<std::string> others;
  for (const auto& [ty, ks] : type_keys)
    for (const auto& k : ks)
      if (!contains(keys, k)) others.push_back(k);
  check_keys(t, prefix, keys, "unknown key", others, "is not a setting of '" + type + "' inputs");

  const PopulationSpec& target =
      population_ref(required(t, prefix, "target"), prefix + ".target", ex);
  in.target = target.name;
  if (const auto* n = t.get("neurons")) in.neurons = indices(*n, prefix + ".neurons", target);

  auto key = [&](const char* k) { return prefix + "." + k; };
  auto time = [&](const char* k, double& out) {
    if (const auto* n = t.get(k)) {
      out = finite(*n, key(k));
      if (out < 0) fail(*n, key(k), "must be >= 0, got " + fmt(out));
    }
  };
  time("start", in.start);
  if (const auto* n = t.get("stop")) {
    in.stop = finite(*n, key("stop"));
    if (in.stop < in.start)
      fail(*n, key("stop"), "must be >= start (" + fmt(in.start) + " ms), got " + fmt(in.stop));
  }
  if (const auto* n = t.get("port")) in.port = port(*n, key("port"), target);
  auto at_least_dt = [&](const char* k, double& out) {
    if (const auto* n = t.get(k)) {
      out = finite(*n, key(k));
      if (out < dt_)
        fail(*n, key(k),
             "must be at least the time step dt = " + fmt(dt_) + " ms, got " + fmt(out));
    }
  };
  // Times must be ordered; `strict` forbids equal neighbours.
  auto times = [&](bool strict) {
    const toml::node& n = required(t, prefix, "times");
    std::vector<double> v = numbers(n, key("times"));
    for (std::size_t k = 0; k < v.size(); ++k) {
      const std::string ek = key("times") + "[" + std::to_string(k) + "]";
      if (v[k] < 0) fail(*n.as_array()->get(k), ek, "must be >= 0, got " + fmt(v[k]));
      if (k > 0 && (strict ? v[k] <= v[k - 1] : v[k] < v[k - 1]))
        fail(*n.as_array()->get(k), ek,
             std::string("times must be ") + (strict ? "strictly increasing" : "non-decreasing") +
                 ", got " + fmt(v[k]) + " after " + fmt(v[k - 1]));
    }
    return v;
  };

  switch (in.type) {
  case InputSpec::Type::poisson:
    in.rate = finite(required(t, prefix, "rate", " (Hz)"), key("rate"));
    if (in.rate < 0) fail(*t.get("rate"), key("rate"), "must be >= 0, got " + fmt(in.rate));
    in.weight = finite(required(t, prefix, "weight"), key("weight"));
    break;
  case InputSpec::Type::spike_times: {
    in.times = times(false);
    in.weight = finite(required(t, prefix, "weight"), key("weight"));
    at_least_dt("delay", in.delay);
    if (const auto* n = t.get("period")) {
      // The pattern of `times` repeats every period (from `start`, until `stop`).
      in.period = interval(*n, key("period"));
      if (!in.times.empty() && !(in.times.back() < in.period))
        fail(*n, key("period"),
             "every time must be below the period (" + fmt(in.period) + " ms), got " +
                 fmt(in.times.back()));
    }
    if (const auto* n = t.get("ids")) {
      const auto& a = array(*n, key("ids"), "neuron indices");
      if (a.size() != in.times.size())
        fail(*n, key("ids"),
             "must have one entry per spike time (" + std::to_string(in.times.size()) + "), got " +
                 std::to_string(a.size()));
      const std::uint64_t limit = in.neurons.empty() ? target.size : in.neurons.size();
      for (std::size_t k = 0; k < a.size(); ++k) {
        const std::string ek = key("ids") + "[" + std::to_string(k) + "]";
        const std::int64_t v = integer(*a.get(k), ek, 0, std::numeric_limits<std::int64_t>::max());
        if (static_cast<std::uint64_t>(v) >= limit)
          fail(*a.get(k), ek,
               "id " + std::to_string(v) + " is out of range (" +
                   (in.neurons.empty() ? "population '" + target.name + "' has "
                                       : std::string("'neurons' lists ")) +
                   std::to_string(limit) + " neurons)");
        in.ids.push_back(static_cast<std::uint32_t>(v));
      }
    }
    break;
  }
  case InputSpec::Type::dc:
    in.amplitude = finite(required(t, prefix, "amplitude", " (pA)"), key("amplitude"));
    break;
  case InputSpec::Type::step_current: {
    in.times = times(true);
    const toml::node& n = required(t, prefix, "amplitudes", " (pA)");
    in.amplitudes = numbers(n, key("amplitudes"));
    if (in.amplitudes.size() != in.times.size())
      fail(n, key("amplitudes"),
           "must have one entry per time (" + std::to_string(in.times.size()) + "), got " +
               std::to_string(in.amplitudes.size()));
    break;
  }
  case InputSpec::Type::noise:
    if (const auto* n = t.get("mean")) in.mean = finite(*n, key("mean"));
    in.std = finite(required(t, prefix, "std", " (pA)"), key("std"));
    if (in.std < 0) fail(*t.get("std"), key("std"), "must be >= 0, got " + fmt(in.std));
    if (const auto* n = t.get("dist"))
      in.uniform =
          choice(*n, key("dist"), {"normal", "uniform"}, "noise distribution") == "uniform";
    at_least_dt("interval", in.interval);
    break;
  }
  return in;
}

RecordSpec Validator::record(const toml::table& t, std::size_t index, const Experiment& ex) const {
  RecordSpec r;
  r.where = loc(t);
  const std::string prefix = "record #" + std::to_string(index);
  const std::string type =
      choice(required(t, prefix, "type", " ('spikes', 'state', 'modulator' or 'weights')"),
             prefix + ".type", {"spikes", "state", "modulator", "weights"}, "record type");
  if (type == "modulator") return modulator_record(t, prefix, ex);
  if (type == "weights") return weights_record(t, prefix, ex);
  r.type = type == "spikes" ? RecordSpec::Type::spikes : RecordSpec::Type::state;
  if (r.type == RecordSpec::Type::spikes)
    check_keys(t, prefix, {"type", "population", "neurons", "enabled"}, "unknown key",
               {"variables", "interval"}, "is only for state records");
  else
    check_keys(t, prefix, {"type", "population", "neurons", "variables", "interval", "enabled"});
  const PopulationSpec& pop =
      population_ref(required(t, prefix, "population"), prefix + ".population", ex);
  r.population = pop.name;
  if (const auto* n = t.get("neurons")) r.neurons = indices(*n, prefix + ".neurons", pop);
  if (r.type == RecordSpec::Type::spikes) return r;

  const ModelInfo* info = Registry::global().find(pop.model);
  const auto state_names = spec_names(info->state);
  const toml::node& vn = required(t, prefix, "variables", " (state variable names)");
  const auto& a = array(vn, prefix + ".variables", "state variable names");
  if (a.empty()) fail(vn, prefix + ".variables", "must name at least one state variable");
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::string ek = prefix + ".variables[" + std::to_string(k) + "]";
    const std::string v = string(*a.get(k), ek);
    // "m" records every element of a vector state, "m[3]" one element.
    std::string base = v;
    if (const auto open = v.find('['); open != std::string::npos) {
      base = v.substr(0, open);
      const std::string idx = v.substr(open + 1, v.size() - open - 2);
      std::uint64_t element = 0;
      const auto res = std::from_chars(idx.data(), idx.data() + idx.size(), element);
      if (v.back() != ']' || idx.empty() || res.ec != std::errc() ||
          res.ptr != idx.data() + idx.size())
        fail(*a.get(k), ek, "'" + v + "' is not a variable name or 'name[index]'");
      const int s = find_spec(info->state, base);
      if (s >= 0 && info->state[static_cast<std::size_t>(s)].width > 0 &&
          element >= static_cast<std::uint64_t>(info->state[static_cast<std::size_t>(s)].width))
        fail(*a.get(k), ek,
             "element " + std::to_string(element) + " is out of range ('" + base + "' has " +
                 std::to_string(info->state[static_cast<std::size_t>(s)].width) + " elements)");
    }
    if (!contains(state_names, base))
      fail(*a.get(k), ek,
           "unknown state variable '" + base + "' of model '" + pop.model + "'" +
               suggest(base, state_names));
    if (contains(r.variables, v)) fail(*a.get(k), ek, "'" + v + "' is listed twice");
    r.variables.push_back(v);
  }
  if (const auto* n = t.get("interval")) {
    r.interval = finite(*n, prefix + ".interval");
    const double steps = r.interval / dt_;
    if (r.interval < dt_ * (1 - 1e-9) || std::fabs(steps - std::round(steps)) > 1e-9 * steps)
      fail(*n, prefix + ".interval",
           "must be a multiple of the time step dt = " + fmt(dt_) + " ms, got " + fmt(r.interval));
  }
  return r;
}

ModulatorSpec Validator::modulator(const toml::table& t, std::size_t index,
                                   const Experiment& ex) const {
  ModulatorSpec m;
  m.where = loc(t);
  std::string prefix = "modulator #" + std::to_string(index);
  const toml::node& nn = required(t, prefix, "name");
  m.name = string(nn, prefix + ".name");
  if (m.name.empty() || m.name.find_first_of(". \t=/") != std::string::npos)
    fail(nn, prefix + ".name",
         "'" + m.name + "' is not a valid name (non-empty, without '.', '/', '=' or spaces)");
  prefix = "modulator '" + m.name + "'";
  for (const auto& q : ex.modulators)
    if (q.name == m.name)
      fail(nn, prefix + ".name",
           "duplicate modulator name '" + m.name + "' (first defined at " + q.where.str() + ")");
  // Modulators are recorded next to populations (/report/<name>/...): names must differ.
  if (ex.population_index(m.name) >= 0)
    fail(nn, prefix + ".name", "'" + m.name + "' is already the name of a population");
  const auto& reg = ModulatorRegistry::global();
  m.type = choice(required(t, prefix, "type"), prefix + ".type", reg.names(), "modulator type");
  const ModulatorInfo& info = *reg.find(m.type);
  std::vector<std::string> allowed{"name", "type"};
  for (const auto& sp : info.params) allowed.emplace_back(sp.name);
  for (const auto& op : info.options) allowed.emplace_back(op.name);
  for (const auto& a : info.arrays) allowed.emplace_back(a.name);
  for (const auto& o : info.objects) allowed.emplace_back(o.name);
  check_keys(t, prefix, allowed, "unknown key of modulator type '" + m.type + "'");
  for (const auto& sp : info.params) {
    const toml::node* n = t.get(sp.name);
    m.params.push_back(n ? in_range(*n, prefix + "." + std::string(sp.name), sp.range)
                         : sp.default_value);
  }
  for (const auto& op : info.options) {
    int idx = 0;
    if (const toml::node* n = t.get(op.name)) {
      std::vector<std::string> choices(op.choices.begin(), op.choices.end());
      const std::string c = choice(*n, prefix + "." + std::string(op.name), choices, "choice");
      idx = static_cast<int>(std::find(choices.begin(), choices.end(), c) - choices.begin());
    }
    m.options.push_back(idx);
  }
  for (const auto& a : info.arrays) {
    const std::string key = prefix + "." + std::string(a.name);
    const toml::node* n = t.get(a.name);
    if (!n && a.required) fail(t, key, "required key missing (" + std::string(a.doc) + ")");
    m.arrays.push_back(n ? numbers(*n, key) : std::vector<double>{});
  }
  for (const auto& o : info.objects) {
    const std::string key = prefix + "." + std::string(o.name);
    const toml::node* n = t.get(o.name);
    std::vector<std::string> names;
    if (!n) {
      if (o.required) fail(t, key, "required key missing (" + std::string(o.doc) + ")");
    } else if (o.kind == ObjectRefSpec::Kind::populations) {
      const auto& arr = array(*n, key, "population names");
      for (std::size_t k = 0; k < arr.size(); ++k)
        names.push_back(population_ref(*arr.get(k), key + "[" + std::to_string(k) + "]", ex).name);
    } else if (o.kind == ObjectRefSpec::Kind::population) {
      names.push_back(population_ref(*n, key, ex).name);
    } else {
      names.push_back(projection_ref(*n, key, ex).name);
    }
    m.objects.push_back(std::move(names));
  }
  if (info.check) {
    ModulatorCheck c;
    c.params = m.params.data();
    c.options = m.options.data();
    c.arrays = &m.arrays;
    c.objects = &m.objects;
    c.dt = dt_;
    const std::string why = info.check(c);
    if (!why.empty()) fail(t, prefix, why);
  }
  return m;
}

RecordSpec Validator::modulator_record(const toml::table& t, const std::string& prefix,
                                       const Experiment& ex) const {
  RecordSpec r;
  r.where = loc(t);
  r.type = RecordSpec::Type::modulator;
  check_keys(t, prefix, {"type", "modulator", "variables", "neurons", "interval", "enabled"});
  const toml::node& mn = required(t, prefix, "modulator", " (the name of a [[modulator]])");
  const int mi = ex.modulator_index(string(mn, prefix + ".modulator"));
  if (mi < 0) modulator_ref(mn, prefix + ".modulator", ex); // reports the unknown name
  const ModulatorSpec& m = ex.modulators[static_cast<std::size_t>(mi)];
  r.population = m.name;
  const ModulatorInfo& info = *ModulatorRegistry::global().find(m.type);
  const auto names = spec_names(info.variables);
  if (const auto* vn = t.get("variables")) {
    const auto& a = array(*vn, prefix + ".variables", "variable names");
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string ek = prefix + ".variables[" + std::to_string(k) + "]";
      const std::string v = string(*a.get(k), ek);
      if (!contains(names, v))
        fail(*a.get(k), ek,
             "unknown variable '" + v + "' of modulator type '" + m.type + "'" + suggest(v, names));
      if (contains(r.variables, v)) fail(*a.get(k), ek, "'" + v + "' is listed twice");
      r.variables.push_back(v);
    }
  } else {
    r.variables = names;
  }
  // Per-neuron signals: which elements (checked against the width when built).
  if (const auto* n = t.get("neurons")) {
    const auto& a = array(*n, prefix + ".neurons", "indices");
    for (std::size_t k = 0; k < a.size(); ++k)
      r.neurons.push_back(static_cast<std::uint32_t>(
          integer(*a.get(k), prefix + ".neurons[" + std::to_string(k) + "]", 0, 4294967295LL)));
  }
  if (const auto* n = t.get("interval")) r.interval = interval(*n, prefix + ".interval");
  return r;
}

RecordSpec Validator::weights_record(const toml::table& t, const std::string& prefix,
                                     const Experiment& ex) const {
  RecordSpec r;
  r.where = loc(t);
  r.type = RecordSpec::Type::weights;
  WeightRecordSpec& w = r.weights;
  w.prefix = prefix;
  check_keys(t, prefix,
             {"type", "projection", "synapses", "histogram", "variables", "interval", "start",
              "times", "enabled"});
  const ProjectionSpec& proj =
      projection_ref(required(t, prefix, "projection", " (the name of a [[projection]])"),
                     prefix + ".projection", ex);
  w.projection = proj.name;

  const toml::node* syn = t.get("synapses");
  const toml::node* hist = t.get("histogram");
  if (syn && hist)
    fail(*hist, prefix + ".histogram",
         "give either 'synapses' or 'histogram', not both (use one record for each)");
  if (!syn && !hist)
    fail(
        t, prefix + ".synapses",
        "required key missing (a list of [pre, post] pairs; or 'histogram' = { bins, low, high })");
  if (syn) {
    const std::string key = prefix + ".synapses";
    const PopulationSpec& pre =
        ex.populations[static_cast<std::size_t>(ex.population_index(proj.pre))];
    const PopulationSpec& post =
        ex.populations[static_cast<std::size_t>(ex.population_index(proj.post))];
    const auto& a = array(*syn, key, "[pre, post] pairs");
    if (a.empty()) fail(*syn, key, "must list at least one [pre, post] pair");
    std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string ek = key + "[" + std::to_string(k) + "]";
      const toml::node& e = *a.get(k);
      const toml::array* pair = e.as_array();
      if (!pair || pair->size() != 2) fail(e, ek, "expected a [pre, post] pair of neuron indices");
      std::uint32_t ends[2] = {0, 0};
      for (int side = 0; side < 2; ++side) {
        const PopulationSpec& pop = side == 0 ? pre : post;
        const toml::node& v = *pair->get(static_cast<std::size_t>(side));
        const std::int64_t i = integer(v, ek + "[" + std::to_string(side) + "]", 0,
                                       std::numeric_limits<std::int64_t>::max());
        if (i >= static_cast<std::int64_t>(pop.size))
          fail(v, ek,
               std::string(side == 0 ? "pre" : "post") + " neuron " + std::to_string(i) +
                   " is out of range (population '" + pop.name + "' has " +
                   std::to_string(pop.size) + " neurons)");
        ends[side] = static_cast<std::uint32_t>(i);
      }
      if (!seen.insert({ends[0], ends[1]}).second)
        fail(e, ek,
             "pair [" + std::to_string(ends[0]) + ", " + std::to_string(ends[1]) +
                 "] is listed twice");
      w.synapses.emplace_back(ends[0], ends[1]);
      w.synapse_where.push_back(loc(e));
    }
  } else {
    const std::string key = prefix + ".histogram";
    const toml::table& h = as_table(*hist, key);
    check_keys(h, key, {"bins", "low", "high"});
    w.bins = static_cast<std::uint32_t>(
        integer(required(h, key, "bins", " (number of bins)"), key + ".bins", 1, 1000000));
    w.low = finite(required(h, key, "low", " (lower edge of the first bin)"), key + ".low");
    const toml::node& hn = required(h, key, "high", " (upper edge of the last bin)");
    w.high = finite(hn, key + ".high");
    if (!(w.low < w.high))
      fail(hn, key + ".high", "must be greater than low = " + fmt(w.low) + ", got " + fmt(w.high));
  }

  if (const auto* vn = t.get("variables")) {
    const std::vector<std::string> names{"weight", "delay"};
    const auto& a = array(*vn, prefix + ".variables", "variable names");
    if (a.empty()) fail(*vn, prefix + ".variables", "must name 'weight', 'delay' or both");
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string ek = prefix + ".variables[" + std::to_string(k) + "]";
      const std::string v = choice(*a.get(k), ek, names, "synapse variable");
      if (contains(r.variables, v)) fail(*a.get(k), ek, "'" + v + "' is listed twice");
      r.variables.push_back(v);
    }
  } else {
    r.variables = {"weight"};
  }

  const toml::node* iv = t.get("interval");
  const toml::node* tv = t.get("times");
  const toml::node* sv = t.get("start");
  if (tv && (iv || sv))
    fail(*tv, prefix + ".times", "give either 'times' or 'interval' (and 'start'), not both");
  if (!tv && !iv)
    fail(t, prefix + ".interval",
         "required key missing (ms between samples; or 'times', a list of sample times in ms)");
  if (iv) r.interval = interval(*iv, prefix + ".interval");
  if (sv) w.start = step_time(*sv, prefix + ".start");
  if (tv) {
    const auto& a = array(*tv, prefix + ".times", "times (ms)");
    if (a.empty()) fail(*tv, prefix + ".times", "must list at least one time");
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string ek = prefix + ".times[" + std::to_string(k) + "]";
      const double v = step_time(*a.get(k), ek);
      if (!w.times.empty() && v <= w.times.back())
        fail(*a.get(k), ek, "times must increase, got " + fmt(v) + " after " + fmt(w.times.back()));
      w.times.push_back(v);
    }
  }

  // One report per projection, variable and kind: a second one would overwrite the first.
  for (const auto& q : ex.records) {
    if (q.type != RecordSpec::Type::weights || q.weights.projection != w.projection ||
        q.weights.synapses.empty() != w.synapses.empty())
      continue;
    for (const auto& v : r.variables)
      if (contains(q.variables, v))
        fail(t, prefix,
             std::string(w.synapses.empty() ? "a histogram" : "synapses") + " of '" + v +
                 "' of projection '" + w.projection + "' are already recorded at " + q.where.str());
  }
  return r;
}

// The pipeline tables' numbers, declared once (they appear in messages with their ranges).
constexpr ParamSpec kDatasetNumbers[] = {
    {"window", "ms", 250.0, kPositive, "presentation window per sample (feature extraction)"},
    {"scale", "pA", 100.0, kPositive, "current encoding: current at the largest normalised pixel"},
    {"max_rate", "Hz", 100.0, kPositive, "poisson encoding: rate at pixel value 255"},
    {"weight", "pA", 10.0, kAny, "poisson encoding: weight of one input spike"},
};
constexpr ParamSpec kTrainingNumbers[] = {
    {"window", "ms", 20.0, kPositive, "presentation window per training image"},
};
constexpr ParamSpec kFeatureNumbers[] = {
    {"trace_tau", "ms", 20.0, kPositive, "time constant of the low-pass spike traces"},
    {"rate_decay", "1", 1.0, Range{0.0, 1.0, true, false},
     "plastic features: the rules' rates are multiplied by this every step of a window"},
};
constexpr ParamSpec kReadoutNumbers[] = {
    {"l2", "", 1e-4, kNonNegative, "L2 penalty (l2 / 2) |W|^2 added to the mean cross-entropy"},
    {"learning_rate", "", 1e-3, kPositive, "Adam step size"},
};

void Validator::pipeline(const toml::table& doc, Experiment& ex) const {
  const toml::node* dn = doc.get("dataset");
  if (!dn) {
    for (const char* k : {"training", "features", "readout"})
      if (const toml::node* n = doc.get(k))
        fail(*n, k, std::string("[") + k + "] needs a [dataset] table (the samples it works on)");
    return;
  }
  DatasetSpec& d = ex.dataset;
  const toml::table& t = as_table(*dn, "dataset");
  d.where = loc(t);
  check_keys(t, "dataset",
             {"name", "dir", "train", "validation", "test", "encoding", "scale", "max_rate",
              "weight", "port", "target", "window"});
  d.name = choice(required(t, "dataset", "name", " (\"fashion_mnist\")"), "dataset.name",
                  {"fashion_mnist"}, "dataset");
  if (const auto* n = t.get("dir")) d.dir = string(*n, "dataset.dir");
  if (const auto* n = t.get("train"))
    d.train = static_cast<std::uint32_t>(integer(*n, "dataset.train", 1, 60000));
  if (const auto* n = t.get("validation"))
    d.validation = static_cast<std::uint32_t>(integer(*n, "dataset.validation", 1, 60000));
  if (const auto* n = t.get("test"))
    d.test = static_cast<std::uint32_t>(integer(*n, "dataset.test", 1, 10000));
  if (d.train + d.validation > 60000) {
    const toml::node* at = t.get("validation") ? t.get("validation") : t.get("train");
    fail(*at, "dataset.validation",
         "train + validation must be at most the 60000 images of the training file, got " +
             std::to_string(d.train) + " + " + std::to_string(d.validation));
  }
  if (const auto* n = t.get("encoding"))
    d.encoding = choice(*n, "dataset.encoding", {"current", "poisson"}, "encoding");
  double* dn_out[] = {&d.window, &d.scale, &d.max_rate, &d.weight};
  spec_numbers(t, "dataset", kDatasetNumbers, dn_out);
  if (const auto* n = t.get("window")) {
    if (d.window < ex.run.dt)
      fail(*n, "dataset.window",
           "must be at least one time step (dt = " + fmt(ex.run.dt) + " ms), got " + fmt(d.window));
    interval(*n, "dataset.window");
  }
  const toml::node* tn = t.get("target");
  const PopulationSpec* target = nullptr;
  if (tn) {
    target = &population_ref(*tn, "dataset.target", ex);
  } else {
    const int i = ex.population_index(d.target);
    if (i < 0)
      fail(t, "dataset.target",
           "no population named 'input' (name the population that receives the pixels)");
    target = &ex.populations[static_cast<std::size_t>(i)];
  }
  d.target = target->name;
  if (target->size != 784)
    fail(tn ? *tn : static_cast<const toml::node&>(t), "dataset.target",
         "population '" + target->name + "' has " + std::to_string(target->size) +
             " neurons; the images have 784 pixels, one per neuron");
  if (const auto* n = t.get("port")) {
    if (d.encoding != "poisson")
      fail(*n, "dataset.port", "only the poisson encoding delivers spikes to a port");
    d.port = port(*n, "dataset.port", *target);
  }

  if (const toml::node* n = doc.get("training")) {
    const toml::table& tt = as_table(*n, "training");
    check_keys(tt, "training", {"images", "window", "reset", "threads", "learn"});
    TrainingSpec& tr = ex.training;
    if (const auto* v = tt.get("images"))
      tr.images = static_cast<std::uint32_t>(integer(*v, "training.images", 0, d.train));
    double* out[] = {&tr.window};
    spec_numbers(tt, "training", kTrainingNumbers, out);
    if (const auto* v = tt.get("window")) {
      if (tr.window < ex.run.dt)
        fail(*v, "training.window",
             "must be at least one time step (dt = " + fmt(ex.run.dt) + " ms), got " +
                 fmt(tr.window));
      interval(*v, "training.window");
    }
    if (const auto* v = tt.get("reset")) tr.reset = boolean(*v, "training.reset");
    if (const auto* v = tt.get("threads"))
      tr.threads = static_cast<int>(integer(*v, "training.threads", 0, 65536));
    if (const auto* ln = tt.get("learn")) {
      const auto& a = array(*ln, "training.learn", "projection names");
      std::vector<std::string> plastic;
      for (const auto& pr : ex.projections)
        if (!pr.plasticity.rule.empty()) plastic.push_back(pr.name);
      for (std::size_t k = 0; k < a.size(); ++k) {
        const std::string ek = "training.learn[" + std::to_string(k) + "]";
        const std::string name = string(*a.get(k), ek);
        const int j = ex.projection_index(name);
        if (j < 0) fail(*a.get(k), ek, "no projection '" + name + "'" + suggest(name, plastic));
        if (ex.projections[static_cast<std::size_t>(j)].plasticity.rule.empty())
          fail(*a.get(k), ek,
               "projection '" + name + "' has no [projection.plasticity]: it cannot learn");
        if (contains(tr.learn, name)) fail(*a.get(k), ek, "'" + name + "' is listed twice");
        tr.learn.push_back(name);
      }
      // The others keep their initial weights throughout, exactly as without their
      // [projection.plasticity] table.
      for (auto& pr : ex.projections)
        if (!pr.plasticity.rule.empty() && !contains(tr.learn, pr.name))
          pr.plasticity = PlasticitySpec{};
    }
  }

  FeaturesSpec& f = ex.features;
  const toml::table* ft = nullptr;
  if (const toml::node* n = doc.get("features")) {
    ft = &as_table(*n, "features");
    check_keys(
        *ft, "features",
        {"populations", "counts", "trace_times", "trace_tau", "save", "plastic", "rate_decay"});
    if (const auto* pn = ft->get("populations")) {
      const auto& a = array(*pn, "features.populations", "population names");
      if (a.empty()) fail(*pn, "features.populations", "must name at least one population");
      for (std::size_t k = 0; k < a.size(); ++k) {
        const std::string ek = "features.populations[" + std::to_string(k) + "]";
        const std::string name = population_ref(*a.get(k), ek, ex).name;
        if (contains(f.populations, name)) fail(*a.get(k), ek, "'" + name + "' is listed twice");
        f.populations.push_back(name);
      }
    }
    if (const auto* v = ft->get("counts")) f.counts = boolean(*v, "features.counts");
    if (const auto* v = ft->get("trace_times")) {
      const auto& a = array(*v, "features.trace_times", "times (ms)");
      for (std::size_t k = 0; k < a.size(); ++k) {
        const std::string ek = "features.trace_times[" + std::to_string(k) + "]";
        const double tm = step_time(*a.get(k), ek);
        if (tm <= 0 || tm > d.window)
          fail(*a.get(k), ek,
               "must be in (0, dataset.window = " + fmt(d.window) + "] ms, got " + fmt(tm));
        if (!f.trace_times.empty() && tm <= f.trace_times.back())
          fail(*a.get(k), ek, "times must increase");
        f.trace_times.push_back(tm);
      }
    }
    double* out[] = {&f.trace_tau, &f.rate_decay};
    spec_numbers(*ft, "features", kFeatureNumbers, out);
    if (const auto* v = ft->get("save")) f.save = boolean(*v, "features.save");
    if (const auto* v = ft->get("plastic")) f.plastic = boolean(*v, "features.plastic");
    if (const auto* v = ft->get("rate_decay"); v && f.rate_decay != 1.0) {
      if (!f.plastic)
        fail(*v, "features.rate_decay",
             "fades the rates of plastic features: it needs features.plastic = true");
      for (const auto& pr : ex.projections) {
        if (pr.plasticity.rule.empty()) continue;
        if (!PlasticityRegistry::global().find(pr.plasticity.rule)->fading_rates)
          fail(*v, "features.rate_decay",
               "projection '" + pr.name + "' learns with rule '" + pr.plasticity.rule +
                   "', whose rates cannot fade (astro_stdp's can); leave rate_decay at 1");
      }
    }
  }
  if (f.populations.empty())
    for (const auto& p : ex.populations)
      if (p.name != d.target) f.populations.push_back(p.name);
  if (f.populations.empty())
    fail(ft ? *ft : t, "features.populations",
         "no population besides the dataset target to read features from");
  if (!f.counts && f.trace_times.empty())
    fail(ft ? *ft : t, "features",
         "counts = false and no trace_times: the readout would see nothing");

  if (const toml::node* n = doc.get("readout")) {
    const toml::table& rt = as_table(*n, "readout");
    check_keys(rt, "readout", {"type", "l2", "epochs", "batch", "learning_rate"});
    ReadoutSpec& r = ex.readout;
    if (const auto* v = rt.get("type"))
      r.type = choice(*v, "readout.type", {"softmax"}, "readout type");
    if (const auto* v = rt.get("epochs"))
      r.epochs = static_cast<std::uint32_t>(integer(*v, "readout.epochs", 1, 100000));
    if (const auto* v = rt.get("batch"))
      r.batch = static_cast<std::uint32_t>(integer(*v, "readout.batch", 1, 1 << 20));
    double* out[] = {&r.l2, &r.learning_rate};
    spec_numbers(rt, "readout", kReadoutNumbers, out);
  }
}

void Validator::build(const toml::table& doc, Experiment& ex) {
  // [sweep] is glia sweep's (io/sweep.hpp): a run of the same file ignores it.
  check_keys(doc, "",
             {"run", "population", "projection", "input", "modulator", "record", "dataset",
              "training", "features", "readout", "sweep"},
             "unknown section");
  run(doc, ex.run);
  const auto pops = tables(doc, "population");
  if (pops.empty())
    throw InputError(
        path_ + ": population: the experiment defines no population (add a [[population]] table)");
  for (std::size_t i = 0; i < pops.size(); ++i)
    ex.populations.push_back(population(*pops[i], i, ex.populations));
  branching(doc, ex);
  // Rules name modulators, and modulators may observe projections: the names first.
  const auto mods = tables(doc, "modulator");
  for (const toml::table* m : mods) {
    const toml::node* n = m->get("name");
    const toml::node* ty = m->get("type");
    if (n && n->is_string())
      modulator_names_.push_back(
          {n->as_string()->get(), ty && ty->is_string() ? ty->as_string()->get() : ""});
  }
  const auto projs = tables(doc, "projection");
  for (std::size_t i = 0; i < projs.size(); ++i)
    ex.projections.push_back(projection(*projs[i], i, ex));
  const auto ins = tables(doc, "input");
  for (std::size_t i = 0; i < ins.size(); ++i) ex.inputs.push_back(input(*ins[i], i, ex));
  for (std::size_t i = 0; i < mods.size(); ++i) ex.modulators.push_back(modulator(*mods[i], i, ex));
  const auto recs = tables(doc, "record");
  for (std::size_t i = 0; i < recs.size(); ++i) {
    // A disabled record is still checked (it may be enabled again with --set), then dropped.
    RecordSpec r = record(*recs[i], i, ex);
    const toml::node* on = recs[i]->get("enabled");
    if (!on || boolean(*on, "record #" + std::to_string(i) + ".enabled"))
      ex.records.push_back(std::move(r));
  }
  pipeline(doc, ex);
}

// ---------------------------------------------------------------------------------------
// --set overrides, applied to the document before validation.

void mark(const toml::node& n, const std::string& where, SetNodes& marks, bool add) {
  if (add)
    marks[&n] = where;
  else
    marks.erase(&n);
  if (const auto* t = n.as_table())
    for (auto&& [k, v] : *t) mark(v, where, marks, add);
  if (const auto* a = n.as_array())
    for (const auto& v : *a) mark(v, where, marks, add);
}

[[noreturn]] void override_error(const std::string& where, const std::string& what) {
  throw InputError(where + ": " + what);
}

void apply_override(toml::table& doc, const std::string& text, SetNodes& marks) {
  const std::string where = "--set " + text;
  auto fail = [&](const std::string& what) { override_error(where, what); };
  const auto eq = text.find('=');
  if (eq == std::string::npos) fail("expected key=value");
  const std::string dotted = trim(text.substr(0, eq));
  const std::string raw = text.substr(eq + 1);
  std::vector<std::string> seg;
  for (std::size_t from = 0;;) {
    const auto dot = dotted.find('.', from);
    seg.push_back(dotted.substr(from, dot - from));
    if (dot == std::string::npos) break;
    from = dot + 1;
  }
  for (const auto& s : seg)
    if (s.empty()) fail("empty key in '" + dotted + "'");

  static const std::vector<std::string> sections = {
      "run",    "population", "projection", "input",    "modulator",
      "record", "dataset",    "training",   "features", "readout"};
  // Sections that are one table (not arrays of tables): addressed as section.key.
  static const std::vector<std::string> single = {"run", "dataset", "training", "features",
                                                  "readout"};
  if (!contains(sections, seg[0]))
    fail("unknown section '" + seg[0] + "'" + suggest(seg[0], sections));
  toml::table* cur = &doc;
  std::size_t first = 0;
  if (!contains(single, seg[0])) {
    if (seg.size() < 3) fail("expected " + seg[0] + ".NAME.key or " + seg[0] + ".INDEX.key");
    toml::array* arr = doc.get(seg[0]) ? doc.get(seg[0])->as_array() : nullptr;
    const std::size_t count = arr ? arr->size() : 0;
    toml::node* element = nullptr;
    if (std::all_of(seg[1].begin(), seg[1].end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      std::size_t i = 0;
      const auto r = std::from_chars(seg[1].data(), seg[1].data() + seg[1].size(), i);
      if (r.ec != std::errc() || i >= count)
        fail("no " + seg[0] + " at index " + seg[1] + " (the experiment has " +
             std::to_string(count) + ")");
      element = arr->get(i);
    } else {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < count; ++i) {
        const toml::table* t = arr->get(i)->as_table();
        if (!t) continue;
        std::string name = t->get("name") ? t->get("name")->value_or(std::string()) : "";
        // Unnamed projections are addressed by their default name "pre->post".
        if (name.empty() && seg[0] == "projection" && t->get("pre") && t->get("post"))
          name = t->get("pre")->value_or(std::string()) + "->" +
                 t->get("post")->value_or(std::string());
        if (name.empty()) continue;
        if (name == seg[1]) element = arr->get(i);
        names.push_back(name);
      }
      if (!element) fail("no " + seg[0] + " named '" + seg[1] + "'" + suggest(seg[1], names));
    }
    if (!element->is_table()) fail(seg[0] + "." + seg[1] + " is not a table");
    cur = element->as_table();
    first = 2;
  } else if (seg.size() < 2) {
    fail("expected " + seg[0] + ".KEY");
  }

  std::string walked = first == 2 ? seg[0] + "." + seg[1] : "";
  for (std::size_t i = first; i + 1 < seg.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + seg[i];
    toml::node* child = cur->get(seg[i]);
    if (!child) {
      cur->insert_or_assign(seg[i], toml::table{});
      child = cur->get(seg[i]);
      marks[child] = where;
    } else if (!child->is_table()) {
      fail("'" + walked + "' is " + type_name(child->type()) + ", not a table");
    }
    cur = child->as_table();
  }

  // The value is TOML when it parses as such (5, 1e3, true, [1, 2], {dist = "uniform", ...});
  // anything else is taken as a string, so that --set run.backend=cuda works unquoted.
  toml::table parsed;
  try {
    const TomlShield shield("v = " + raw);
    parsed = toml::parse(shield.text());
    restore_strings(parsed, shield);
  } catch (const toml::parse_error&) {
    parsed = toml::table{};
  }
  const std::string& last = seg.back();
  if (const toml::node* old = cur->get(last)) mark(*old, where, marks, false);
  toml::node* value = parsed.size() == 1 ? parsed.get("v") : nullptr;
  if (value)
    cur->insert_or_assign(last, std::move(*value));
  else
    cur->insert_or_assign(last, trim(raw));
  mark(*cur->get(last), where, marks, true);
}

// The resolved document as TOML, in the order it was written. toml++'s own formatter
// sorts keys, which would reorder [population.params] and [population.init] (whose
// expressions are evaluated in file order, so a re-run could fail or differ), and, as
// packaged without floating-point <charconv>, writes 0.1 as 0.10000000000000001.
class TomlWriter {
public:
  std::string write(const toml::table& doc) {
    body(doc, "");
    return out_.str();
  }

private:
  static bool is_section(const toml::node& n) { return n.is_table() && !n.as_table()->is_inline(); }
  static bool is_table_array(const toml::node& n) {
    const toml::array* a = n.as_array();
    return a && !a->empty() && a->is_array_of_tables() && !a->get(0)->as_table()->is_inline();
  }
  static bool is_simple(const toml::node& n) { return !is_section(n) && !is_table_array(n); }

  static std::string key(std::string_view k) {
    const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    return bare ? std::string(k) : toml_quoted(k);
  }
  static std::string float_text(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v); // shortest exact form
    std::string s(buf, r.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }

  void value(const toml::node& n) {
    switch (n.type()) {
    case toml::node_type::string:
      out_ << toml_quoted(n.as_string()->get());
      break;
    case toml::node_type::integer:
      out_ << n.as_integer()->get();
      break;
    case toml::node_type::floating_point:
      out_ << float_text(n.as_floating_point()->get());
      break;
    case toml::node_type::boolean:
      out_ << (n.as_boolean()->get() ? "true" : "false");
      break;
    case toml::node_type::date:
      out_ << n.as_date()->get();
      break;
    case toml::node_type::time:
      out_ << n.as_time()->get();
      break;
    case toml::node_type::date_time:
      out_ << n.as_date_time()->get();
      break;
    case toml::node_type::array: {
      out_ << '[';
      const char* sep = "";
      for (const auto& e : *n.as_array()) {
        out_ << sep;
        value(e);
        sep = ", ";
      }
      out_ << ']';
      break;
    }
    case toml::node_type::table: {
      const auto entries = in_file_order(*n.as_table());
      if (entries.empty()) {
        out_ << "{}";
        break;
      }
      out_ << "{ ";
      const char* sep = "";
      for (const auto& [k, v] : entries) {
        out_ << sep << key(k->str()) << " = ";
        value(*v);
        sep = ", ";
      }
      out_ << " }";
      break;
    }
    default:
      break;
    }
  }

  void header(const std::string& text) {
    if (out_.tellp() > 0) out_ << '\n';
    out_ << text << '\n';
  }

  // The table's own values, then its sub-tables and arrays of tables as sections.
  void body(const toml::table& t, const std::string& path) {
    const auto entries = in_file_order(t);
    for (const auto& [k, v] : entries) {
      if (!is_simple(*v)) continue;
      out_ << key(k->str()) << " = ";
      value(*v);
      out_ << '\n';
    }
    for (const auto& [k, v] : entries) {
      if (is_simple(*v)) continue;
      const std::string sub = (path.empty() ? "" : path + ".") + key(k->str());
      if (is_section(*v)) {
        const toml::table& st = *v->as_table();
        // A table holding only sub-tables needs no header of its own.
        if (st.empty() ||
            std::any_of(st.begin(), st.end(), [](auto&& kv) { return is_simple(kv.second); }))
          header("[" + sub + "]");
        body(st, sub);
      } else {
        for (const auto& e : *v->as_array()) {
          header("[[" + sub + "]]");
          body(*e.as_table(), sub);
        }
      }
    }
  }

  std::ostringstream out_;
};

} // namespace

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x",
                      static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

Experiment parse_experiment(const std::string& text, const std::string& path,
                            const std::vector<std::string>& overrides) {
  Experiment ex;
  ex.path = path;
  ex.source_text = text;
  const TomlShield shield(text);
  toml::table doc;
  try {
    doc = toml::parse(shield.text(), path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw InputError(
        SourceLocation{path, static_cast<int>(b.line), static_cast<int>(b.column)}.str() +
        ": invalid TOML: " + shield.restore(e.description()));
  }
  restore_strings(doc, shield);
  SetNodes marks;
  for (const auto& o : overrides) apply_override(doc, o, marks);
  ex.resolved_text = TomlWriter().write(doc);
  try {
    Validator(path, marks).build(doc, ex);
  } catch (const InputError& e) {
    throw InputError(shield.restore(e.what())); // keys keep their placeholders
  }
  return ex;
}

Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError("cannot read experiment file '" + path + "': " + std::strerror(EISDIR));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError("cannot read experiment file '" + path +
                     "': " + std::strerror(errno != 0 ? errno : ENOENT));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_experiment(text.str(), path, overrides);
}

} // namespace glia
