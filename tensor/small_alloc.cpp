// Thread-local free lists of small blocks (see small_alloc.h). Each size class (16-byte steps) is
// a singly linked list threaded through the free blocks themselves. The list heads live in a
// trivially destructible thread_local, so the hot path has no initialization guard; a separate
// thread_local with a destructor gives the blocks back when the thread exits, after which the
// thread frees straight to the system.
#include "tensor/small_alloc.h"

#include <cstdint>

namespace strata::detail {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kClasses = kMaxSmallObject / kGranule;

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadLists {
  FreeBlock* head[kClasses];
  uint32_t count[kClasses];
  bool drain_registered;
  bool drained;  // the thread is exiting: free to the system
};

thread_local ThreadLists t_lists{};  // zero-initialized, no constructor

size_t class_of(size_t nbytes) { return (nbytes - 1) / kGranule; }  // nbytes in [1, kMaxSmallObject]

struct Drainer {
  ~Drainer() {
    ThreadLists& l = t_lists;
    for (size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = l.head[c]) {
        l.head[c] = b->next;
        ::operator delete(b);
      }
      l.count[c] = 0;
    }
    l.drained = true;
  }
};

void register_drain() {
  static thread_local Drainer drainer;
  (void)drainer;
  t_lists.drain_registered = true;
}

}  // namespace

// Under AddressSanitizer the lists are bypassed, so a use after free is still reported.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUseLists = false;
#else
constexpr bool kUseLists = true;
#endif

void* small_alloc(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  if (kUseLists && nbytes <= kMaxSmallObject) {
    ThreadLists& l = t_lists;
    const size_t c = class_of(nbytes);
    if (FreeBlock* b = l.head[c]) {
      l.head[c] = b->next;
      --l.count[c];
      return b;
    }
    return ::operator new((c + 1) * kGranule);
  }
  return ::operator new(nbytes);
}

void small_free(void* p, size_t nbytes) noexcept {
  if (!p) return;
  if (nbytes == 0) nbytes = 1;
  if (kUseLists && nbytes <= kMaxSmallObject) {
    ThreadLists& l = t_lists;
    const size_t c = class_of(nbytes);
    if (l.count[c] < kMaxCachedPerClass && !l.drained) {
      if (!l.drain_registered) register_drain();
      auto* b = static_cast<FreeBlock*>(p);
      b->next = l.head[c];
      l.head[c] = b;
      ++l.count[c];
      return;
    }
  }
  ::operator delete(p);
}

}  // namespace strata::detail
