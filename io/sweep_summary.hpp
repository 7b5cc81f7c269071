// What a sweep's point files hold (status, experiment, /metrics) and the summary table
// of a sweep: one CSV row per point with its seed, its swept values, its status and
// every figure its run wrote under /metrics. HDF5 is not thread-safe as Debian builds
// it: callers serialise these functions.
#pragma once

#include "io/sweep.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace glia {

using MetricValue = std::variant<std::int64_t, double, std::string>;
using Metrics = std::map<std::string, MetricValue>;

struct PointFile {
  bool readable = false;  // an HDF5 file glia wrote
  std::string status;     // root attribute "status": "complete" when the run ended well
  std::string experiment; // root attribute "experiment": the resolved experiment it ran
  Metrics metrics;        // attributes of /metrics
};

// Reads a point's output file; readable = false when it cannot be opened.
PointFile read_point_file(const std::string& path);

struct SummaryRow {
  std::string status = "pending"; // done | failed | stopped | running | pending
  int exit_code = -1;             // of the point's run; -1: none known
  Metrics metrics;
};

// The CSV text: header "point,seed,<keys>,status,exit_code,<metrics, sorted>", one row
// per point of `sweep` (rows[i] for points[i]); values as the sweep wrote them, metrics
// as integers or shortest round-trip decimals, empty where a point lacks one.
std::string summary_csv(const SweepSpec& sweep, const std::vector<SummaryRow>& rows);

// Writes `text` to `path` through `path`.partial-<pid> and a rename, so a reader (or a
// concurrent shard) sees the old file or the new one, never part of one. Throws
// OutputError.
void write_file_atomically(const std::string& path, const std::string& text);

} // namespace glia
