// CPU/CUDA parity of batch_norm_relu (kernels/cuda/norm_batch.cu, the own kernels with the fused
// ReLU: cuDNN is never used for it): training (running statistics updated identically) and
// evaluation, [N, C] and [N, C, H, W] inputs including one split into several chunks per channel,
// affine or not, weight only, a non-contiguous input; forward and backward through autograd
// (dx, dweight, dbias) in f32, bf16 and f64; and the fused op against relu(batch_norm) on the GPU
// itself. Skips itself without a CUDA device; the error test at the end needs none.
//
// Tolerances (as test_cuda_norm.cpp): f32 rtol/atol 1e-4 (both devices reduce in double; the dx
// formula cancels terms of size |g| * invstd), bf16 2e-2 (values rounded to 8 bits; a pre-activation
// within an ulp of 0 may fall on the other side of the mask on the other device, which moves one
// element's gradient by about |g| * w * invstd: the inputs keep such ties unlikely), f64 1e-10.
#include <gtest/gtest.h>

#include <string>

#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using testing::parity_values;

testing::Tol tol_for(DType dt) {
  if (dt == DType::BF16) return {2e-2, 2e-2};
  if (dt == DType::F64) return {1e-10, 1e-10};
  return {1e-4, 1e-4};
}

DType param_dtype(DType dt) { return dt == DType::F64 ? DType::F64 : DType::F32; }

struct BnRun {
  Tensor out, dx, dw, db, rm, rv;
};

// batch_norm_relu (or relu(batch_norm) when !fused) on `device`, backward from sum(out * up).
BnRun run_on(Device device, bool fused, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm0,
           const Tensor& rv0, bool training, const Tensor& up) {
  auto leaf = [&](const Tensor& t) { return t.defined() ? t.to(device).detach().requires_grad_() : Tensor(); };
  Tensor xl = leaf(x), wl = leaf(w), bl = leaf(b);
  Tensor rm = rm0.to(device).clone(), rv = rv0.to(device).clone();
  const BatchNormOptions opts{.training = training, .momentum = 0.3, .eps = 1e-4};
  Tensor out = fused ? batch_norm_relu(xl, rm, rv, wl, bl, opts) : relu(batch_norm(xl, rm, rv, wl, bl, opts));
  sum(out * up.to(device)).backward();
  return {out.detach(), xl.grad(), wl.defined() ? wl.grad() : Tensor(), bl.defined() ? bl.grad() : Tensor(), rm, rv};
}

void expect_same(const BnRun& a, const BnRun& b, testing::Tol tol, const std::string& what) {
  EXPECT_TRUE(testing::all_close(a.out, b.out, tol, what + " out"));
  EXPECT_TRUE(testing::all_close(a.dx, b.dx, tol, what + " dx"));
  if (a.dw.defined()) {
    EXPECT_TRUE(testing::all_close(a.dw, b.dw, tol, what + " dweight"));
  }
  if (a.db.defined()) {
    EXPECT_TRUE(testing::all_close(a.db, b.db, tol, what + " dbias"));
  }
  EXPECT_TRUE(testing::all_close(a.rm, b.rm, {1e-5, 1e-5}, what + " running_mean"));
  EXPECT_TRUE(testing::all_close(a.rv, b.rv, {1e-5, 1e-5}, what + " running_var"));
}

TEST(CudaBatchNormRelu, MatchesTheCpuInBothModes) {
  SKIP_WITHOUT_CUDA();
  // {16, 2, 64, 64}: few channels of many values, several chunks per channel.
  const std::vector<Shape> shapes = {{4, 3, 5, 7}, {16, 5}, {8, 32, 14, 14}, {16, 2, 64, 64}};
  for (DType dt : {DType::F32, DType::BF16, DType::F64}) {
    for (const Shape& shape : shapes) {
      for (int params = 0; params < 3; ++params) {  // affine, none, weight only
        for (bool training : {true, false}) {
          const std::string what =
              fmt::format("batch_norm_relu {} {} params={} training={}", shape, dt, params, training);
          SCOPED_TRACE(what);
          const int64_t c = shape[1];
          const Tensor x = parity_values(shape, dt, 11, -1.0, 3.0);
          const Tensor w = params != 1 ? parity_values({c}, param_dtype(dt), 12, 0.5, 1.5) : Tensor();
          const Tensor b = params == 0 ? parity_values({c}, param_dtype(dt), 13, -0.5, 0.5) : Tensor();
          const Tensor rm = parity_values({c}, param_dtype(dt), 14), rv = parity_values({c}, param_dtype(dt), 15, 0.5, 2);
          const Tensor up = parity_values(shape, dt, 16);
          const BnRun cpu = run_on(Device::cpu(), true, x, w, b, rm, rv, training, up);
          const BnRun gpu = run_on(Device::cuda(), true, x, w, b, rm, rv, training, up);
          expect_same(cpu, gpu, tol_for(dt), what);
        }
      }
    }
  }
}

TEST(CudaBatchNormRelu, NonContiguousInputAndUnfusedCompositionAgree) {
  SKIP_WITHOUT_CUDA();
  const Tensor base = parity_values({6, 5, 3, 4}, DType::F32, 21);
  const Tensor x = base.permute({3, 2, 1, 0});  // [4, 3, 5, 6], not contiguous
  const Tensor w = parity_values({3}, DType::F32, 22, 0.5, 1.5), b = parity_values({3}, DType::F32, 23);
  const Tensor rm = zeros({3}), rv = ones({3});
  const Tensor up = parity_values({4, 3, 5, 6}, DType::F32, 24);
  const BnRun cpu = run_on(Device::cpu(), true, x, w, b, rm, rv, true, up);
  const Tensor x_gpu = base.to(Device::cuda()).permute({3, 2, 1, 0});  // the same non-contiguous layout
  const BnRun gpu = run_on(Device::cuda(), true, x_gpu, w, b, rm, rv, true, up);
  expect_same(cpu, gpu, tol_for(DType::F32), "permuted");
  const BnRun gpu_unfused = run_on(Device::cuda(), false, x_gpu, w, b, rm, rv, true, up);
  expect_same(gpu, gpu_unfused, tol_for(DType::F32), "fused vs unfused on the GPU");
}

// ---- errors: the front end's checks run before any kernel, on any device ----

TEST(CudaBatchNormReluErrors, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {
  std::vector<float> host(2 * 3 * 4, 0.0f), wbuf(4, 1.0f);
  const Tensor x = from_blob(host.data(), {2, 3, 4}, DType::F32, {}, Device::cuda());
  const Tensor w = from_blob(wbuf.data(), {4}, DType::F32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(batch_norm_relu(x, Tensor(), Tensor(), w, Tensor(), {.training = true}), ShapeError,
                      {"batch_norm_relu:", "weight has 4 elements", "3 channels"});
  EXPECT_STRATA_ERROR(batch_norm_relu(x, Tensor(), Tensor()), ValueError,
                      {"batch_norm_relu:", "running_mean and running_var must be defined"});
}

}  // namespace
}  // namespace strata
