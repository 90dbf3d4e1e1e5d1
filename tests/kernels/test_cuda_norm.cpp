// CPU/CUDA parity of the normalization kernels (kernels/cuda/norm_batch.cu, norm_layer.cu):
// batch norm in training (running statistics updated identically) and evaluation, 2-d and 4-d
// inputs, affine or not (the 4-d affine f32/f16 training calls take cuDNN, the rest our
// kernels); layer norm over the last 1 and 2 dims, short rows (warp per row) and long rows
// (block per row); group and instance norm. Each forward and its backward through autograd
// (dx, dweight, dbias), in f32, bf16 and f64 (batch norm training also f16), with non-contiguous
// inputs and a gradient that is constant over the spatial dims (batch norm's per-run path).
// Skips itself without a CUDA device; the error test at the end needs none.
// f16 tolerance: as bf16's, 2e-2 (cuDNN normalizes f16 in float and rounds, as the CPU does).
//
// Tolerances: f32 rtol/atol 1e-4 (both devices reduce in double, but cuDNN accumulates in float
// and the dx formula cancels terms of size |g| * invstd); bf16 2e-2 (outputs and gradients are
// rounded to bf16, a one-ulp flip is 1/128 relative); f64 1e-10.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::parity_values;

testing::Tol tol_for(DType dt) {
  if (dt == DType::BF16 || dt == DType::F16) return {2e-2, 2e-2};
  if (dt == DType::F64) return {1e-10, 1e-10};
  return {1e-4, 1e-4};
}

DType param_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

// The forward's output and the gradients of its inputs (undefined for undefined parameters).
struct NormRun {
  Tensor out, dx, dw, db;
};

using NormFn = std::function<Tensor(const Tensor& x, const Tensor& w, const Tensor& b)>;

// Runs `f` on leaves copied to `device`, then backward from sum(out * upstream) (or from
// sum(out) when upstream is undefined: a gradient constant over every dim).
NormRun run_on(Device device, const NormFn& f, const Tensor& x, const Tensor& w, const Tensor& b,
           const Tensor& upstream) {
  auto leaf = [&](const Tensor& t) { return t.defined() ? t.to(device).detach().requires_grad_() : Tensor(); };
  Tensor xl = leaf(x), wl = leaf(w), bl = leaf(b);
  Tensor out = f(xl, wl, bl);
  Tensor loss = upstream.defined() ? sum(out * upstream.to(device)) : sum(out);
  loss.backward();
  return {out.detach(), xl.grad(), wl.defined() ? wl.grad() : Tensor(), bl.defined() ? bl.grad() : Tensor()};
}

void expect_parity(const NormFn& f, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& upstream,
                   const std::string& what) {
  const NormRun cpu = run_on(Device::cpu(), f, x, w, b, upstream);
  const NormRun gpu = run_on(Device::cuda(), f, x, w, b, upstream);
  const testing::Tol tol = tol_for(x.dtype());
  EXPECT_TRUE(testing::all_close(cpu.out, gpu.out, tol, what + " out"));
  ASSERT_TRUE(cpu.dx.defined() && gpu.dx.defined()) << what;
  EXPECT_TRUE(testing::all_close(cpu.dx, gpu.dx, tol, what + " dx"));
  if (w.defined()) {
    EXPECT_TRUE(testing::all_close(cpu.dw, gpu.dw, tol, what + " dweight"));
  }
  if (b.defined()) {
    EXPECT_TRUE(testing::all_close(cpu.db, gpu.db, tol, what + " dbias"));
  }
}

struct Params {
  Tensor w, b;
};
Params params(int64_t c, DType dt, bool affine, uint64_t seed) {
  if (!affine) return {};
  return {parity_values({c}, param_dtype(dt), seed, 0.5, 1.5), parity_values({c}, param_dtype(dt), seed + 1)};
}

// ---- batch norm ----

