// CPU/CUDA parity of the CUDA reductions (kernels/cuda/reduce.cu) and the cuBLAS GEMM
// (kernels/cuda/gemm.cu): every ReduceOp over single dims, several dims, all dims and
// non-contiguous inputs in f32 and bf16 (integers exactly); matmul/bmm with transposed operands,
// broadcast batches and k = 0. Skips itself, with the reason, when no CUDA device is usable.
//
// Tolerances: both devices accumulate floating reductions in f64, so f32 results agree to
// rtol 1e-5 (the GPU's summation order differs); bf16 outputs to one bf16 rounding (1e-2).
// GEMM f32: cuBLAS without TF32 against the CPU GEMM, rtol 1e-4 for k up to 300.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/reduce.h"
#include "strata.h"
#include "tensor/device_detail.h"
#include "support/cuda_parity.h"

namespace strata {
namespace {

using kernels::ReduceOp;

::testing::AssertionResult all_close(const Tensor& cpu, const Tensor& gpu, double rtol, double atol,
                                     const std::string& what) {
  return testing::all_close(cpu, gpu.dtype() == cpu.dtype() ? gpu : gpu.to(cpu.dtype()), {rtol, atol}, what);
}
Tensor values(const Shape& shape, DType dt, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  return testing::parity_values(shape, dt, seed, lo, hi);
}

// out's keepdim shape for reducing `dims` of `shape`.
Shape keep_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(shape.begin(), shape.end());
  for (int64_t d : dims) s[static_cast<size_t>(d)] = 1;
  return Shape(s);
}

DType out_dtype(ReduceOp op, DType in) {
  if (op == ReduceOp::any || op == ReduceOp::all) return DType::Bool;
  if ((op == ReduceOp::sum || op == ReduceOp::prod) && !is_floating(in)) return DType::I64;
  return in;
}

TEST(CudaReduce, EveryReduceOpMatchesTheCpuOverAnyDims) {
  SKIP_WITHOUT_CUDA();
  const std::vector<ReduceOp> ops = {ReduceOp::sum,    ReduceOp::mean,     ReduceOp::prod,         ReduceOp::amax,
                                     ReduceOp::amin,   ReduceOp::any,      ReduceOp::all,          ReduceOp::norm0,
                                     ReduceOp::norm1,  ReduceOp::norm2,    ReduceOp::norm_inf,     ReduceOp::norm_neg_inf,
                                     ReduceOp::norm_p, ReduceOp::var,      ReduceOp::std,          ReduceOp::logsumexp};
  const std::vector<std::vector<int64_t>> dim_sets = {{2}, {0}, {1}, {0, 2}, {0, 1, 2}};
  for (DType dt : {DType::F32, DType::BF16}) {
    // [6, 37, 1500] has a long last dim (the block-per-output kernel) and short ones (warp per output);
    // prod over many elements would overflow, so its values are near 1.
    const Tensor base = values({6, 37, 1500}, dt, 5, 0.9, 1.1);
    const Tensor signed_vals = values({6, 37, 1500}, dt, 6);
    for (const auto& dims : dim_sets) {
      for (ReduceOp op : ops) {
        const Tensor& x = op == ReduceOp::prod ? base : signed_vals;
        const Shape os = keep_shape(x.shape(), dims);
        Tensor ref = empty(os, {.dtype = out_dtype(op, dt)});
        const double param = op == ReduceOp::norm_p ? 3.0 : (op == ReduceOp::var || op == ReduceOp::std ? 1.0 : 0.0);
        kernels::reduce(op, x, ref, param);
        Tensor got = empty(os, {.dtype = out_dtype(op, dt), .device = Device::cuda()});
        kernels::reduce(op, x.to(Device::cuda()), got, param);
        const double rtol = dt == DType::BF16 ? 1e-2 : 1e-5;
        EXPECT_TRUE(all_close(ref, got, rtol, rtol * 1e-1,
                              fmt::format("{} over {} dims {}", kernels::reduce_op_name(op), dims.size(), dt)));
      }
    }
  }
}

TEST(CudaReduce, NonContiguousInputsAndIntegerSumsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  const Tensor base = values({40, 70}, DType::F32, 8);
  const Tensor tr_cpu = base.t();                          // [70, 40], strides (1, 70)
  const Tensor tr_gpu = base.to(Device::cuda()).t();
  for (int64_t d : {0, 1}) {
    const Shape os = keep_shape(tr_cpu.shape(), {d});
    Tensor ref = empty(os), got = empty(os, {.device = Device::cuda()});
    kernels::reduce(ReduceOp::sum, tr_cpu, ref);
    kernels::reduce(ReduceOp::sum, tr_gpu, got);
    EXPECT_TRUE(all_close(ref, got, 1e-5, 1e-6, fmt::format("sum of a transpose over dim {}", d)));
  }
  for (DType dt : {DType::I64, DType::I32, DType::U8, DType::Bool}) {
    const Tensor x = values({9, 300}, DType::F32, 9, 0.0, 3.0).to(dt);
    for (ReduceOp op : {ReduceOp::sum, ReduceOp::amax, ReduceOp::amin, ReduceOp::any, ReduceOp::all}) {
      const Shape os = keep_shape(x.shape(), {1});
      Tensor ref = empty(os, {.dtype = out_dtype(op, dt)});
      Tensor got = empty(os, {.dtype = out_dtype(op, dt), .device = Device::cuda()});
      kernels::reduce(op, x, ref);
      kernels::reduce(op, x.to(Device::cuda()), got);
      EXPECT_TRUE(all_close(ref, got, 0, 0, fmt::format("{} {}", kernels::reduce_op_name(op), dt)));
    }
  }
}

TEST(CudaReduce, NanPropagatesAndEmptyExtentsGiveTheCpuValues) {
  SKIP_WITHOUT_CUDA();
  Tensor x = values({3, 50}, DType::F32, 10);
  x.slice(0, 1, 2).slice(1, 7, 8).fill_(std::nan(""));
  for (ReduceOp op : {ReduceOp::amax, ReduceOp::amin, ReduceOp::sum, ReduceOp::logsumexp}) {
    Tensor ref = empty({3, 1}), got = empty({3, 1}, {.device = Device::cuda()});
    kernels::reduce(op, x, ref);
    kernels::reduce(op, x.to(Device::cuda()), got);
    EXPECT_TRUE(all_close(ref, got, 1e-5, 1e-6, kernels::reduce_op_name(op)));
  }
  const Tensor e = empty({4, 0});
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::prod, ReduceOp::mean, ReduceOp::logsumexp}) {
    Tensor ref = empty({4, 1}), got = empty({4, 1}, {.device = Device::cuda()});
    kernels::reduce(op, e, ref);
    kernels::reduce(op, e.to(Device::cuda()), got);
    EXPECT_TRUE(all_close(ref, got, 0, 0, fmt::format("empty {}", kernels::reduce_op_name(op))));
  }
}

