// Checks shared by the tests of plasticity rules with engines of their own: experiment
// text edits, bad input refused by `glia check` and `glia run` with file, line and key,
// an experiment file's spikes, and a rule's state through a state archive.
#pragma once

#include "run_glia.hpp"
#include "sim/plasticity.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace glia::test {

// 1-based line of the first occurrence of `needle` in `text`.
inline int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// A lif_delta population resting (and reset) at 0 mV, starting at rest; `params`: more
// of its parameters.
inline std::string lif_population(const std::string& name, int size, const std::string& params = "",
                                  double v_th = 20.0) {
  return "\n[[population]]\nname = \"" + name +
         "\"\nmodel = \"lif_delta\"\nsize = " + std::to_string(size) +
         "\n[population.params]\nE_L = 0.0\nV_reset = 0.0\nV_th = " + std::to_string(v_th) + "\n" +
         params + "[population.init]\nV_m = 0.0\n";
}

// `glia check` and `glia run` both exit with 2, name exp.toml:line: and every part, and
// write nothing. `csv`: a conn.csv written next to the experiment.
inline void expect_refused(const std::string& toml, int line, const std::vector<std::string>& parts,
                           const std::string& csv = "") {
  ScratchDir dir("plastic-bad");
  const std::string file = dir.write("exp.toml", toml);
  if (!csv.empty()) dir.write("conn.csv", csv);
  for (const std::string& cmd : {"check " + file, "run " + file + " -q -o " + (dir / "out.h5")}) {
    const auto r = run_glia(cmd, dir);
    INFO(cmd << "\nstderr: " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("exp.toml:" + std::to_string(line) + ":"));
    for (const auto& p : parts) CHECK_THAT(r.err, Catch::Contains(p));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "out.h5"));
}

// `glia check` accepts the experiment.
inline void expect_accepted(const std::string& toml) {
  ScratchDir dir("plastic-ok");
  const auto r = run_glia("check " + dir.write("exp.toml", toml), dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
}

struct Spikes {
  std::vector<double> times;
  std::vector<std::uint64_t> ids;
};

// Runs experiments/<name> with glia and returns the spikes of one population.
inline Spikes run_experiment_file(const std::string& name, const std::string& population) {
  ScratchDir dir("plastic-exp");
  const auto r =
      run_glia("run " + source_path("experiments/" + name) + " -q -o " + (dir / "out.h5"), dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  Spikes s{read_dataset<double>(dir / "out.h5", "/spikes/" + population + "/timestamps"),
           read_dataset<std::uint64_t>(dir / "out.h5", "/spikes/" + population + "/node_ids")};
  REQUIRE(s.times.size() == s.ids.size());
  return s;
}

// `from`'s state, loaded into `to` (a rule of a network built from the same experiment,
// maybe with another thread count) and saved again, gives the same archive.
inline void check_round_trip(const Plasticity& from, Plasticity& to) {
  StateArchive ar, again;
  from.save(ar, "p/");
  to.load(ar, "p/");
  to.save(again, "p/");
  REQUIRE(!ar.entries().empty());
  REQUIRE(ar.entries().size() == again.entries().size());
  for (const auto& [k, e] : ar.entries()) {
    INFO(k);
    CHECK(e.bytes == again.entries().at(k).bytes);
  }
}

} // namespace glia::test
