// Strata's own CUDA convolution: each of the three conv products (kernels/conv.h) as an implicit
// GEMM, C[M x N] = A[M x K] * B[K x N] per group, whose operands are gathered from the NCHW
// tensors on the fly while the tiles are loaded (no im2col buffer in device memory):
//
//   product           M (rows of C)         N (cols of C)          K (reduction)        A        B
//   forward           output pixels n,oh,ow  out channels of group  c, r, s of group    x        w
//   backward_data     input pixels n,ih,iw   in channels of group   co, r, s of group   gy       w
//   backward_weight   out channels of group  c, r, s of group       n, oh, ow           gy       x
//
// backward_data is the gather formulation of the transposed conv: input pixel (ih, iw) takes
// gy[oh, ow] * w[r, s] where ih + pad - r * dil = oh * stride (terms that do not divide are zero;
// simple, at the cost of stride_h * stride_w wasted multiplies). backward_weight reduces over
// N * Ho * Wo, which is long while M * N is small, so K is split in `splits` fixed chunks chosen
// from the sizes alone; each chunk writes its partial product to a workspace and a second kernel
// adds the chunks in order: deterministic, run to run and for any launch timing.
//
// Tiling (one kernel for all three, the operand gathers and the epilogue are policies):
//   block = 256 threads = 16 x 16, computes a 64 x 64 tile of C; the K loop takes 16 at a time.
//   A tile As[16][64 + 1] and B tile Bs[16][64 + 1] (k-major; +1 pads the k-fast stores off one
//   bank), double-buffered: the global loads of tile t + 1 go to registers while tile t is
//   multiplied from shared memory, then land in the other buffer; one barrier per K step.
//   Thread (tx, ty) owns C rows tx + 16 i and cols ty + 16 j (i, j < 4): its shared reads of A are
//   16 consecutive words per half warp (no bank conflict), of B a broadcast, and its stores of C
//   are 16 consecutive pixels per half warp.
//   Each thread loads 4 elements of each tile. "m-fast" operands (pixel rows: x and gy gathered
//   along ow) take row tid & 63 and k (tid >> 6) + 4 l, so consecutive threads read consecutive
//   pixels; "k-fast" operands (w, contiguous in c, r, s; gy and x along n, oh, ow) take k tid & 15
//   and row (tid >> 4) + 16 l. The per-row part of a gather (pixel -> n, oh, ow and the base
//   pointer) is computed once per thread, before the K loop.
// Accumulation is in T (f32 for f32, f64 for f64). Shared memory: 16.6 KB (f32), 33.3 KB (f64).
// Indices are 32-bit (sizes are checked: a DeviceError suggests cuDNN beyond that), offsets 64-bit.
#include <algorithm>
#include <climits>

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/stream_internal.h"
#include "tensor/error.h"

