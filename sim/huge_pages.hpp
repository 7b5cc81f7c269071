// Large synapse arrays on transparent huge pages. A spiking source's row is read at a
// random place in arrays of tens of megabytes, so with 4 KiB pages nearly every row
// costs a TLB miss; 2 MiB pages cover such an array with a few dozen entries. Where the
// kernel gives huge pages only on request (transparent_hugepage = madvise, Debian's
// default) the memory must be advised before it is first written.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace glia {

// Makes room for n elements in an empty vector and asks for huge pages for the part of
// it that spans whole 2 MiB pages (arrays under 4 MiB are left alone). Best effort: the
// vector is the same either way; only its address translation differs.
template <class T> void reserve_on_huge_pages(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const std::size_t bytes = n * sizeof(T);
  if (!v.empty() || bytes < 2 * kHuge) return; // written already, or too small to matter
  const auto lo = (reinterpret_cast<std::uintptr_t>(v.data()) + kHuge - 1) & ~(kHuge - 1);
  const auto hi = (reinterpret_cast<std::uintptr_t>(v.data()) + bytes) & ~(kHuge - 1);
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
}

} // namespace glia
