// CUDA fused optimizer steps (CudaTable::optim_step, kernels/optim.h): a multi-tensor apply on the
// functors the CPU loops run (kernels/optim_functors.h), so the CPU tests cover the math.
//
// Shape of the work: the group's tensors, laid end to end, form one index space (as on the CPU).
// Up to kSlotsPerLaunch tensors travel by value in the kernel's parameters (their pointers,
// per-tensor scalars and start offsets: ~8 KB, within the 32 KB parameter limit of CUDA >= 12.1
// on sm_70+), so a group of a few hundred tensors is one or two launches and needs no device
// copy of a descriptor table. Each block takes tiles of kTile consecutive elements of that index
// space (grid-stride over tiles); for a tile it finds the first tensor overlapping it by a binary
// search over the starts (uniform across the block) and walks the tensors it overlaps, the
// threads striding over each overlap. Every element is updated independently by one thread, so
// the result does not depend on the launch shape.
#include <algorithm>
#include <vector>

#include "kernels/cuda/device_ptr.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/optim.h"
#include "kernels/optim_functors.h"

namespace strata::cuda {
namespace {

using kernels::OptimKind;

constexpr int kSlotsPerLaunch = 128;
constexpr int64_t kTile = 4096;  // elements per block per tile (16 per thread at 256 threads)

struct SlotArgs {
  float* p;
  float* g;
  float* m;
  float* v;
  float decay, l2, step_size, debias2;
};

struct GroupArgs {
  int count = 0;
  int64_t start[kSlotsPerLaunch + 1];  // start[count] = total
  SlotArgs slot[kSlotsPerLaunch];
};

struct Coeffs {
  float mom, one_minus_mom, sqr_mom, one_minus_sqr_mom, eps;
};

template <OptimKind K, bool kL2>
__device__ __forceinline__ void apply(const SlotArgs& s, int64_t i, const Coeffs& c) {
  if constexpr (K == OptimKind::kSgd) {
    kernels::SgdFunctor<kL2>{}(s.p[i], s.g[i], s.decay, s.l2, s.step_size);
  } else if constexpr (K == OptimKind::kMomentum) {
    kernels::MomentumFunctor<kL2>{c.mom}(s.p[i], s.g[i], s.m[i], s.decay, s.l2, s.step_size);
  } else {
    kernels::AdamFunctor<kL2>{c.mom, c.one_minus_mom, c.sqr_mom, c.one_minus_sqr_mom, c.eps}(
        s.p[i], s.g[i], s.m[i], s.v[i], s.decay, s.l2, s.step_size, s.debias2);
  }
}

template <OptimKind K, bool kL2>
__global__ void __launch_bounds__(kThreads) multi_tensor_kernel(const __grid_constant__ GroupArgs args, Coeffs c) {
  const int64_t total = args.start[args.count];
  const int64_t tiles = (total + kTile - 1) / kTile;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t lo = tile * kTile, hi = min(lo + kTile, total);
    // The last tensor whose start is <= lo (tensors are non-empty, so it contains lo).
    int a = 0, b = args.count - 1;
    while (a < b) {
      const int mid = (a + b + 1) / 2;
      if (args.start[mid] <= lo) a = mid;
      else b = mid - 1;
    }
    for (int t = a; t < args.count && args.start[t] < hi; ++t) {
      const int64_t begin = max(lo, args.start[t]) - args.start[t];
      const int64_t end = min(hi, args.start[t + 1]) - args.start[t];
      const SlotArgs& s = args.slot[t];
      for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) apply<K, kL2>(s, i, c);
    }
  }
}

float* f32_or_null(const Tensor& t) { return t.defined() ? dptr<float>(t) : nullptr; }

template <OptimKind K, bool kL2>
void launch(const GroupArgs& args, const Coeffs& c, cudaStream_t stream) {
  const int64_t total = args.start[args.count];
  const int64_t tiles = (total + kTile - 1) / kTile;
  const unsigned grid = static_cast<unsigned>(std::clamp<int64_t>(tiles, 1, 132 * 16));
  multi_tensor_kernel<K, kL2><<<grid, kThreads, 0, stream>>>(args, c);
  STRATA_CUDA_LAUNCH_CHECK(stream);
}

template <bool kL2>
void launch_kind(OptimKind kind, const GroupArgs& args, const Coeffs& c, cudaStream_t stream) {
  switch (kind) {
    case OptimKind::kSgd: return launch<OptimKind::kSgd, kL2>(args, c, stream);
    case OptimKind::kMomentum: return launch<OptimKind::kMomentum, kL2>(args, c, stream);
    case OptimKind::kAdam: return launch<OptimKind::kAdam, kL2>(args, c, stream);
    case OptimKind::kNone: return;
  }
}

void optim_step(OptimKind kind, std::span<const kernels::OptimSlot> slots, const kernels::OptimCoeffs& coeffs) {
  if (kind == OptimKind::kNone || slots.empty()) return;
  const Device device = slots.front().param.device();
  DeviceGuard guard(device.index);
  const cudaStream_t stream = stream_for(device);
  const Coeffs c{static_cast<float>(coeffs.mom), static_cast<float>(1.0 - coeffs.mom),
                 static_cast<float>(coeffs.sqr_mom), static_cast<float>(1.0 - coeffs.sqr_mom),
                 static_cast<float>(coeffs.eps)};
  GroupArgs args;
  auto flush = [&] {
    if (args.count == 0) return;
    if (coeffs.use_l2) launch_kind<true>(kind, args, c, stream);
    else launch_kind<false>(kind, args, c, stream);
    args.count = 0;
  };
  int64_t total = 0;
  for (const kernels::OptimSlot& s : slots) {
    const int64_t n = s.param.numel();
    if (n == 0) continue;  // empty tensors would break "the tensor at lo contains lo"
    if (args.count == 0) total = 0;
    args.slot[args.count] = SlotArgs{dptr<float>(s.param), dptr<float>(s.grad), f32_or_null(s.grad_avg),
                                     f32_or_null(s.sqr_avg), static_cast<float>(s.decay), static_cast<float>(s.l2),
                                     static_cast<float>(s.step_size), static_cast<float>(s.debias2)};
    args.start[args.count] = total;
    total += n;
    ++args.count;
    args.start[args.count] = total;
    if (args.count == kSlotsPerLaunch) flush();
  }
  flush();
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) { t.optim_step = &optim_step; });

}  // namespace
}  // namespace strata::cuda