namespace strata::cuda {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256, kPad = 1;
constexpr int64_t kMaxIndex = INT32_MAX - 2 * kBM;  // room for a tile's overhang past M, N and K

// One convolution's sizes in the forward direction's terms, 32-bit after the host checks.
struct Dims {
  int n, c, h, w;     // x (for backward_data: gx)
  int co, ho, wo;     // y (for backward_data: gy)
  int kh, kw, kk;     // kk = kh * kw
  int sh, sw, ph, pw, dh, dw;
  int cg, cog;        // channels per group: c / groups, co / groups
};

// ---- forward: A = x gathered for output pixel m, B = w, k = (c, r, s) ----
template <class T>
struct ForwardInput {
  const T* x;
  Dims d;
  struct Row {
    const T* base;  // x[n, first channel of the group]
    int ih0, iw0;   // top-left input position of the window
    bool valid;
  };
  __device__ Row row(int g, int m, int rows) const {
    Row r{x, 0, 0, m < rows};
    if (!r.valid) return r;
    const int hw = d.ho * d.wo, n = m / hw, p = m - n * hw, oh = p / d.wo, ow = p - oh * d.wo;
    r.base = x + (static_cast<int64_t>(n) * d.c + static_cast<int64_t>(g) * d.cg) * d.h * d.w;
    r.ih0 = oh * d.sh - d.ph;
    r.iw0 = ow * d.sw - d.pw;
    return r;
  }
  __device__ T at(const Row& r, int k) const {
    const int c = k / d.kk, rs = k - c * d.kk, kr = rs / d.kw, ks = rs - kr * d.kw;
    const int ih = r.ih0 + kr * d.dh, iw = r.iw0 + ks * d.dw;
    if (!r.valid || ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) return T(0);
    return r.base[(static_cast<int64_t>(c) * d.h + ih) * d.w + iw];
  }
};

template <class T>
struct ForwardWeight {
  const T* w;
  Dims d;
  struct Row {
    const T* base;  // w[g * cog + j]: its cg * kk weights are contiguous in k
    bool valid;
  };
  __device__ Row row(int g, int j, int cols) const {
    return {w + (static_cast<int64_t>(g) * d.cog + j) * d.cg * d.kk, j < cols};
  }
  __device__ T at(const Row& r, int k) const { return r.valid ? r.base[k] : T(0); }
};

template <class T>
struct ForwardOutput {
  T* y;
  const T* bias;  // null when undefined
  Dims d;
  __device__ void store(int g, int /*split*/, int m, int j, T v) const {
    const int hw = d.ho * d.wo, n = m / hw, p = m - n * hw, co = g * d.cog + j;
    y[(static_cast<int64_t>(n) * d.co + co) * hw + p] = bias ? v + bias[co] : v;
  }
};

// ---- backward_data: A = gy gathered for input pixel m, B = w read across, k = (co, r, s) ----
template <class T>
struct BackwardDataGrad {
  const T* gy;
  Dims d;
  struct Row {
    const T* base;  // gy[n, first channel of the group]
    int ihp, iwp;   // input position + padding
    bool valid;
  };
  __device__ Row row(int g, int m, int rows) const {
    Row r{gy, 0, 0, m < rows};
    if (!r.valid) return r;
    const int hw = d.h * d.w, n = m / hw, p = m - n * hw, ih = p / d.w, iw = p - ih * d.w;
    r.base = gy + (static_cast<int64_t>(n) * d.co + static_cast<int64_t>(g) * d.cog) * d.ho * d.wo;
    r.ihp = ih + d.ph;
    r.iwp = iw + d.pw;
    return r;
  }
  __device__ T at(const Row& r, int k) const {
    const int co = k / d.kk, rs = k - co * d.kk, kr = rs / d.kw, ks = rs - kr * d.kw;
    const int th = r.ihp - kr * d.dh, tw = r.iwp - ks * d.dw;  // = oh * sh, ow * sw when they exist
    if (!r.valid || th < 0 || tw < 0) return T(0);
    const int oh = th / d.sh, ow = tw / d.sw;
    if (oh * d.sh != th || ow * d.sw != tw || oh >= d.ho || ow >= d.wo) return T(0);
    return r.base[(static_cast<int64_t>(co) * d.ho + oh) * d.wo + ow];
  }
};

template <class T>
struct BackwardDataWeight {
  const T* w;
  Dims d;
  struct Row {
    const T* base;  // w[first out channel of the group, j]
    bool valid;
  };
  __device__ Row row(int g, int j, int cols) const {
    return {w + static_cast<int64_t>(g) * d.cog * d.cg * d.kk + static_cast<int64_t>(j) * d.kk, j < cols};
  }
  __device__ T at(const Row& r, int k) const {
    const int co = k / d.kk, rs = k - co * d.kk;
    return r.valid ? r.base[static_cast<int64_t>(co) * d.cg * d.kk + rs] : T(0);
  }
};

template <class T>
struct BackwardDataOutput {
  T* gx;
  const T* bias;  // conv_transpose2d's bias, per gx channel; null when undefined
  Dims d;
  __device__ void store(int g, int /*split*/, int m, int j, T v) const {
    const int hw = d.h * d.w, n = m / hw, p = m - n * hw, c = g * d.cg + j;
    gx[(static_cast<int64_t>(n) * d.c + c) * hw + p] = bias ? v + bias[c] : v;
  }
};

// ---- backward_weight: A = gy rows of the group's out channels, B = x windows, k = (n, oh, ow) ----
template <class T>
struct BackwardWeightGrad {
  const T* gy;
  Dims d;
  struct Row {
    const T* base;  // gy[0, g * cog + m]
    bool valid;
  };
  __device__ Row row(int g, int m, int rows) const {
    return {gy + (static_cast<int64_t>(g) * d.cog + m) * d.ho * d.wo, m < rows};
  }
  __device__ T at(const Row& r, int k) const {
    const int hw = d.ho * d.wo, n = k / hw, p = k - n * hw;
    return r.valid ? r.base[static_cast<int64_t>(n) * d.co * hw + p] : T(0);
  }
};

template <class T>
struct BackwardWeightInput {
  const T* x;
  Dims d;
  struct Row {
    const T* base;   // x[0, g * cg + c]
    int roff, soff;  // kr * dh - ph, ks * dw - pw: input position = output position * stride + off
    bool valid;
  };
  __device__ Row row(int g, int j, int cols) const {
    Row r{x, 0, 0, j < cols};
    if (!r.valid) return r;
    const int c = j / d.kk, rs = j - c * d.kk, kr = rs / d.kw, ks = rs - kr * d.kw;
    r.base = x + (static_cast<int64_t>(g) * d.cg + c) * d.h * d.w;
    r.roff = kr * d.dh - d.ph;
    r.soff = ks * d.dw - d.pw;
    return r;
  }
  __device__ T at(const Row& r, int k) const {
    const int hw = d.ho * d.wo, n = k / hw, p = k - n * hw, oh = p / d.wo, ow = p - oh * d.wo;
    const int ih = oh * d.sh + r.roff, iw = ow * d.sw + r.soff;
    if (!r.valid || ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) return T(0);
    return r.base[static_cast<int64_t>(n) * d.c * d.h * d.w + static_cast<int64_t>(ih) * d.w + iw];
  }
};

template <class T>
struct BackwardWeightOutput {
  T* out;         // gw, or the [splits, gw.numel()] workspace
  int64_t total;  // gw.numel()
  Dims d;
  __device__ void store(int g, int split, int m, int j, T v) const {
    out[split * total + (static_cast<int64_t>(g) * d.cog + m) * d.cg * d.kk + j] = v;
  }
};

// C tile (blockIdx.x: 64 rows, blockIdx.y: group * n_tiles_n + 64-col tile, blockIdx.z: K chunk).
template <class T, class APol, class BPol, class Epi, bool kAKFast, bool kBKFast>
__global__ void __launch_bounds__(kThreads)
    implicit_gemm_kernel(APol a, BPol b, Epi epi, int rows, int cols, int depth, int k_chunk, int n_tiles_n) {
  __shared__ T As[2][kBK][kBM + kPad];
  __shared__ T Bs[2][kBK][kBN + kPad];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const int g = blockIdx.y / n_tiles_n;
  const int m0 = blockIdx.x * kBM, n0 = (blockIdx.y - g * n_tiles_n) * kBN;
  const int k_begin = blockIdx.z * k_chunk;  // < depth: the host makes every chunk non-empty
  const int64_t chunk_end = static_cast<int64_t>(k_begin) + k_chunk;  // may pass INT32_MAX
  const int k_end = chunk_end < depth ? static_cast<int>(chunk_end) : depth;
  const int k_tiles = k_end > k_begin ? (k_end - k_begin + kBK - 1) / kBK : 0;

  // The tile elements this thread loads: (k, row) of its l-th element, l < 4.
  constexpr int kARows = kAKFast ? 4 : 1, kBRows = kBKFast ? 4 : 1;
  auto a_k = [&](int l) { return kAKFast ? (tid & 15) : (tid >> 6) + 4 * l; };
  auto a_m = [&](int l) { return kAKFast ? (tid >> 4) + 16 * l : (tid & 63); };
  auto b_k = [&](int l) { return kBKFast ? (tid & 15) : (tid >> 6) + 4 * l; };
  auto b_n = [&](int l) { return kBKFast ? (tid >> 4) + 16 * l : (tid & 63); };
  typename APol::Row arow[kARows];
  typename BPol::Row brow[kBRows];
#pragma unroll
  for (int l = 0; l < kARows; ++l) arow[l] = a.row(g, m0 + a_m(l), rows);
#pragma unroll
  for (int l = 0; l < kBRows; ++l) brow[l] = b.row(g, n0 + b_n(l), cols);

  T areg[4], breg[4];
  auto load = [&](int k0) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const int ka = k0 + a_k(l), kb = k0 + b_k(l);
      areg[l] = ka < k_end ? a.at(arow[kAKFast ? l : 0], ka) : T(0);
      breg[l] = kb < k_end ? b.at(brow[kBKFast ? l : 0], kb) : T(0);
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      As[buf][a_k(l)][a_m(l)] = areg[l];
      Bs[buf][b_k(l)][b_n(l)] = breg[l];
    }
  };

  T acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = T(0);

  if (k_tiles > 0) {
    load(k_begin);
    store(0);
  }
  __syncthreads();
  for (int t = 0; t < k_tiles; ++t) {
    const int cur = t & 1;
    const bool more = t + 1 < k_tiles;
    if (more) load(k_begin + (t + 1) * kBK);  // in flight while this tile is multiplied
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      T av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) av[i] = As[cur][kk][tx + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = Bs[cur][kk][ty + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
    }
    // The other buffer was last read in step t - 1, before the barrier that ended it.
    if (more) store(cur ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int m = m0 + tx + 16 * i, n = n0 + ty + 16 * j;
      if (m < rows && n < cols) epi.store(g, blockIdx.z, m, n, acc[i][j]);
    }
}

