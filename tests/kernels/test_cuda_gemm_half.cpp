// Native f16/bf16 GEMM on CUDA (kernels/cuda/gemm.cu: cublasGemmEx / GemmStridedBatchedEx with
// f32 accumulation) and the TF32 switch for f32 (strata::cuda::set_allow_tf32). Through the
// public ops on CUDA tensors: matmul (plain, transposed operands, broadcast batches), bmm, addmm,
// linear, and the gradients of matmul. Skips itself, with the reason, when no CUDA device is
// usable; the flag's round trip and the bad calls need no GPU.
//
// References and tolerances (why):
//   f16/bf16: the CPU result, which is the f32 product of the same half values rounded to the
//     half dtype. Both accumulate in f32, in different orders (and cuBLAS may split k), so an
//     element may round the other way: rtol 2e-3 (f16, 2^-10 ulp) / 1.6e-2 (bf16, 2^-7), with
//     atol = rtol * sqrt(k) * 2 for sums that cancel (operands in [-2, 2]).
//   f32 with TF32 off: cuBLAS Sgemm against the CPU GEMM, rtol/atol 1e-4.
//   f32 with TF32 on: operands rounded to 10 mantissa bits: ||gpu - cpu|| / ||cpu|| <= 1e-2, and
//     (to show the flag takes effect) > 1e-5 for k = 1024, where f32 lands near 1e-7.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"
#ifdef STRATA_WITH_CUDA
#include "kernels/cuda/cuda_api.h"
#endif

namespace strata {
namespace {

using testing::all_close;
using testing::parity_values;
using testing::Tol;

Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda()); }

Tol half_tol(DType dt, int64_t k) {
  const double r = dt == DType::F16 ? 2e-3 : 1.6e-2;
  return {r, r * std::sqrt(static_cast<double>(k)) * 2.0};
}

// ||a - b|| / ||a||, b on any device.
double relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to(DType::F64).contiguous().to_vector<double>();
  const std::vector<double> y = b.cpu().to(DType::F64).contiguous().to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * (x[i] - y[i]);
    den += x[i] * x[i];
  }
  return std::sqrt(num / den);
}

#ifdef STRATA_WITH_CUDA
// Sets the TF32 flag for a scope and restores the previous value.
class Tf32Scope {
 public:
  explicit Tf32Scope(bool on) : previous_(cuda::allow_tf32()) { cuda::set_allow_tf32(on); }
  ~Tf32Scope() { cuda::set_allow_tf32(previous_); }

 private:
  bool previous_;
};

TEST(CudaGemmHalf, Tf32FlagDefaultsToOffAndRoundTrips) {  // no GPU needed
  EXPECT_FALSE(cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  EXPECT_TRUE(cuda::allow_tf32());
  cuda::set_allow_tf32(false);
  EXPECT_FALSE(cuda::allow_tf32());
  {
    Tf32Scope on(true);
    EXPECT_TRUE(cuda::allow_tf32());
  }
  EXPECT_FALSE(cuda::allow_tf32());
}
#endif

TEST(CudaGemmHalf, MatmulKeepsTheHalfDtypeAndMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F16, DType::BF16}) {
    struct Case {
      std::string name;
      Tensor a, b;  // CPU operands; the CUDA ones are made the same way from the same bases
      Tensor ga, gb;
      int64_t k;
    };
    std::vector<Case> cases;
    const Tensor a = parity_values({37, 65}, dt, 1), b = parity_values({65, 29}, dt, 2);
    cases.push_back({"plain", a, b, on_gpu(a), on_gpu(b), 65});
    const Tensor at = parity_values({65, 37}, dt, 3), bt = parity_values({29, 65}, dt, 4);
    cases.push_back({"transposed operands", at.t(), bt.t(), on_gpu(at).t(), on_gpu(bt).t(), 65});
    const Tensor a4 = parity_values({3, 1, 17, 40}, dt, 5), b4 = parity_values({4, 40, 23}, dt, 6);
    cases.push_back({"broadcast batch", a4, b4, on_gpu(a4), on_gpu(b4), 40});
    const Tensor big_a = parity_values({128, 300}, dt, 7), big_b = parity_values({300, 96}, dt, 8);
    cases.push_back({"k = 300", big_a, big_b, on_gpu(big_a), on_gpu(big_b), 300});
    const Tensor strided = parity_values({6, 33}, dt, 9);
    cases.push_back({"stepped slice", strided.slice(1, 0, 33, 2), parity_values({17, 5}, dt, 10),
                     on_gpu(strided).slice(1, 0, 33, 2), on_gpu(parity_values({17, 5}, dt, 10)), 17});
    for (const Case& c : cases) {
      const Tensor ref = matmul(c.a, c.b);
      const Tensor got = matmul(c.ga, c.gb);
      ASSERT_EQ(got.dtype(), dt) << c.name;
      EXPECT_TRUE(all_close(ref, got, half_tol(dt, c.k), fmt::format("{} matmul {}", dt, c.name)));
    }
  }
}

