// The entry points gpu/cuda_engine.cu exports to the host side (gpu/backend.cpp); only
// declared when glia is built with CUDA.
#pragma once

#include "gpu/backend.hpp"

namespace glia::gpu::cuda {

DeviceInfo probe(int device);
std::unique_ptr<StepEngine> create_engine(const DevicePlan& plan, std::uint32_t block_steps);
std::string build_description();

} // namespace glia::gpu::cuda