// gw[i] = sum of the splits' partial products, in split order (deterministic).
template <class T>
__global__ void sum_splits_kernel(const T* ws, T* out, int64_t total, int splits) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T s = ws[i];
    for (int z = 1; z < splits; ++z) s += ws[z * total + i];
    out[i] = s;
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

int checked_int(int64_t v, const char* what, const char* op) {
  STRATA_CHECK(v >= 0 && v <= kMaxIndex, DeviceError,
               "{}: {} = {} exceeds the implicit-GEMM kernels' 32-bit indexing; use ConvAlgorithm::cudnn", op, what, v);
  return static_cast<int>(v);
}

// x [N, C, H, W] (gx for backward_data), w [Co, C / groups, kh, kw], y [N, Co, Ho, Wo] (gy).
Dims dims_of(const Tensor& x, const Tensor& w, const Tensor& y, const kernels::ConvGeometry& g, const char* op) {
  Dims d{};
  d.n = checked_int(x.size(0), "batch", op);
  d.c = checked_int(x.size(1), "input channels", op);
  d.h = checked_int(x.size(2), "input height", op);
  d.w = checked_int(x.size(3), "input width", op);
  d.co = checked_int(w.size(0), "output channels", op);
  d.ho = checked_int(y.size(2), "output height", op);
  d.wo = checked_int(y.size(3), "output width", op);
  d.kh = checked_int(w.size(2), "kernel height", op);
  d.kw = checked_int(w.size(3), "kernel width", op);
  d.kk = checked_int(w.size(2) * w.size(3), "kernel size", op);
  d.sh = checked_int(g.stride_h, "stride", op);
  d.sw = checked_int(g.stride_w, "stride", op);
  d.ph = checked_int(g.pad_h, "padding", op);
  d.pw = checked_int(g.pad_w, "padding", op);
  d.dh = checked_int(g.dil_h, "dilation", op);
  d.dw = checked_int(g.dil_w, "dilation", op);
  d.cg = checked_int(x.size(1) / g.groups, "channels per group", op);
  d.cog = checked_int(w.size(0) / g.groups, "output channels per group", op);
  // The products that the kernels form in 32 bits.
  checked_int(x.size(0) * x.size(2) * x.size(3), "input pixels", op);
  checked_int(x.size(0) * y.size(2) * y.size(3), "output pixels", op);
  checked_int(w.size(1) * w.size(2) * w.size(3), "weights per output channel", op);
  checked_int(d.cog * w.size(2) * w.size(3), "weights per input channel", op);
  return d;
}