TEST(CudaGemmHalf, BmmAddmmAndLinearMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F16, DType::BF16}) {
    const Tensor a = parity_values({5, 19, 48}, dt, 11), b = parity_values({5, 48, 27}, dt, 12);
    EXPECT_TRUE(all_close(bmm(a, b), bmm(on_gpu(a), on_gpu(b)), half_tol(dt, 48), fmt::format("{} bmm", dt)));
    const Tensor c = parity_values({27}, dt, 13);
    const Tensor m1 = parity_values({19, 48}, dt, 14), m2 = parity_values({48, 27}, dt, 15);
    EXPECT_TRUE(all_close(addmm(c, m1, m2, 0.5, 2.0), addmm(on_gpu(c), on_gpu(m1), on_gpu(m2), 0.5, 2.0),
                          half_tol(dt, 48 * 4), fmt::format("{} addmm", dt)));
    const Tensor x = parity_values({2, 7, 48}, dt, 16), w = parity_values({27, 48}, dt, 17);
    EXPECT_TRUE(all_close(linear(x, w, c), linear(on_gpu(x), on_gpu(w), on_gpu(c)), half_tol(dt, 48),
                          fmt::format("{} linear", dt)));
  }
}

TEST(CudaGemmHalf, MatmulGradientsMatchTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F16, DType::BF16}) {
    const Tensor a = parity_values({4, 21, 36}, dt, 21), b = parity_values({36, 15}, dt, 22);
    const Tensor w = parity_values({4, 21, 15}, dt, 23);
    auto grads = [&](const Tensor& x, const Tensor& y, const Tensor& weight) {
      Tensor xi = x.detach().requires_grad_(), yi = y.detach().requires_grad_();
      sum(matmul(xi, yi) * weight).backward();
      return std::pair{xi.grad(), yi.grad()};
    };
    const auto [ra, rb] = grads(a, b, w);
    const auto [ga, gb] = grads(on_gpu(a), on_gpu(b), on_gpu(w));
    EXPECT_EQ(ga.dtype(), dt);
    EXPECT_TRUE(all_close(ra, ga, half_tol(dt, 15), fmt::format("{} grad a", dt)));
    EXPECT_TRUE(all_close(rb, gb, half_tol(dt, 4 * 21), fmt::format("{} grad b", dt)));
  }
}

#ifdef STRATA_WITH_CUDA
TEST(CudaGemmHalf, Tf32OnlyWhenAllowed) {
  SKIP_WITHOUT_CUDA();
  const Tensor a = parity_values({256, 1024}, DType::F32, 31), b = parity_values({1024, 192}, DType::F32, 32);
  const Tensor ref = matmul(a, b);
  {
    Tf32Scope off(false);
    const Tensor got = matmul(on_gpu(a), on_gpu(b));
    EXPECT_TRUE(all_close(ref, got, {1e-4, 1e-4}, "f32 without TF32"));
    EXPECT_LT(relative_error(ref, got), 1e-5);
  }
  {
    Tf32Scope on(true);
    const Tensor got = matmul(on_gpu(a), on_gpu(b));
    const double err = relative_error(ref, got);
    EXPECT_LE(err, 1e-2) << "TF32 error";
    EXPECT_GT(err, 1e-5) << "TF32 allowed but the product looks like plain f32: the flag did not reach cuBLAS";
    // Batched (strided) products take the flag too.
    const Tensor a3 = parity_values({3, 64, 512}, DType::F32, 33), b3 = parity_values({3, 512, 48}, DType::F32, 34);
    EXPECT_LE(relative_error(bmm(a3, b3), bmm(on_gpu(a3), on_gpu(b3))), 1e-2) << "TF32 bmm";
  }
}
#endif

// Tensors that claim to live on cuda:0 (from_blob; never dereferenced): the front end's checks
// come first, so bad half products throw the CPU's errors.
TEST(CudaGemmHalf, BadCallsOnCudaTensorsThrowTheFrontEndsErrors) {  // no GPU needed
  std::vector<float> host(1024, 0.0f);
  auto fake = [&](const Shape& s, DType dt) { return from_blob(host.data(), s, dt, {}, Device::cuda(0)); };
  EXPECT_STRATA_ERROR(mm(fake({2, 3}, DType::F16), fake({4, 5}, DType::F16)), ShapeError, {"mm:", "[2, 3]", "[4, 5]"});
  EXPECT_STRATA_ERROR(matmul(fake({2, 3}, DType::BF16), fake({3, 5}, DType::F16)), DTypeError,
                      {"matmul:", "bf16", "f16"});
  EXPECT_STRATA_ERROR(bmm(fake({2, 3, 4}, DType::F16), fake({3, 4, 5}, DType::F16)), ShapeError, {"bmm:", "batch"});
}

}  // namespace
}  // namespace strata