TEST(CudaBatchNorm, TrainingMatchesTheCpuIncludingRunningStatistics) {
  SKIP_WITHOUT_CUDA();
  // {16, 2, 64, 64}: few channels of many values, split into several chunks per channel.
  const std::vector<Shape> shapes = {{4, 3, 5, 7}, {16, 5}, {8, 64, 16, 16}, {3, 4, 1, 1}, {2, 6, 33}, {16, 2, 64, 64}};
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    for (const Shape& shape : shapes) {
      for (bool affine : {true, false}) {
        const std::string what = fmt::format("batch_norm train {} {} affine={}", shape, dt, affine);
        SCOPED_TRACE(what);
        const int64_t c = shape[1];
        const Tensor x = parity_values(shape, dt, 11, -1.0, 3.0);
        const auto [w, b] = params(c, dt, affine, 12);
        const Tensor rm0 = parity_values({c}, param_dtype(dt), 13), rv0 = parity_values({c}, param_dtype(dt), 14, 0.5, 2);
        Tensor rm_cpu = rm0.clone(), rv_cpu = rv0.clone();
        Tensor rm_gpu = rm0.to(Device::cuda()), rv_gpu = rv0.to(Device::cuda());
        auto on = [&](Tensor& rm, Tensor& rv) {
          return [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
            return batch_norm(xx, rm, rv, ww, bb, {.training = true, .momentum = 0.3, .eps = 1e-4});
          };
        };
        const Tensor up = parity_values(shape, dt, 15);
        const NormRun cpu = run_on(Device::cpu(), on(rm_cpu, rv_cpu), x, w, b, up);
        const NormRun gpu = run_on(Device::cuda(), on(rm_gpu, rv_gpu), x, w, b, up);
        const testing::Tol tol = tol_for(dt);
        EXPECT_TRUE(testing::all_close(cpu.out, gpu.out, tol, what + " out"));
        EXPECT_TRUE(testing::all_close(cpu.dx, gpu.dx, tol, what + " dx"));
        if (affine) {
          EXPECT_TRUE(testing::all_close(cpu.dw, gpu.dw, tol, what + " dweight"));
          EXPECT_TRUE(testing::all_close(cpu.db, gpu.db, tol, what + " dbias"));
        }
        // Running statistics are f32 (f64) on both devices: tighter than the data tolerance.
        const testing::Tol stat_tol = dt == DType::F64 ? testing::Tol{1e-12, 1e-12} : testing::Tol{1e-5, 1e-5};
        EXPECT_TRUE(testing::all_close(rm_cpu, rm_gpu, stat_tol, what + " running_mean"));
        EXPECT_TRUE(testing::all_close(rv_cpu, rv_gpu, stat_tol, what + " running_var"));
      }
    }
  }
}

TEST(CudaBatchNorm, SavedStatisticsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (const Shape& shape : {Shape{4, 3, 5, 7}, Shape{16, 5}}) {
    const Tensor x = parity_values(shape, DType::F32, 21, -1.0, 3.0);
    const auto [w, b] = params(shape[1], DType::F32, true, 22);
    const auto cpu = batch_norm_with_stats(x, Tensor(), Tensor(), w, b, {.training = true});
    const auto gpu = batch_norm_with_stats(x.to(Device::cuda()), Tensor(), Tensor(), w.to(Device::cuda()),
                                           b.to(Device::cuda()), {.training = true});
    EXPECT_TRUE(testing::all_close(cpu.save_mean, gpu.save_mean, {1e-5, 1e-6}, fmt::format("{} mean", shape)));
    EXPECT_TRUE(testing::all_close(cpu.save_invstd, gpu.save_invstd, {1e-5, 1e-6}, fmt::format("{} invstd", shape)));
  }
}

TEST(CudaBatchNorm, EvaluationMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16}) {
    for (const Shape& shape : {Shape{4, 3, 5, 7}, Shape{16, 5}}) {
      for (bool affine : {true, false}) {
        const int64_t c = shape[1];
        const Tensor x = parity_values(shape, dt, 31);
        const auto [w, b] = params(c, dt, affine, 32);
        const Tensor rm = parity_values({c}, param_dtype(dt), 33), rv = parity_values({c}, param_dtype(dt), 34, 0.5, 2);
        const NormFn f = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
          return batch_norm(xx, rm.to(xx.device()), rv.to(xx.device()), ww, bb, {.training = false});
        };
        expect_parity(f, x, w, b, parity_values(shape, dt, 35),
                      fmt::format("batch_norm eval {} {} affine={}", shape, dt, affine));
      }
    }
  }
}

TEST(CudaBatchNorm, NonContiguousInputAndSpatiallyConstantGradient) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = parity_values({3, 4, 6, 20}, DType::F32, 41);
  const auto [w, b] = params(4, DType::F32, true, 42);
  for (bool training : {true, false}) {
    const NormFn f = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
      const Tensor rm = zeros({4}, {.device = xx.device()}), rv = ones({4}, {.device = xx.device()});
      return batch_norm(xx.transpose(2, 3), rm, rv, ww, bb, {.training = training});
    };
    // Undefined upstream: backward from out.sum(), a gradient of stride 0 over the spatial dims.
    expect_parity(f, x, w, b, Tensor(), fmt::format("batch_norm transposed, sum, training={}", training));
    expect_parity(f, x, w, b, parity_values({3, 4, 20, 6}, DType::F32, 43),
                  fmt::format("batch_norm transposed, training={}", training));
  }
}

TEST(CudaBatchNorm, EmptyBatchGivesAnEmptyOutput) {
  SKIP_WITHOUT_CUDA();
  Tensor rm = zeros({3}, {.device = Device::cuda()}), rv = ones({3}, {.device = Device::cuda()});
  const Tensor y = batch_norm(empty({0, 3, 4, 4}, {.device = Device::cuda()}), rm, rv, Tensor(), Tensor(),
                              {.training = true});
  EXPECT_EQ(y.shape(), (Shape{0, 3, 4, 4}));
  EXPECT_TRUE(testing::all_close(zeros({3}), rm, {0, 0}, "running_mean untouched"));
}

