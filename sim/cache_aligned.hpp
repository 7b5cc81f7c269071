// Arrays that start on a cache line. The neuron loop reads and writes every state
// array with full-width vector loads and stores; from an address that is only 16-byte
// aligned (what malloc gives) every 64-byte AVX-512 access spans two cache lines.
// Aligning the parameter, state and external-current arrays cut the COBA/CUBA neuron
// loop by 8-16 % (README, "Performance"). The ring buffers stay std::vector: aligned
// there, Brunel's scattered delivery measured slower.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace glia {

inline constexpr std::size_t kCacheLine = 64;

template <class T> struct CacheAlignedAllocator {
  using value_type = T;
  CacheAlignedAllocator() = default;
  template <class U> CacheAlignedAllocator(const CacheAlignedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLine}));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{kCacheLine});
  }
  template <class U> bool operator==(const CacheAlignedAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T> using CacheAlignedVector = std::vector<T, CacheAlignedAllocator<T>>;

} // namespace glia
