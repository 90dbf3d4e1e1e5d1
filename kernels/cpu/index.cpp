// CPU indexing kernels.
//
// gather, scatter, scatter_add, index_add and the general index_select share one loop
// (indexed_loop): it walks the "outer" positions of the index (every dim but `dim`) with
// StridedLoop, which merges dims and splits the work across threads, and for each outer position
// runs along `dim` serially. Each outer position owns its own slice of the tensor written into,
// so scatters need no atomics and give the same result, duplicates included, for any thread
// count. index_select and index_add are gather / scatter_add with the 1-d index broadcast
// (stride 0) over the other dims. Contiguous index_select (embedding lookups) and cat copy whole
// rows with memcpy instead.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "kernels/cpu/loops.h"
#include "kernels/elementwise.h"
#include "kernels/index.h"

namespace strata::kernels::cpu {
namespace {

// A raw, history-free handle on t's storage with another shape and strides (same offset).
Tensor restride(const Tensor& t, const Shape& shape, const Strides& strides) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = t.offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// `index` (1-d) seen with `shape`: its values run along dim, constant along every other dim.
Tensor broadcast_index(const Tensor& index, const Shape& shape, int64_t dim) {
  Strides st(shape.size(), 0);
  st[dim] = index.stride(0);
  return restride(index, shape, st);
}

template <class T, class I, class Apply>
void indexed_loop_typed(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& other,
                        const Apply& apply) {
  const int64_t k = index.size(dim);
  if (index.numel() == 0) return;
  Shape outer = index.shape();
  outer[dim] = 1;
  const Tensor self_v = restride(self, outer, self.strides());
  const Tensor index_v = restride(index, outer, index.strides());
  const Tensor other_v = restride(other, outer, other.strides());
  const int64_t self_step = self.stride(dim) * static_cast<int64_t>(sizeof(T));
  const int64_t index_step = index.stride(dim) * static_cast<int64_t>(sizeof(I));
  const int64_t other_step = other.stride(dim) * static_cast<int64_t>(sizeof(T));
  StridedLoop<3> loop({&self_v, &index_v, &other_v});
  auto at = [&](const char* index_ptr) { return static_cast<int64_t>(*reinterpret_cast<const I*>(index_ptr)); };
  loop.run(
      [&](char** p, const int64_t* s, int64_t n) {
        // Walk whichever of the two loops is closer together in memory innermost; for one outer
        // position (fixed i) the j order is always ascending.
        if (std::abs(other_step) <= std::abs(s[2])) {
          const bool packed = self_step == sizeof(T) && index_step == sizeof(I) && other_step == sizeof(T);
          for (int64_t i = 0; i < n; ++i) {
            char* sp = p[0] + i * s[0];
            const char* ip = p[1] + i * s[1];
            char* op = p[2] + i * s[2];
            if (packed) {  // gather / scatter along a contiguous last dim
              T* self_row = reinterpret_cast<T*>(sp);
              const I* index_row = reinterpret_cast<const I*>(ip);
              T* other_row = reinterpret_cast<T*>(op);
              for (int64_t j = 0; j < k; ++j) apply(self_row + index_row[j], other_row + j);
            } else {
              for (int64_t j = 0; j < k; ++j)
                apply(reinterpret_cast<T*>(sp + at(ip + j * index_step) * self_step),
                      reinterpret_cast<T*>(op + j * other_step));
            }
          }
          return;
        }
        for (int64_t j = 0; j < k; ++j) {
          char* op = p[2] + j * other_step;
          if (s[1] == 0) {
            // One index for the whole run (index_select / index_add rows): a row operation.
            char* sp = p[0] + at(p[1] + j * index_step) * self_step;
            if (s[0] == sizeof(T) && s[2] == sizeof(T)) {
              T* a = reinterpret_cast<T*>(sp);
              T* b = reinterpret_cast<T*>(op);
              for (int64_t i = 0; i < n; ++i) apply(a + i, b + i);
            } else {
              for (int64_t i = 0; i < n; ++i)
                apply(reinterpret_cast<T*>(sp + i * s[0]), reinterpret_cast<T*>(op + i * s[2]));
            }
          } else {
            const char* ip = p[1] + j * index_step;
            for (int64_t i = 0; i < n; ++i)
              apply(reinterpret_cast<T*>(p[0] + i * s[0] + at(ip + i * s[1]) * self_step),
                    reinterpret_cast<T*>(op + i * s[2]));
          }
        }
      },
      std::max<int64_t>(1, 32768 / std::max<int64_t>(k, 1)));
}

enum class Apply : uint8_t { read, assign, add };

// self: the tensor indexed along dim; other: the one that walks with index (same positions).
// read: other = self[index]; assign: self[index] = other; add: self[index] += other.
void indexed_loop(Apply mode, const Tensor& self, int64_t dim, const Tensor& index, const Tensor& other) {
  visit_dtype(self.dtype(), [&]<class T>() {
    using C = compute_t<T>;
    auto run = [&]<class I>() {
      switch (mode) {
        case Apply::read:
          return indexed_loop_typed<T, I>(self, dim, index, other, [](T* s, T* o) { *o = *s; });
        case Apply::assign:
          return indexed_loop_typed<T, I>(self, dim, index, other, [](T* s, T* o) { *s = *o; });
        case Apply::add:
          return indexed_loop_typed<T, I>(self, dim, index, other, [](T* s, T* o) {
            if constexpr (std::is_same_v<T, bool>) {
              *s = *s || *o;
            } else {
              *s = static_cast<T>(static_cast<C>(*s) + static_cast<C>(*o));
            }
          });
      }
    };
    if (index.dtype() == DType::I32) {
      run.template operator()<int32_t>();
    } else {
      run.template operator()<int64_t>();
    }
  });
}

// Copies `bytes` from src to dst; element-sized rows avoid the memcpy call.
inline void copy_row(char* dst, const char* src, int64_t bytes) {
  switch (bytes) {
    case 1: *dst = *src; return;
    case 2: std::memcpy(dst, src, 2); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    default: std::memcpy(dst, src, static_cast<size_t>(bytes));
  }
}

template <class I>
void index_select_rows(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= x.size(d);
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.size(d);
  const int64_t n = index.numel(), size = x.size(dim);
  const int64_t row = inner * x.itemsize();
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const I* idx = static_cast<const I*>(index.raw_data());
  const int64_t istride = index.stride(0);
  parallel_for(0, outer * n, std::max<int64_t>(1, 65536 / std::max<int64_t>(row, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t o = r / n, j = r - o * n;
      const int64_t at = static_cast<int64_t>(idx[j * istride]);
      copy_row(dst + r * row, src + (o * size + at) * row, row);
    }
  });
}

}  // namespace

std::pair<int64_t, int64_t> index_min_max(const Tensor& index) {
  std::atomic<int64_t> lo{std::numeric_limits<int64_t>::max()}, hi{std::numeric_limits<int64_t>::min()};
  auto merge = [&](int64_t a, int64_t b) {
    int64_t cur = lo.load();
    while (a < cur && !lo.compare_exchange_weak(cur, a)) {}
    cur = hi.load();
    while (b > cur && !hi.compare_exchange_weak(cur, b)) {}
  };
  auto run = [&]<class I>() {
    StridedLoop<1> loop({&index});
    loop.run([&](char** p, const int64_t* s, int64_t n) {
      I a = std::numeric_limits<I>::max(), b = std::numeric_limits<I>::min();
      for (int64_t i = 0; i < n; ++i) {
        const I v = *reinterpret_cast<const I*>(p[0] + i * s[0]);
        a = std::min(a, v);
        b = std::max(b, v);
      }
      merge(a, b);
    });
  };
  if (index.dtype() == DType::I32) {
    run.template operator()<int32_t>();
  } else {
    run.template operator()<int64_t>();
  }
  return {lo.load(), hi.load()};
}

void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  if (out.numel() == 0) return;
  if (x.is_contiguous() && out.is_contiguous()) {
    if (index.dtype() == DType::I32) return index_select_rows<int32_t>(x, dim, index, out);
    return index_select_rows<int64_t>(x, dim, index, out);
  }
  indexed_loop(Apply::read, x, dim, broadcast_index(index, out.shape(), dim), out);
}

