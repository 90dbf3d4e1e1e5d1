#pragma once
// Thread-local free lists for the small objects every op creates and drops: tensor handles'
// TensorImpl and StorageImpl, autograd nodes and their edge lists. An op on a tiny tensor makes
// half a dozen of them; with these lists each costs a few instructions instead of a trip through
// malloc (whose per-thread cache holds only 7 blocks per size and overflows when a graph of a few
// dozen nodes is freed at once).
//
// Blocks come from ::operator new, are rounded up to 16 bytes, and sizes up to kMaxSmallObject
// are cached (at most kMaxCachedPerClass per size per thread). A block may be freed on another
// thread than the one that allocated it: it then joins that thread's list. A thread's lists are
// given back to the system when it exits.
//
//   auto impl = std::allocate_shared<TensorImpl>(strata::PoolAllocator<TensorImpl>());
#include <cstddef>
#include <new>

namespace strata {
namespace detail {

inline constexpr size_t kMaxSmallObject = 512;
inline constexpr size_t kMaxCachedPerClass = 1024;

void* small_alloc(size_t nbytes);
void small_free(void* p, size_t nbytes) noexcept;

}  // namespace detail

// An STL allocator over detail::small_alloc, for std::allocate_shared and containers.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(detail::small_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { detail::small_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
};

}  // namespace strata
