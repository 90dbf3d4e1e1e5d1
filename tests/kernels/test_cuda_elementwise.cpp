// CPU/CUDA parity of the elementwise kernels (kernels/cuda/elementwise_*.cu, copy.cu): every op of
// unary.def, unary_param.def, binary.def, compare.def and unary_backward.def, plus where and lerp,
// run through the kernel entry points on both devices with the same inputs (contiguous, broadcast
// with stride-0 dims, transposed and stepped slices, odd sizes so the vectorized kernel's tail
// runs) in f32 and bf16, and compared with stated tolerances. Each test skips itself with the
// reason when no CUDA device is usable (always so on machines without a GPU, e.g. CI).
//
// Tolerances: f32 rtol 2e-5 / atol 1e-6 (the GPU's libm and the CPU's exp_f32 differ by a few
// ulp); bf16 rtol 1e-2 / atol 1e-2 (both compute in f32 and round to bf16: a few-ulp f32
// difference can flip one bf16 rounding, 2^-8 relative). Comparisons and integers must be exact.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "strata.h"
#include "tensor/device_detail.h"
#include "support/cuda_parity.h"

namespace strata {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

using testing::all_close;
using Tol = testing::Tol;
Tol tol_for(DType dt) { return dt == DType::F64 ? Tol{0, 0} : testing::parity_tol(dt); }
Tensor values(const Shape& shape, DType dt, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  return testing::parity_values(shape, dt, seed, lo, hi);
}
using Layout = testing::ParityLayout;
std::vector<Layout> layouts(DType dt, uint64_t seed) { return testing::parity_layouts(dt, seed); }

struct UnaryCase {
  UnaryOp op;
  const char* name;
  double p0, p1;
};
std::vector<UnaryCase> unary_cases() {
  std::vector<UnaryCase> v;
#define UNARY(name, F, diff) v.push_back({UnaryOp::name, #name, 0, 0});
#include "kernels/defs/unary.def"
#undef UNARY
  v.push_back({UnaryOp::leaky_relu, "leaky_relu", 0.1, 0});
  v.push_back({UnaryOp::clamp, "clamp", -0.5, 0.75});
  v.push_back({UnaryOp::clamp, "clamp_min_only", -0.5, std::nan("")});
  v.push_back({UnaryOp::pow_scalar, "pow_scalar", 2.5, 0});
  v.push_back({UnaryOp::rpow_scalar, "rpow_scalar", 1.7, 0});
  v.push_back({UnaryOp::add_scalar, "add_scalar", 1.5, 0});
  v.push_back({UnaryOp::mul_scalar, "mul_scalar", -3.0, 0});
  return v;
}

TEST(CudaElementwise, EveryUnaryOpMatchesTheCpuOnEveryLayoutInF32AndBf16) {
  SKIP_WITHOUT_CUDA();
  int checked = 0;
  for (DType dt : {DType::F32, DType::BF16}) {
    for (const Layout& l : layouts(dt, 10)) {
      for (const UnaryCase& c : unary_cases()) {
        Tensor ref = empty(l.cpu.shape(), {.dtype = dt});
        kernels::unary(c.op, l.cpu, ref, c.p0, c.p1);
        Tensor got = empty(l.cuda.shape(), {.dtype = dt, .device = Device::cuda()});
        kernels::unary(c.op, l.cuda, got, c.p0, c.p1);
        EXPECT_TRUE(all_close(ref, got, tol_for(dt), fmt::format("{} {} {}", c.name, dt, l.name)));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * 4 * static_cast<int>(unary_cases().size()));
}

TEST(CudaElementwise, IntegerUnaryOpsMatchTheCpuExactly) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::I64, DType::I32, DType::U8}) {
    const Tensor x = values({5, 41}, DType::F32, 3, dt == DType::U8 ? 0.0 : -50.0, 50.0).to(dt);
    for (UnaryOp op : {UnaryOp::neg, UnaryOp::abs, UnaryOp::square, UnaryOp::sign, UnaryOp::relu, UnaryOp::clamp,
                       UnaryOp::add_scalar, UnaryOp::mul_scalar}) {
      Tensor ref = empty(x.shape(), {.dtype = dt});
      kernels::unary(op, x, ref, -7, 9);
      Tensor got = empty(x.shape(), {.dtype = dt, .device = Device::cuda()});
      kernels::unary(op, x.to(Device::cuda()), got, -7, 9);
      EXPECT_TRUE(all_close(ref, got, {0, 0}, fmt::format("op {} {}", static_cast<int>(op), dt)));
    }
  }
}