void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (src.numel() == 0) return;
  indexed_loop(Apply::add, out, dim, broadcast_index(index, src.shape(), dim), src);
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  indexed_loop(Apply::read, x, dim, index, out);
}

void scatter(ScatterMode mode, const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  indexed_loop(mode == ScatterMode::add ? Apply::add : Apply::assign, out, dim, index, src);
}

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out.size(d);
  for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out.size(d);
  const int64_t item = out.itemsize();
  const int64_t out_row = out.size(dim) * inner * item;  // bytes of one outer row of out
  struct Block {
    const char* src;
    int64_t at;     // byte offset within an out row
    int64_t bytes;  // bytes per outer row
  };
  std::vector<Block> blocks;
  int64_t at = 0, fast_bytes = 0;
  for (const Tensor& t : inputs) {
    const int64_t size = t.size(dim);
    if (t.numel() > 0) {
      if (t.dtype() == out.dtype() && t.is_contiguous()) {
        blocks.push_back({static_cast<const char*>(t.raw_data()), at * inner * item, size * inner * item});
        fast_bytes += size * inner * item;
      } else {
        copy(t, out.narrow(dim, at, size));  // converts dtype, walks any layout
      }
    }
    at += size;
  }
  if (blocks.empty() || outer == 0) return;
  char* dst = static_cast<char*>(out.raw_data());
  constexpr int64_t kPiece = 1 << 18;  // bytes per task when rows are few and long
  if (outer >= 4 * get_num_threads() || fast_bytes * outer <= kPiece) {
    parallel_for(0, outer, std::max<int64_t>(1, kPiece / std::max<int64_t>(fast_bytes, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o)
        for (const Block& b : blocks) std::memcpy(dst + o * out_row + b.at, b.src + o * b.bytes, b.bytes);
    });
    return;
  }
  // Few long rows: split every block into pieces so all threads have work.
  struct Piece {
    char* dst;
    const char* src;
    int64_t bytes;
  };
  std::vector<Piece> pieces;
  for (int64_t o = 0; o < outer; ++o)
    for (const Block& b : blocks)
      for (int64_t p = 0; p < b.bytes; p += kPiece)
        pieces.push_back({dst + o * out_row + b.at + p, b.src + o * b.bytes + p, std::min(kPiece, b.bytes - p)});
  parallel_for(0, static_cast<int64_t>(pieces.size()), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) std::memcpy(pieces[i].dst, pieces[i].src, pieces[i].bytes);
  });
}