TEST(CudaReduce, PublicSumAndMeanRunOnCudaTensors) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = values({8, 33, 5}, DType::F32, 12);
  EXPECT_TRUE(all_close(sum(x, {1}), sum(x.to(Device::cuda()), {1}), 1e-5, 1e-6, "sum dim 1"));
  EXPECT_TRUE(all_close(mean(x, {0, 2}, true), mean(x.to(Device::cuda()), {0, 2}, true), 1e-5, 1e-6, "mean"));
  EXPECT_TRUE(all_close(sum(x), sum(x.to(Device::cuda())), 1e-5, 1e-6, "sum all"));
}

TEST(CudaMatmul, CublasGemmMatchesTheCpuForEveryLayout) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::F64}) {
    const Tensor a = values({37, 300}, dt, 20), b = values({300, 53}, dt, 21);
    const Tensor ag = a.to(Device::cuda()), bg = b.to(Device::cuda());
    const double rtol = dt == DType::F32 ? 1e-4 : 1e-10;
    EXPECT_TRUE(all_close(matmul(a, b), matmul(ag, bg), rtol, rtol, "a @ b"));
    // transposed operands (no copy: the GEMM's trans flags)
    const Tensor at = values({300, 37}, dt, 22), bt = values({53, 300}, dt, 23);
    EXPECT_TRUE(all_close(matmul(at.t(), bt.t()), matmul(at.to(Device::cuda()).t(), bt.to(Device::cuda()).t()), rtol,
                          rtol, "a^T @ b^T"));
    // batched, with a broadcast batch operand
    const Tensor x = values({4, 3, 17, 29}, dt, 24), w = values({29, 11}, dt, 25);
    EXPECT_TRUE(all_close(matmul(x, w), matmul(x.to(Device::cuda()), w.to(Device::cuda())), rtol, rtol, "batched"));
    const Tensor p = values({5, 8, 9}, dt, 26), q = values({5, 9, 7}, dt, 27);
    EXPECT_TRUE(all_close(bmm(p, q), bmm(p.to(Device::cuda()), q.to(Device::cuda())), rtol, rtol, "bmm"));
    // a batch whose strides do not collapse: a transposed batch dim pair
    const Tensor r = values({3, 4, 6, 5}, dt, 28).transpose(0, 1);  // [4, 3, 6, 5]
    const Tensor s = values({5, 2}, dt, 29);
    EXPECT_TRUE(all_close(matmul(r, s), matmul(values({3, 4, 6, 5}, dt, 28).to(Device::cuda()).transpose(0, 1),
                                              s.to(Device::cuda())),
                          rtol, rtol, "non-collapsing batch"));
  }
  // k = 0: zeros
  const Tensor z = matmul(empty({3, 0}, {.device = Device::cuda()}), empty({0, 4}, {.device = Device::cuda()}));
  EXPECT_TRUE(all_close(zeros({3, 4}), z, 0, 0, "k = 0"));
}

}  // namespace
}  // namespace strata
