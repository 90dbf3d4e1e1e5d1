// The caching device allocator's policy (see the header for the scheme). One mutex guards a
// device's pools: device allocations are far rarer than kernel launches, and the lock is held
// only for set lookups, never across a backend call that can block for long except cudaMalloc,
// which serializes in the driver anyway.
#include "tensor/device_caching_allocator.h"

#include <algorithm>
#include <tuple>

#include "tensor/error.h"

namespace strata {

bool DeviceCachingAllocator::BlockLess::operator()(const Block* a, const Block* b) const {
  return std::tie(a->stream, a->size, a->ptr) < std::tie(b->stream, b->size, b->ptr);
}

DeviceCachingAllocator::DeviceCachingAllocator(RawDeviceBackend& backend, std::string device_name)
    : backend_(backend), device_name_(std::move(device_name)) {}

DeviceCachingAllocator::~DeviceCachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [event, block] : pending_) backend_.destroy_event(event);
  pending_.clear();
  release_cached_segments();
}

size_t DeviceCachingAllocator::round_size(size_t nbytes) {
  if (nbytes < kMinBlockSize) return kMinBlockSize;
  return (nbytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

size_t DeviceCachingAllocator::segment_size(size_t rounded) {
  if (rounded <= kSmallSize) return kSmallSegment;
  if (rounded < kMidSize) return kLargeSegment;
  return (rounded + kLargeRounding - 1) / kLargeRounding * kLargeRounding;
}

void DeviceCachingAllocator::note_allocated(long long delta) {
  stats_.allocated_bytes = static_cast<size_t>(static_cast<long long>(stats_.allocated_bytes) + delta);
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
}

DeviceCachingAllocator::Block* DeviceCachingAllocator::find_free_block(Pool& pool, size_t size, StreamId stream) {
  Block key;
  key.stream = stream;
  key.size = size;
  key.ptr = nullptr;
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* b = *it;
  pool.erase(it);
  return b;
}

DeviceCachingAllocator::Block* DeviceCachingAllocator::new_segment(size_t size, StreamId stream, bool small) {
  const size_t seg = segment_size(size);
  void* p = backend_.raw_alloc(seg);
  if (!p) {
    // Out of memory: give the cache back (all streams) and try once more.
    ++stats_.num_oom_retries;
    process_events();
    release_cached_segments();
    p = backend_.raw_alloc(seg);
  }
  if (!p) {
    ++stats_.num_ooms;
    STRATA_THROW(DeviceError,
                 "{}: out of memory: tried to allocate {} bytes (a {}-byte segment); {} bytes allocated, {} bytes "
                 "reserved by Strata, peak {} bytes (the cache was released and the allocation retried)",
                 device_name_, size, seg, stats_.allocated_bytes, stats_.reserved_bytes, stats_.peak_allocated_bytes);
  }
  ++stats_.num_raw_allocs;
  ++stats_.num_segments;
  stats_.reserved_bytes += seg;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  auto* b = new Block;
  b->size = seg;
  b->ptr = static_cast<char*>(p);
  b->stream = stream;
  b->small_pool = small;
  return b;
}

void* DeviceCachingAllocator::allocate(size_t nbytes, StreamId stream) {
  if (nbytes == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  process_events();
  const size_t size = round_size(nbytes);
  const bool small = size <= kSmallSize;
  Pool& pool = pool_of(small);
  Block* b = find_free_block(pool, size, stream);
  if (b) {
    ++stats_.num_cache_hits;
  } else {
    b = new_segment(size, stream, small);
  }
  // Split off the rest when it is worth keeping as a block of its own.
  const size_t rest = b->size - size;
  if (small ? rest >= kMinBlockSize : rest > kSmallSize) {
    auto* r = new Block;
    r->size = rest;
    r->ptr = b->ptr + size;
    r->stream = stream;
    r->small_pool = small;
    r->prev = b;
    r->next = b->next;
    if (b->next) b->next->prev = r;
    b->next = r;
    b->size = size;
    pool.insert(r);
  }
  b->allocated = true;
  b->requested = nbytes;
  active_.emplace(b->ptr, b);
  ++stats_.num_allocs;
  stats_.requested_bytes += nbytes;
  note_allocated(static_cast<long long>(b->size));
  return b->ptr;
}

void DeviceCachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  STRATA_CHECK(it != active_.end(), DeviceError, "{}: freeing a pointer the caching allocator did not hand out ({})",
               device_name_, ptr);
  Block* b = it->second;
  active_.erase(it);
  ++stats_.num_frees;
  stats_.requested_bytes -= b->requested;
  note_allocated(-static_cast<long long>(b->size));
  if (b->other_streams.empty()) {
    free_block(b);
    return;
  }
  // Used on other streams: reusable once their work queued so far has finished.
  for (StreamId s : b->other_streams) {
    pending_.emplace_back(backend_.record_event(s), b);
    ++b->pending_events;
  }
  b->other_streams.clear();
}

void DeviceCachingAllocator::record_stream(void* ptr, StreamId stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  STRATA_CHECK(it != active_.end(), DeviceError, "{}: record_stream on a pointer the caching allocator did not hand "
               "out ({})", device_name_, ptr);
  Block* b = it->second;
  if (stream == b->stream) return;
  if (std::find(b->other_streams.begin(), b->other_streams.end(), stream) == b->other_streams.end())
    b->other_streams.push_back(stream);
}

void DeviceCachingAllocator::free_block(Block* b) {
  b->allocated = false;
  b->requested = 0;
  Pool& pool = pool_of(b->small_pool);
  if (Block* p = b->prev; p && !p->allocated) {
    pool.erase(p);
    p->size += b->size;
    p->next = b->next;
    if (b->next) b->next->prev = p;
    delete b;
    b = p;
  }
  if (Block* n = b->next; n && !n->allocated) {
    pool.erase(n);
    b->size += n->size;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    delete n;
  }
  pool.insert(b);
}

void DeviceCachingAllocator::process_events() {
  auto done = [&](std::pair<EventId, Block*>& e) {
    if (!backend_.event_done(e.first)) return false;
    backend_.destroy_event(e.first);
    if (--e.second->pending_events == 0) free_block(e.second);
    return true;
  };
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), done), pending_.end());
}

size_t DeviceCachingAllocator::release_cached_segments() {
  size_t released = 0;
  for (Pool* pool : {&small_pool_, &large_pool_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev || b->next) {  // part of a segment still (partly) in use
        ++it;
        continue;
      }
      it = pool->erase(it);
      backend_.raw_free(b->ptr);
      ++stats_.num_raw_frees;
      --stats_.num_segments;
      stats_.reserved_bytes -= b->size;
      released += b->size;
      delete b;
    }
  }
  return released;
}

void DeviceCachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  process_events();
  release_cached_segments();
}

DeviceAllocatorStats DeviceCachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void DeviceCachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

size_t DeviceCachingAllocator::cached_block_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return small_pool_.size() + large_pool_.size();
}

size_t DeviceCachingAllocator::pending_block_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<const Block*> blocks;
  for (const auto& [e, b] : pending_) blocks.insert(b);
  return blocks.size();
}

}  // namespace strata