struct BinaryCase {
  BinaryOp op;
  const char* name;
  bool compare;
};
std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> v;
#define BINARY(name, F, diff) v.push_back({BinaryOp::name, #name, false});
#include "kernels/defs/binary.def"
#undef BINARY
#define COMPARE(name, F) v.push_back({BinaryOp::name, #name, true});
#include "kernels/defs/compare.def"
#undef COMPARE
  return v;
}

// (name, a, b) pairs on the CPU, both of the output shape [23, 70]; b may be a broadcast view.
struct BinaryLayout {
  std::string name;
  Tensor a, b;
  Tensor a_cuda, b_cuda;
};
std::vector<BinaryLayout> binary_layouts(DType dt) {
  const Shape s{23, 70};
  std::vector<BinaryLayout> v;
  auto add = [&](std::string name, Tensor a, Tensor b, auto&& view_a, auto&& view_b) {
    v.push_back({std::move(name), view_a(a), view_b(b), view_a(a.to(Device::cuda())), view_b(b.to(Device::cuda()))});
  };
  auto same = [](const Tensor& t) { return t; };
  auto row = [&](const Tensor& t) { return t.expand(s); };             // [70] -> [23, 70], stride 0
  auto col = [&](const Tensor& t) { return t.expand(s); };             // [23, 1] -> [23, 70]
  auto tr = [](const Tensor& t) { return t.t(); };                     // [70, 23] -> [23, 70]
  // Values with ties, so that eq/le/ge and maximum/minimum see equal pairs.
  auto ties = [&](const Shape& shape, uint64_t seed) { return round(values(shape, DType::F32, seed) * 4.0).to(dt); };
  add("contiguous", ties(s, 1), ties(s, 2), same, same);
  add("broadcast_row", ties(s, 3), ties({70}, 4), same, row);
  add("broadcast_col", ties({23, 1}, 5), ties(s, 6), col, same);
  add("scalar", ties(s, 7), ties({1, 1}, 8), same, row);
  add("transposed", ties({70, 23}, 9), ties(s, 10), tr, same);
  return v;
}

TEST(CudaElementwise, EveryBinaryAndCompareOpMatchesTheCpuIncludingBroadcasts) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16}) {
    for (const BinaryLayout& l : binary_layouts(dt)) {
      for (const BinaryCase& c : binary_cases()) {
        const DType out_dt = c.compare ? DType::Bool : dt;
        Tensor ref = empty({23, 70}, {.dtype = out_dt});
        kernels::binary(c.op, l.a, l.b, ref);
        Tensor got = empty({23, 70}, {.dtype = out_dt, .device = Device::cuda()});
        kernels::binary(c.op, l.a_cuda, l.b_cuda, got);
        EXPECT_TRUE(all_close(ref, got, tol_for(out_dt), fmt::format("{} {} {}", c.name, dt, l.name)));
      }
    }
  }
}

TEST(CudaElementwise, IntegerAndBoolBinaryOpsMatchTheCpuExactly) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::I64, DType::I32, DType::U8}) {
    const Tensor a = values({9, 33}, DType::F32, 11, 0.0, 9.0).to(dt);
    const Tensor b = values({9, 33}, DType::F32, 12, 1.0, 5.0).to(dt);
    for (const BinaryCase& c : binary_cases()) {
      if (c.op == BinaryOp::div) continue;  // integer division never reaches a kernel (true division)
      const DType out_dt = c.compare ? DType::Bool : dt;
      Tensor ref = empty(a.shape(), {.dtype = out_dt});
      kernels::binary(c.op, a, b, ref);
      Tensor got = empty(a.shape(), {.dtype = out_dt, .device = Device::cuda()});
      kernels::binary(c.op, a.to(Device::cuda()), b.to(Device::cuda()), got);
      EXPECT_TRUE(all_close(ref, got, {0, 0}, fmt::format("{} {}", c.name, dt)));
    }
  }
  const Tensor p = values({100}, DType::F32, 13) > 0.0;
  const Tensor q = values({100}, DType::F32, 14) > 0.0;
  for (BinaryOp op : {BinaryOp::logical_and, BinaryOp::logical_or, BinaryOp::logical_xor, BinaryOp::eq}) {
    Tensor ref = empty({100}, {.dtype = DType::Bool});
    kernels::binary(op, p, q, ref);
    Tensor got = empty({100}, {.dtype = DType::Bool, .device = Device::cuda()});
    kernels::binary(op, p.to(Device::cuda()), q.to(Device::cuda()), got);
    EXPECT_TRUE(all_close(ref, got, {0, 0}, "bool op"));
  }
}

