// Progress reporting for `glia run`: a self-updating line on a terminal, plain
// periodic lines otherwise (logs, CI, batch jobs).
#pragma once

#include "sim/simulator.hpp"

#include <cstdio>
#include <string>

namespace glia {

class ProgressLine {
public:
  // Reports progress of the model time from start_ms to end_ms.
  ProgressLine(double start_ms, double end_ms, bool enabled);
  void update(const ProgressInfo& p);
  void finish(double wall_s, std::uint64_t spikes);
  // How often the simulator should call update().
  double interval_s() const { return tty_ ? 0.25 : 5.0; }

private:
  std::string format(double model_ms, double wall_s, std::uint64_t spikes, bool done) const;
  double start_ms_;
  double end_ms_;
  bool enabled_;
  bool tty_;
};

std::string format_seconds(double s);
std::string format_bytes(double b);

} // namespace glia
