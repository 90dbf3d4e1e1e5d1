// The CUDA random and dropout kernels (kernels/cuda/random.cu), in two parts:
//
//   - Host runs of the CUDA kernels' per-block loop (one Philox block = four elements, through
//     kernels/random_functors.h), which run everywhere: they must equal the CPU kernels bit for
//     bit, in every floating dtype, every distribution, and for the dropout mask (the CPU dropout
//     kernel computes its Philox blocks eight at a time in its own layout, so this also checks that
//     both layouts give the same counter stream).
//   - The cross-device requirement on a GPU (skipped without one): with the same
//     generator seed, rand, bernoulli, randint, uniform_ and the dropout masks are identical
//     element for element on CPU and CUDA; randn agrees to f32 rounding (f32: rtol 1e-6 / atol
//     1e-7, a one-ulp difference after libdevice's and glibc's log / cos / sin differ in the last
//     f64 bit; f64: rtol 1e-13 / atol 1e-13).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda_table.h"
#include "kernels/dropout.h"
#include "kernels/philox.h"
#include "kernels/random.h"
#include "kernels/random_functors.h"
#include "strata.h"
#include "support/cuda_parity.h"
#include "support/expect_error.h"

namespace strata {
namespace {

using kernels::Distribution;
using testing::all_close;

const std::vector<DType> kFloating = {DType::F32, DType::F64, DType::BF16, DType::F16};

// What random_kernel computes, run on the host.
Tensor gpu_loop_random(const Shape& shape, DType dt, Distribution dist, double a, double b, uint64_t seed,
                       uint64_t offset, const Tensor& p) {
  Tensor out = empty(shape, {.dtype = dt});
  const int64_t n = out.numel();
  const auto blocks = static_cast<int64_t>(kernels::philox_blocks(n));
  visit_floating(dt, "test", [&]<class T>() {
    const kernels::DrawStore<T> store = kernels::make_draw_store<T>(dist, a, b);
    T* o = out.data<T>();
    const T* pp = p.defined() ? p.data<T>() : nullptr;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      double v[4];
      kernels::philox_values(dist, kernels::philox4x32(offset + static_cast<uint64_t>(blk), 0, seed),
                             kernels::uniform_bits<T>(), a, b, v);
      for (int k = 0; k < 4; ++k) {
        const int64_t i = blk * 4 + k;
        if (i >= n) break;
        const double prob = pp ? static_cast<double>(static_cast<compute_t<T>>(pp[i])) : 0.0;
        o[i] = kernels::store_draw(store, v[k], prob);
      }
    }
  });
  return out;
}

TEST(CudaRandomBodies, ThePerBlockLoopEqualsTheCpuKernelForEveryDistributionAndDtype) {
  struct Case {
    Distribution dist;
    double a, b;
  };
  const std::vector<Case> cases = {{Distribution::Uniform, 0.0, 1.0},   {Distribution::Uniform, -3.0, 5.5},
                                   {Distribution::Uniform, 0.999, 1.0}, {Distribution::Normal, 0.0, 1.0},
                                   {Distribution::Normal, 2.0, 0.25},   {Distribution::Bernoulli, 0, 0}};
  const Shape shape{7, 39};  // 273 elements: the last block is partial
  for (DType dt : kFloating)
    for (const Case& c : cases) {
      const Tensor p = c.dist == Distribution::Bernoulli ? testing::parity_values(shape, dt, 5, 0.0, 1.0) : Tensor();
      Tensor want = empty(shape, {.dtype = dt});
      kernels::cpu::random_fill(want, c.dist, c.a, c.b, 1234, 77, p);
      const Tensor got = gpu_loop_random(shape, dt, c.dist, c.a, c.b, 1234, 77, p);
      const std::string what = fmt::format("dist {} [{}, {}] {}", static_cast<int>(c.dist), c.a, c.b, dt);
      EXPECT_TRUE(all_close(want, got, {0, 0}, what));
    }
}

TEST(CudaRandomBodies, UniformDrawsStayBelowHighInNarrowTypes) {
  // [0.999, 1) in bf16 holds no value: every draw rounds to 1 and must be put below it.
  const Tensor got = gpu_loop_random({64}, DType::BF16, Distribution::Uniform, 0.999, 1.0, 3, 0, Tensor());
  for (double v : got.to(DType::F64).to_vector<double>()) EXPECT_LT(v, 1.0);
}

TEST(CudaRandomBodies, TheDropoutPerBlockLoopEqualsTheCpuKernelsGroupedPhilox) {
  for (DType dt : kFloating)
    for (double p : {0.1, 0.5, 0.875})
      for (bool with_x : {true, false}) {
        const Shape shape{5, 27};  // 135 elements: not a multiple of 4 or of the CPU's 8-block groups
        const Tensor x = with_x ? testing::parity_values(shape, dt, 8) : Tensor();
        Tensor want = empty(shape, {.dtype = dt});
        kernels::cpu::dropout_fill(want, x, p, 99, 1001);
        Tensor got = empty(shape, {.dtype = dt});
        visit_floating(dt, "test", [&]<class T>() {
          using C = compute_t<T>;
          const kernels::DropoutFn<T> fn = kernels::make_dropout_fn<T>(p);
          const int64_t n = got.numel();
          for (int64_t blk = 0; blk < static_cast<int64_t>(kernels::philox_blocks(n)); ++blk) {
            const kernels::Philox4 r = kernels::philox4x32(1001 + static_cast<uint64_t>(blk), 0, 99);
            for (int k = 0; k < 4; ++k) {
              const int64_t i = blk * 4 + k;
              if (i < n) got.data<T>()[i] = fn(r.v[k], with_x ? static_cast<C>(x.data<T>()[i]) : C(1));
            }
          }
        });
        EXPECT_TRUE(all_close(want, got, {0, 0}, fmt::format("dropout p={} x={} {}", p, with_x, dt)));
      }
}

#ifdef STRATA_WITH_CUDA
TEST(CudaRandom, RandomAndDropoutKernelsAreRegisteredInCudaBuilds) {  // no GPU needed
  EXPECT_NE(kernels::cuda_table().random_fill, nullptr);
  EXPECT_NE(kernels::cuda_table().dropout_fill, nullptr);
}
#endif

TEST(CudaRandom, BadCallsForCudaThrowTheFrontEndsErrors) {  // no GPU needed
  std::vector<float> host(16, 0.5f);
  const Tensor fake = from_blob(host.data(), {4, 4}, DType::F32, {}, Device::cuda());
  std::vector<int32_t> ints(4, 0);
  const Tensor fake_int = from_blob(ints.data(), {4}, DType::I32, {}, Device::cuda());
  EXPECT_STRATA_ERROR(rand({2, 3}, {.dtype = DType::I64, .device = Device::cuda()}), DTypeError, {"rand:", "i64"});
  EXPECT_STRATA_ERROR(randint(5, 5, {3}, {.device = Device::cuda()}), ValueError, {"randint:", "greater"});
  EXPECT_STRATA_ERROR(bernoulli(fake_int), DTypeError, {"bernoulli:"});
  EXPECT_STRATA_ERROR(dropout(fake, 1.5), ValueError, {"dropout:", "1.5"});
}

// ---- across devices (needs a GPU) ---------------------------------------------------------------

// fn(gen) on each device with a fresh generator of the same seed, twice in a row (so the second
// draw also starts from the same advanced offset).
template <class Fn>
void expect_same_draws(Fn fn, testing::Tol tol, const std::string& what) {
  Generator gc(4242), gg(4242);
  for (int round = 0; round < 2; ++round) {
    const Tensor c = fn(Device::cpu(), &gc), g = fn(Device::cuda(), &gg);
    ASSERT_TRUE(g.device().is_cuda()) << what;
    EXPECT_TRUE(all_close(c, g, tol, fmt::format("{} draw {}", what, round)));
  }
  EXPECT_EQ(gc.offset(), gg.offset()) << what;
}

TEST(CudaRandom, RandIsIdenticalOnBothDevicesForTheSameSeed) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kFloating)
    expect_same_draws([&](Device dev, Generator* gen) { return rand({37, 65}, {.dtype = dt, .device = dev}, gen); },
                      {0, 0}, fmt::format("rand {}", dt));
}