TEST(CudaElementwise, EveryFusedUnaryBackwardMatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tensor g = values({31, 67}, dt, 21);
    const Tensor v = values({31, 67}, dt, 22, 0.1, 2.0);  // positive: sqrt/rsqrt backward read outputs
#define UNARY_BACKWARD(name, F, reads)                                                               \
  {                                                                                                  \
    const double p0 = UnaryOp::name == UnaryOp::clamp ? -0.5 : 1.5, p1 = 1.0;                       \
    Tensor ref = empty(g.shape(), {.dtype = dt});                                                    \
    kernels::unary_backward(UnaryOp::name, g, v, ref, p0, p1);                                       \
    Tensor got = empty(g.shape(), {.dtype = dt, .device = Device::cuda()});                          \
    kernels::unary_backward(UnaryOp::name, g.to(Device::cuda()), v.to(Device::cuda()).t().contiguous().t().contiguous(), got, p0, p1); \
    EXPECT_TRUE(all_close(ref, got, tol_for(dt), fmt::format("{}_backward {}", #name, dt)));         \
  }
#include "kernels/defs/unary_backward.def"
#undef UNARY_BACKWARD
  }
  EXPECT_TRUE(kernels::has_unary_backward(UnaryOp::tanh, Device::cuda()));
}

TEST(CudaElementwise, WhereAndLerpMatchTheCpuWithBroadcastOperands) {
  SKIP_WITHOUT_CUDA();
  const Shape s{19, 45};
  for (DType dt : {DType::F32, DType::BF16, DType::I64, DType::Bool}) {
    const Tensor cond = (values({45}, DType::F32, 31) > 0.0).expand(s);
    const Tensor a = values(s, DType::F32, 32, -5, 5).to(dt);
    const Tensor b = values({19, 1}, DType::F32, 33, -5, 5).to(dt).expand(s);
    Tensor ref = empty(s, {.dtype = dt});
    kernels::where(cond, a, b, ref);
    Tensor got = empty(s, {.dtype = dt, .device = Device::cuda()});
    kernels::where((values({45}, DType::F32, 31) > 0.0).to(Device::cuda()).expand(s), a.to(Device::cuda()),
                   values({19, 1}, DType::F32, 33, -5, 5).to(dt).to(Device::cuda()).expand(s), got);
    EXPECT_TRUE(all_close(ref, got, {0, 0}, fmt::format("where {}", dt)));
  }
  for (DType dt : {DType::F32, DType::BF16}) {
    const Tensor a = values(s, dt, 34), b = values(s, dt, 35), w = values(s, dt, 36, 0.0, 1.0);
    Tensor ref = empty(s, {.dtype = dt});
    kernels::lerp(a, b, w, ref);
    Tensor got = empty(s, {.dtype = dt, .device = Device::cuda()});
    kernels::lerp(a.to(Device::cuda()), b.to(Device::cuda()), w.to(Device::cuda()).t().contiguous().t(), got);
    EXPECT_TRUE(all_close(ref, got, tol_for(dt), fmt::format("lerp {}", dt)));
  }
}

TEST(CudaElementwise, PublicOpsRunOnCudaTensorsEndToEnd) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = values({4, 300}, DType::F32, 41);
  const Tensor b = values({300}, DType::F32, 42);
  const Tensor ref = clamp_min(sigmoid(x * 2.0 + b), 0.3);
  const Tensor xc = x.to(Device::cuda()), bc = b.to(Device::cuda());
  const Tensor got = clamp_min(sigmoid(xc * 2.0 + bc), 0.3);
  EXPECT_EQ(got.device(), Device::cuda());
  EXPECT_TRUE(all_close(ref, got, tol_for(DType::F32), "sigmoid(x * 2 + b).clamp_min"));
  const Tensor m = xc > bc;
  EXPECT_EQ(m.dtype(), DType::Bool);
  EXPECT_TRUE(all_close(x > b, m, {0, 0}, "x > b"));
}

TEST(CudaElementwise, EmptyTensorsLaunchNothing) {
  SKIP_WITHOUT_CUDA();
  const Tensor x = empty({0, 5}, {.device = Device::cuda()});
  Tensor out = empty({0, 5}, {.device = Device::cuda()});
  kernels::unary(UnaryOp::exp, x, out);
  kernels::binary(BinaryOp::add, x, x, out);
  EXPECT_EQ(out.to(Device::cpu()).numel(), 0);
}

}  // namespace
}  // namespace strata
