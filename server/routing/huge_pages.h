#pragma once

// An allocator for the engine's large arrays (its agents, its items, the id tables over them):
// the whole huge pages (2 MB) inside an array are given to the kernel's transparent huge pages
// (madvise MADV_HUGEPAGE); arrays smaller than one are allocated as usual. These arrays are read at
// random, an agent or an item at a time: with 4 KB pages nearly every cache miss in them also
// missed the TLB, and in a virtual machine a TLB miss walks two page tables. Where the kernel has
// transparent huge pages off, the advice does nothing.
//
// Only arrays that live long and grow rarely are meant for it: a huge page is faulted in (and
// zeroed) whole at its first touch, which for a growing array is the call that grows it (the
// copy touches every page anyway).

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace switchboard::routing {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

inline void* allocateLarge(std::size_t bytes, std::size_t alignment) {
  void* p = ::operator new (bytes, std::align_val_t{alignment});
  if (bytes >= kHugePage) {
    // The whole huge pages inside the block: the advice must not reach memory the block does not
    // own, and aligning the block itself to a huge page would leave up to 2 MB of it unused. It
    // is advice: a kernel without transparent huge pages refuses it, and that is fine.
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t first = (address + kHugePage - 1) & ~(kHugePage - 1);
    const std::uintptr_t last = (address + bytes) & ~(kHugePage - 1);
    if (last > first) {
      (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
  }
  return p;
}

inline void freeLarge(void* p, std::size_t /*bytes*/, std::size_t alignment) noexcept {
  ::operator delete (p, std::align_val_t{alignment});
}

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocateLarge(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { freeLarge(p, n * sizeof(T), alignof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

/// A vector whose storage is HugePageAllocator's.
template <typename T>
using LargeVector = std::vector<T, HugePageAllocator<T>>;

} // namespace switchboard::routing