template <class T, bool kAKFast, bool kBKFast, class APol, class BPol, class Epi>
void launch(const APol& a, const BPol& b, const Epi& epi, int64_t rows, int64_t cols, int64_t depth, int64_t groups,
            int64_t splits, int64_t k_chunk, Device device, const char* op) {
  if (rows == 0 || cols == 0 || groups == 0) return;
  const int64_t tiles_n = ceil_div(cols, kBN);
  STRATA_CHECK(tiles_n * groups <= 65535 && splits <= 65535, DeviceError,
               "{}: {} groups x {} column tiles exceed the implicit-GEMM grid; use ConvAlgorithm::cudnn", op, groups,
               tiles_n);
  const dim3 grid(static_cast<unsigned>(ceil_div(rows, kBM)), static_cast<unsigned>(tiles_n * groups),
                  static_cast<unsigned>(splits));
  const cudaStream_t stream = stream_for(device);
  implicit_gemm_kernel<T, APol, BPol, Epi, kAKFast, kBKFast><<<grid, kThreads, 0, stream>>>(
      a, b, epi, static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(depth), static_cast<int>(k_chunk),
      static_cast<int>(tiles_n));
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <class T>
const T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

template <class T>
void forward_typed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                   const kernels::ConvGeometry& g) {
  const char* op = "conv2d";
  const Dims d = dims_of(x, w, y, g, op);
  const int64_t rows = int64_t{d.n} * d.ho * d.wo, cols = d.cog, depth = int64_t{d.cg} * d.kk;
  launch<T, false, true>(ForwardInput<T>{ptr<T>(x), d}, ForwardWeight<T>{ptr<T>(w), d},
                         ForwardOutput<T>{static_cast<T*>(y.raw_data()), ptr<T>(bias), d}, rows, cols, depth,
                         g.groups, 1, depth, y.device(), op);
}

