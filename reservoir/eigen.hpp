// Eigen's dense module for the readouts. GCC 12 reports -Wmaybe-uninitialized inside
// its own AVX-512 intrinsics header when Eigen's kernels are inlined (a false positive
// of the compiler, not of Eigen or of our code), which -Werror would turn into a
// failed build; the warning is silenced for the headers included here only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#pragma GCC diagnostic pop