// ---- layer norm ----

TEST(CudaLayerNorm, LastOneAndTwoDimsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  struct Case {
    Shape x, normalized;
  };
  const std::vector<Case> cases = {{{6, 10}, {10}},           {{3, 4, 5, 6}, {5, 6}}, {{4, 3000}, {3000}},
                                   {{2, 3, 40, 50}, {40, 50}}, {{5, 1}, {1}},          {{0, 7}, {7}}};
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (const Case& c : cases) {
      for (bool affine : {true, false}) {
        const Tensor x = parity_values(c.x, dt, 51, -1.0, 3.0);
        Tensor w, b;
        if (affine) {
          w = parity_values(c.normalized, param_dtype(dt), 52, 0.5, 1.5);
          b = parity_values(c.normalized, param_dtype(dt), 53);
        }
        const NormFn f = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
          return layer_norm(xx, c.normalized, ww, bb, 1e-5);
        };
        expect_parity(f, x, w, b, parity_values(c.x, dt, 54),
                      fmt::format("layer_norm {} over {} {} affine={}", c.x, c.normalized, dt, affine));
      }
    }
  }
}

TEST(CudaLayerNorm, NonContiguousInputMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = parity_values({33, 17}, DType::F32, 61);
  const Tensor w = parity_values({33}, DType::F32, 62, 0.5, 1.5), b = parity_values({33}, DType::F32, 63);
  const NormFn f = [](const Tensor& xx, const Tensor& ww, const Tensor& bb) { return layer_norm(xx.t(), {33}, ww, bb); };
  expect_parity(f, x, w, b, parity_values({17, 33}, DType::F32, 64), "layer_norm transposed");
  // Weight only, then bias only: the kernels' optional-parameter branches.
  expect_parity(f, x, w, Tensor(), parity_values({17, 33}, DType::F32, 65), "layer_norm weight only");
  expect_parity(f, x, Tensor(), b, parity_values({17, 33}, DType::F32, 66), "layer_norm bias only");
}

// ---- group and instance norm ----

TEST(CudaGroupNorm, GroupsAndInstanceNormMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  struct Case {
    Shape x;
    int64_t groups;
  };
  // Rows of cg * S values: 50 (warp), 6400 (block), 1 channel per group (instance-like), S = 1.
  const std::vector<Case> cases = {{{4, 6, 5, 5}, 3}, {{2, 4, 40, 40}, 1}, {{3, 8, 7}, 8}, {{5, 6}, 2}, {{2, 32, 3, 3}, 4}};
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (const Case& c : cases) {
      for (bool affine : {true, false}) {
        const Tensor x = parity_values(c.x, dt, 71, -1.0, 3.0);
        const auto [w, b] = params(c.x[1], dt, affine, 72);
        const NormFn f = [&](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
          return group_norm(xx, c.groups, ww, bb, 1e-5);
        };
        expect_parity(f, x, w, b, parity_values(c.x, dt, 73),
                      fmt::format("group_norm {} groups {} {} affine={}", c.x, c.groups, dt, affine));
      }
    }
  }
  const Tensor x = parity_values({3, 5, 4, 6}, DType::F32, 74);
  const auto [w, b] = params(5, DType::F32, true, 75);
  const NormFn inst = [](const Tensor& xx, const Tensor& ww, const Tensor& bb) { return instance_norm(xx, ww, bb); };
  expect_parity(inst, x, w, b, parity_values({3, 5, 4, 6}, DType::F32, 76), "instance_norm");
  const NormFn gt = [](const Tensor& xx, const Tensor& ww, const Tensor& bb) {
    return group_norm(xx.transpose(2, 3), 5, ww, bb);
  };
  expect_parity(gt, x, w, b, Tensor(), "group_norm transposed, sum");
}

// ---- errors: the front ends' checks run before any kernel, on any device ----

TEST(CudaNormErrors, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {
  std::vector<float> host(2 * 3 * 4, 0.0f), wbuf(4, 1.0f);
  const Tensor x = from_blob(host.data(), {2, 3, 4}, DType::F32, {}, Device::cuda());
  const Tensor w = from_blob(wbuf.data(), {4}, DType::F32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(batch_norm(x, Tensor(), Tensor(), w, Tensor(), {.training = true}), ShapeError,
                      {"batch_norm:", "weight has 4 elements", "3 channels"});
  EXPECT_STRATA_ERROR(layer_norm(x, {3}), ShapeError, {"layer_norm:", "[2, 3, 4]", "[3]"});
  EXPECT_STRATA_ERROR(group_norm(x, 2), ShapeError, {"group_norm:", "num_groups 2", "3 channels"});
}

}  // namespace
}  // namespace strata
