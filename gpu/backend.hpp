// Choosing where a run happens (`[run] backend`). The CPU engine is always there; the
// CUDA engine (gpu/cuda_engine.cu) when glia was built with it, a device is present and
// the network uses only what the device engine implements. Otherwise glia says why in
// one line and runs on the CPU, with the CPU's results.
#pragma once

#include "gpu/device_plan.hpp"
#include "sim/step_engine.hpp"

#include <memory>
#include <string>

namespace glia {
class Network;
}

namespace glia::gpu {

struct DeviceInfo {
  int count = 0;     // CUDA devices present (0 without CUDA support or without a device)
  std::string error; // why none, when count == 0 (the CUDA runtime's words)
  std::string name;  // of the device used (DeviceOptions::device)
  int major = 0, minor = 0;
  double total_bytes = 0, free_bytes = 0;
};

// Whether this glia has the CUDA engine compiled in, and for what.
bool cuda_compiled();
std::string cuda_build_description(); // e.g. "CUDA 13.0, sm_90 + compute_90 PTX"

// Asks the CUDA runtime for devices (cheap; nothing is allocated).
DeviceInfo probe_devices(int device = 0);

// Why the device engine cannot run this network, or "" when it can.
std::string unsupported_reason(const Network& net, bool weight_monitors, bool checkpoints);

// The network as the device engine sees it (pointers into `net`; requires
// unsupported_reason(net, ...) to be empty).
DevicePlan make_plan(Network& net, const DeviceOptions& options);

// Creates the engine: allocates and uploads everything. Throws std::runtime_error when
// CUDA is not compiled in or the device fails.
std::unique_ptr<StepEngine> make_cuda_engine(const DevicePlan& plan);

// Why the network does not fit the device (naming the bytes needed and free), or "".
std::string device_fit_error(const DeviceMemory& need, const DeviceInfo& device);

// The line glia prints when a cuda run falls back, e.g. "no CUDA device: running on the CPU".
std::string fallback_message(const std::string& why);

} // namespace glia::gpu
