// Progress line (see progress.hpp).
#include "cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace glia {

std::string format_seconds(double s) {
  char buf[64];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600),
                  static_cast<int>(s / 60) % 60);
  return buf;
}

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

ProgressLine::ProgressLine(double start_ms, double end_ms, bool enabled)
    : start_ms_(start_ms), end_ms_(end_ms), enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1) {}

std::string ProgressLine::format(double model_ms, double wall_s, std::uint64_t spikes,
                                 bool done) const {
  const double span = end_ms_ - start_ms_;
  const double sim_ms = model_ms - start_ms_;
  const double frac = span > 0 ? std::clamp(sim_ms / span, 0.0, 1.0) : 1.0;
  const double rtf = sim_ms > 0 ? wall_s / (sim_ms * 1e-3) : 0.0;
  const double eta = frac > 0 ? wall_s * (1.0 - frac) / frac : 0.0;
  char bar[21];
  const int filled = static_cast<int>(frac * 20);
  for (int i = 0; i < 20; ++i) bar[i] = i < filled ? '#' : '.';
  bar[20] = 0;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "[%s] %5.1f%%  t = %.1f / %.1f ms  realtime factor %.3g  %.3g spikes/s  %s %s", bar,
                100 * frac, model_ms, end_ms_, rtf, wall_s > 0 ? spikes / wall_s : 0.0,
                done ? "wall" : "ETA", format_seconds(done ? wall_s : eta).c_str());
  return buf;
}

void ProgressLine::update(const ProgressInfo& p) {
  if (!enabled_) return;
  const std::string line = format(p.model_ms, p.wall_s, p.spikes, false);
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::finish(double wall_s, std::uint64_t spikes) {
  if (!enabled_) return;
  const std::string line = format(end_ms_, wall_s, spikes, true);
  if (tty_)
    std::fprintf(stderr, "\r%s\033[K\n", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

} // namespace glia
