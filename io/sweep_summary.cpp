// Point files read back and the sweep's summary.csv (io/sweep_summary.hpp).
#include "io/sweep_summary.hpp"

#include "io/hdf5_output.hpp"
#include "io/hdf5_util.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

namespace glia {

namespace {

struct MetricsVisit {
  Metrics* out;
};

herr_t read_one_metric(hid_t group, const char* name, const H5A_info_t*, void* data) {
  Metrics& m = *static_cast<MetricsVisit*>(data)->out;
  h5::Handle attribute(H5Aopen(group, name, H5P_DEFAULT), H5Aclose);
  if (attribute.get() < 0) return 0;
  h5::Handle type(H5Aget_type(attribute.get()), H5Tclose);
  switch (H5Tget_class(type.get())) {
  case H5T_INTEGER: {
    std::int64_t v = 0;
    if (h5::read_attribute(group, name, v)) m[name] = v;
    break;
  }
  case H5T_FLOAT: {
    double v = 0;
    if (h5::read_attribute(group, name, v)) m[name] = v;
    break;
  }
  case H5T_STRING: {
    std::string v;
    if (h5::read_attribute(group, name, v)) m[name] = v;
    break;
  }
  default:
    break;
  }
  return 0;
}

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string metric_text(const MetricValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return number_text(*d);
  return std::get<std::string>(v);
}

} // namespace

PointFile read_point_file(const std::string& path) {
  PointFile pf;
  // Silence HDF5's error printing for a file that is not (yet) an HDF5 file.
  H5E_auto2_t func = nullptr;
  void* client = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &func, &client);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid >= 0) {
    h5::Handle file(fid, H5Fclose);
    pf.readable = true;
    h5::read_attribute(file.get(), "status", pf.status);
    h5::read_attribute(file.get(), "experiment", pf.experiment);
    if (H5Lexists(file.get(), "metrics", H5P_DEFAULT) > 0) {
      h5::Handle group(H5Gopen2(file.get(), "metrics", H5P_DEFAULT), H5Gclose);
      if (group.get() >= 0) {
        MetricsVisit visit{&pf.metrics};
        H5Aiterate2(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, read_one_metric, &visit);
      }
    }
  }
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, func, client);
  return pf;
}

std::string summary_csv(const SweepSpec& sweep, const std::vector<SummaryRow>& rows) {
  std::set<std::string> names;
  for (const auto& r : rows)
    for (const auto& [name, value] : r.metrics) names.insert(name);
  // Appended piece by piece (GCC 12 warns, wrongly, about chains of string +).
  std::string out = "point,seed";
  auto cell = [&out](const std::string& text) {
    out += ',';
    out += field(text);
  };
  for (const auto& k : sweep.keys) cell(k);
  out += ",status,exit_code";
  for (const auto& n : names) cell(n);
  out += '\n';
  for (std::size_t i = 0; i < sweep.points.size(); ++i) {
    const SweepPoint& p = sweep.points[i];
    const SummaryRow& r = rows[i];
    out += std::to_string(p.number);
    cell(std::to_string(p.seed));
    for (const auto& v : p.values) cell(v);
    cell(r.status);
    cell(r.exit_code >= 0 ? std::to_string(r.exit_code) : "");
    for (const auto& n : names) {
      const auto it = r.metrics.find(n);
      cell(it != r.metrics.end() ? metric_text(it->second) : "");
    }
    out += '\n';
  }
  return out;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".partial-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw OutputError("cannot write '" + tmp + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw OutputError("cannot write '" + tmp + "': " + std::strerror(written ? errno : err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw OutputError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
}

} // namespace glia