TEST(CudaRandom, RandnAgreesToRounding) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : kFloating) {
    testing::Tol tol = dt == DType::F64 ? testing::Tol{1e-13, 1e-13}
                       : dt == DType::F32 ? testing::Tol{1e-6, 1e-7}
                                          : testing::parity_tol(dt);
    expect_same_draws([&](Device dev, Generator* gen) { return randn({37, 65}, {.dtype = dt, .device = dev}, gen); },
                      tol, fmt::format("randn {}", dt));
  }
}

TEST(CudaRandom, BernoulliRandintAndInPlaceFillsAreIdentical) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tensor p = testing::parity_values({13, 21}, dt, 6, 0.0, 1.0);
    expect_same_draws([&](Device dev, Generator* gen) { return bernoulli(p.to(dev), gen); }, {0, 0},
                      fmt::format("bernoulli {}", dt));
  }
  for (DType dt : {DType::I64, DType::I32})
    expect_same_draws(
        [&](Device dev, Generator* gen) { return randint(-7, 300, {11, 17}, {.dtype = dt, .device = dev}, gen); },
        {0, 0}, fmt::format("randint {}", dt));
  // uniform_ / normal_ into a transposed view (drawn contiguous, then copied).
  expect_same_draws(
      [&](Device dev, Generator* gen) {
        Tensor t = zeros({9, 14}, {.device = dev}).t();
        uniform_(t, -2.0, 3.0, gen);
        return t;
      },
      {0, 0}, "uniform_ transposed");
  expect_same_draws(
      [&](Device dev, Generator* gen) {
        Tensor t = zeros({9, 14}, {.device = dev}).t();
        normal_(t, 1.0, 0.5, gen);
        return t;
      },
      {1e-6, 1e-7}, "normal_ transposed");
}