template <class T>
void backward_data_typed(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                         const kernels::ConvGeometry& g) {
  const char* op = "conv_transpose2d";
  const Dims d = dims_of(gx, w, gy, g, op);
  const int64_t rows = int64_t{d.n} * d.h * d.w, cols = d.cg, depth = int64_t{d.cog} * d.kk;
  launch<T, false, true>(BackwardDataGrad<T>{ptr<T>(gy), d}, BackwardDataWeight<T>{ptr<T>(w), d},
                         BackwardDataOutput<T>{static_cast<T*>(gx.raw_data()), ptr<T>(bias), d}, rows, cols, depth,
                         g.groups, 1, depth, gx.device(), op);
}

// K chunks for backward_weight: enough blocks to fill the GPU (~4 per SM on 132 SMs) when the
// C tiles alone do not, at least 8 K steps per chunk, at most 64 chunks. Sizes only: deterministic.
int64_t weight_splits(int64_t c_tiles, int64_t depth) {
  constexpr int64_t kTargetBlocks = 528, kMinStepsPerSplit = 8, kMaxSplits = 64;
  const int64_t by_work = std::max<int64_t>(1, depth / (kBK * kMinStepsPerSplit));
  return std::clamp<int64_t>(ceil_div(kTargetBlocks, std::max<int64_t>(c_tiles, 1)), 1,
                             std::min(by_work, kMaxSplits));
}

template <class T>
void backward_weight_typed(const Tensor& x, const Tensor& gy, const Tensor& gw, const kernels::ConvGeometry& g) {
  const char* op = "conv2d_backward";
  const Dims d = dims_of(x, gw, gy, g, op);
  const int64_t rows = d.cog, cols = int64_t{d.cg} * d.kk, depth = int64_t{d.n} * d.ho * d.wo;
  const int64_t total = gw.numel();
  if (total == 0) return;
  const int64_t c_tiles = ceil_div(rows, kBM) * ceil_div(cols, kBN) * g.groups;
  int64_t splits = weight_splits(c_tiles, depth);
  const int64_t k_chunk = splits == 1 ? depth : ceil_div(ceil_div(depth, splits), kBK) * kBK;
  if (splits > 1) splits = ceil_div(depth, k_chunk);
  const BackwardWeightGrad<T> a{ptr<T>(gy), d};
  const BackwardWeightInput<T> b{ptr<T>(x), d};
  T* out = static_cast<T*>(gw.raw_data());
  if (splits == 1) {
    launch<T, true, true>(a, b, BackwardWeightOutput<T>{out, total, d}, rows, cols, depth, g.groups, 1, k_chunk,
                          gw.device(), op);
    return;
  }
  const Tensor ws = empty({splits, total}, {.dtype = gw.dtype(), .device = gw.device()});
  launch<T, true, true>(a, b, BackwardWeightOutput<T>{static_cast<T*>(ws.raw_data()), total, d}, rows, cols, depth,
                        g.groups, splits, k_chunk, gw.device(), op);
  const cudaStream_t stream = stream_for(gw.device());
  sum_splits_kernel<T><<<grid_for(total, 256), 256, 0, stream>>>(ptr<T>(ws), out, total, static_cast<int>(splits));
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

}  // namespace

void conv2d_forward_implicit_gemm(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& y,
                                  const kernels::ConvGeometry& g) {
  DeviceGuard guard(y.device().index);
  if (y.dtype() == DType::F64) return forward_typed<double>(x, w, bias, y, g);
  forward_typed<float>(x, w, bias, y, g);
}

void conv2d_backward_data_implicit_gemm(const Tensor& gy, const Tensor& w, const Tensor& bias, const Tensor& gx,
                                        const kernels::ConvGeometry& g) {
  DeviceGuard guard(gx.device().index);
  if (gx.dtype() == DType::F64) return backward_data_typed<double>(gy, w, bias, gx, g);
  backward_data_typed<float>(gy, w, bias, gx, g);
}

void conv2d_backward_weight_implicit_gemm(const Tensor& x, const Tensor& gy, const Tensor& gw,
                                          const kernels::ConvGeometry& g) {
  DeviceGuard guard(gw.device().index);
  if (gw.dtype() == DType::F64) return backward_weight_typed<double>(x, gy, gw, g);
  backward_weight_typed<float>(x, gy, gw, g);
}

}  // namespace strata::cuda