Tensor nonzero(const Tensor& x) {
  // x is contiguous. Pass 1 counts per fixed-size chunk, pass 2 writes each chunk's coordinates
  // at its prefix-sum offset: the order is row-major whatever the thread count.
  const int64_t n = x.numel(), nd = x.dim();
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<int64_t> counts(chunks + 1, 0);
  Tensor out;
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* p = static_cast<const T*>(x.raw_data());
    auto is_set = [](T v) { return static_cast<compute_t<T>>(v) != compute_t<T>(0); };
    parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        int64_t k = 0;
        for (int64_t i = c * kChunk, e = std::min(n, (c + 1) * kChunk); i < e; ++i) k += is_set(p[i]);
        counts[c + 1] = k;
      }
    });
    for (int64_t c = 0; c < chunks; ++c) counts[c + 1] += counts[c];
    out = empty({counts[chunks], nd}, {.dtype = DType::I64});
    int64_t* o = out.data<int64_t>();
    const Shape& shape = x.shape();
    parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
      std::vector<int64_t> coord(nd);
      for (int64_t c = lo; c < hi; ++c) {
        int64_t rem = c * kChunk;
        for (int64_t d = nd - 1; d >= 0; --d) {
          coord[d] = rem % shape[d];
          rem /= shape[d];
        }
        int64_t* w = o + counts[c] * nd;
        for (int64_t i = c * kChunk, e = std::min(n, (c + 1) * kChunk); i < e; ++i) {
          if (is_set(p[i])) {
            for (int64_t d = 0; d < nd; ++d) *w++ = coord[d];
          }
          for (int64_t d = nd - 1; d >= 0 && ++coord[d] == shape[d]; --d) coord[d] = 0;
        }
      }
    });
  });
  return out;
}

}  // namespace strata::kernels::cpu