TEST(CudaRandom, DropoutMasksAreEqualElementForElementAcrossDevices) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16, DType::F64})
    for (double p : {0.1, 0.5, 0.9}) {
      const std::string what = fmt::format("dropout p={} {}", p, dt);
      const Tensor x = testing::parity_values({33, 31}, dt, 12);  // 1023 elements
      Generator gc(77), gg(77);
      Tensor xc = x.clone().requires_grad_(true), xg = x.to(Device::cuda()).requires_grad_(true);
      const Tensor yc = dropout(xc, p, true, &gc), yg = dropout(xg, p, true, &gg);
      EXPECT_TRUE(all_close(yc, yg, {0, 0}, what + " values"));
      EXPECT_TRUE(all_close(ne(yc, 0.0), ne(yg, 0.0), {0, 0}, what + " mask"));
      sum(yc).backward();
      sum(yg).backward();
      EXPECT_TRUE(all_close(xc.grad(), xg.grad(), {0, 0}, what + " gradient"));
      // dropout_mask and dropout2d draw from the same stream.
      EXPECT_TRUE(all_close(dropout_mask(x, {33, 1}, p, &gc), dropout_mask(x.to(Device::cuda()), {33, 1}, p, &gg),
                            {0, 0}, what + " dropout_mask"));
      const Tensor img = testing::parity_values({4, 6, 3, 5}, dt, 13);
      EXPECT_TRUE(all_close(dropout2d(img, p, true, &gc), dropout2d(img.to(Device::cuda()), p, true, &gg), {0, 0},
                            what + " dropout2d"));
    }
}

TEST(CudaRandom, DropoutWithTheDefaultGeneratorIsReproducibleAcrossDevices) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = testing::parity_values({257}, DType::F32, 14);
  manual_seed(31337);
  const Tensor c = dropout(x, 0.3);
  manual_seed(31337);
  const Tensor g = dropout(x.to(Device::cuda()), 0.3);
  EXPECT_TRUE(all_close(c, g, {0, 0}, "default generator"));
}

}  // namespace
}  // namespace strata
