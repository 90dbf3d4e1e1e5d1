// CPU/CUDA parity over the whole op list (kernels/ops.def), with the samples that
// tests/autograd/test_op_list.cpp gradchecks (tests/support/samples_*.cpp). For every op and
// sample: the CPU result is the reference; the same inputs are copied to CUDA twice, once
// contiguous, once strided (each input of rank >= 2 stored with its last two dims swapped and
// viewed back, rank 1 as every other element of a buffer twice as long, so every kernel's strided
// path runs) and once misaligned (contiguous, one element into its buffer, so vectorized kernels
// take their unaligned fallback); the broadcast layouts come from the samples' own broadcast
// cases (stride-0 operands of the elementwise ops, where, lerp, losses, matmul batches, expand,
// masked_select). The sample runs on each copy and its output must be a CUDA tensor matching the CPU's. For differentiable ops the
// same upstream gradient then flows back on both devices and every input gradient must match. All
// of it in f32, and in bf16 where the CPU op accepts bf16 (where it does not, the CUDA op must
// refuse it too). Random ops draw from the same seed on both devices (Philox counters: the same
// values), and their large-sample statistics are checked separately.
//
// Tolerances, relative to scale = max(1, max |cpu reference|) of the compared tensor:
//   f32:  |cpu - cuda| <= 1e-4 |cpu| + 1e-5 scale  (libm differences of a few ulp; reductions and
//         GEMMs summing in another order: a cancellation leaves an error relative to the terms
//         summed, not to the result, hence the scale)
//   bf16: |cpu - cuda| <= 2e-2 |cpu| + 2e-2 scale  (both compute in f32 and round each op's result
//         to bf16: a few-ulp f32 difference flips one rounding, 2^-8 relative, and composite
//         samples round several times)
//   integer and bool results: exactly.
// Every parity test skips itself with the reason ("no CUDA device: ...") when no CUDA device is
// usable, as on machines without a GPU (CI). The harness itself is checked without a GPU: the same
// code with the CPU as the "device" must find the strided copies equal to the contiguous ones.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "support/cuda_parity.h"
#include "support/op_samples.h"

namespace strata::testing {
namespace {

struct DeclaredOp {
  const char* name;
  int arity;
  bool differentiable;
};

const std::vector<DeclaredOp>& declared_ops() {
  static const std::vector<DeclaredOp> ops = {
#define X(name, arity, diff) {#name, arity, diff},
#include "kernels/ops.def"
#undef X
  };
  return ops;
}

// gtest prints the op's name where a test names its parameter.
void PrintTo(const DeclaredOp& op, std::ostream* os) { *os << op.name; }

std::string op_test_name(const ::testing::TestParamInfo<DeclaredOp>& info) { return info.param.name; }

bool is_random_op(const std::string& op) { return op.rfind("rand", 0) == 0 || op == "bernoulli"; }

// Ops whose samples need contiguous inputs by definition (view never copies), so they get no
// strided copy.
bool needs_contiguous_inputs(const std::string& op) { return op == "view"; }

std::vector<const OpSample*> samples_for(const std::string& op) {
  std::vector<const OpSample*> out;
  for (const auto& s : all_op_samples())
    if (s.op == op) out.push_back(&s);
  return out;
}

// ---- layouts ----

enum class Layout { Contiguous, Strided, Misaligned };
const char* layout_name(Layout l) {
  return l == Layout::Contiguous ? "contiguous" : l == Layout::Strided ? "strided" : "misaligned";
}

// `t`'s values on `device` in `layout`: a fresh leaf (requiring grad when `t` does) whose storage
// is its own, so gradients accumulate on it and not on the CPU input.
Tensor copy_to(const Tensor& t, Device device, Layout layout) {
  if (!t.defined()) return t;
  const Tensor base = t.detach();
  Tensor out;
  if (layout == Layout::Strided && base.dim() >= 2 && base.numel() > 0) {
    // Stored with the last two dims swapped, viewed back: strides (..., 1, rows).
    out = base.transpose(-1, -2).contiguous().to(device).transpose(-1, -2);
  } else if (layout == Layout::Strided && base.dim() == 1 && base.numel() > 0) {
    // Every other element of [n, 2]: stride 2.
    out = base.unsqueeze(1).expand({base.size(0), 2}).contiguous().to(device).select(1, 0);
  } else if (layout == Layout::Misaligned && base.numel() > 0) {
    // Contiguous, but one element into its buffer: no 16-byte alignment for vectorized loads.
    const Tensor flat = cat({zeros({1}, {.dtype = base.dtype()}), base.contiguous().reshape({base.numel()})}, 0);
    out = flat.to(device).slice(0, 1, base.numel() + 1).view(base.shape());
  } else {
    out = base.contiguous().to(device).clone();
  }
  out = out.detach();
  if (t.requires_grad()) out.requires_grad_(true);
  return out;
}

std::vector<Tensor> copies_to(const std::vector<Tensor>& inputs, Device device, Layout layout) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) out.push_back(copy_to(t, device, layout));
  return out;
}

// ---- comparison ----

Tol tolerance_for(DType computed_in, const Tensor& reference) {
  if (!is_floating(reference.dtype())) return {0, 0};
  double scale = 1.0;
  if (reference.numel() > 0) {
    const double m = amax(abs(reference.detach().to(DType::F64))).item<double>();
    if (std::isfinite(m)) scale = std::max(1.0, m);
  }
  if (computed_in == DType::BF16 || computed_in == DType::F16) return {2e-2, 2e-2 * scale};
  if (computed_in == DType::F64) return {1e-10, 1e-12 * scale};
  return {1e-4, 1e-5 * scale};
}

// The CPU's and the device's tensor agree (shape, dtype, device, values within tolerance).
::testing::AssertionResult matches(const Tensor& cpu, const Tensor& dev, Device device, DType computed_in,
                                   const std::string& what) {
  if (!dev.defined()) return ::testing::AssertionFailure() << what << ": undefined on " << device.str();
  if (dev.device() != device)
    return ::testing::AssertionFailure() << what << ": result on " << dev.device().str() << ", expected "
                                         << device.str() << " (a sample function creating a tensor on the CPU?)";
  return all_close(cpu.detach(), dev.detach(), tolerance_for(computed_in, cpu), what);
}

// The upstream gradient for an output of `shape`: the same values on both devices.
Tensor upstream_gradient(const Tensor& out) { return parity_values(out.shape(), out.dtype(), 2024, -1.0, 1.0); }

// ---- one sample on one device ----

struct Counts {
  int forward = 0;   // forward comparisons made
  int backward = 0;  // input gradients compared
  int refused = 0;   // dtype the op refuses on both devices
};

// The CPU reference of a sample in `dt`: output and, after backward, the inputs' gradients.
struct Reference {
  std::vector<Tensor> inputs;
  Tensor out;
  bool refused = false;  // the op does not accept `dt` (the CPU threw)
  std::string refusal;
};

Reference cpu_reference(const OpSample& s, DType dt, bool differentiable) {
  Reference r;
  r.inputs = s.make_inputs(dt);
  try {
    r.out = s.fn(r.inputs);
  } catch (const Error& e) {
    if (dt == DType::F32) throw;  // every op runs in f32: a sample that fails there is a defect
    r.refused = true;
    r.refusal = e.what();
    return r;
  }
  if (differentiable && r.out.requires_grad()) r.out.backward(upstream_gradient(r.out));
  return r;
}

// Runs `s` on `device` copies of the reference's inputs in `layout` and compares forward and
// backward; failures are reported with the sample's name and do not stop the other samples.
void check_on_device(const OpSample& s, const Reference& ref, DType dt, Layout layout, Device device,
                     bool differentiable, Counts& counts) {
  const std::string what = fmt::format("{}/{} {} {}", s.op, s.case_name, dt, layout_name(layout));
  std::vector<Tensor> in = copies_to(ref.inputs, device, layout);
  if (ref.refused) {
    try {
      s.fn(in);
      ADD_FAILURE() << what << ": the CPU refuses this dtype (" << ref.refusal << ") but " << device.str()
                    << " accepts it";
    } catch (const Error&) {
      ++counts.refused;
    }
    return;
  }
  Tensor out;
  try {
    out = s.fn(in);
  } catch (const Error& e) {
    ADD_FAILURE() << what << ": forward threw on " << device.str() << ": " << e.what();
    return;
  }
  EXPECT_TRUE(matches(ref.out, out, device, dt, what + " forward"));
  ++counts.forward;
  if (!differentiable || !ref.out.requires_grad()) return;
  if (!out.requires_grad()) {
    ADD_FAILURE() << what << ": the CPU output requires grad, the " << device.str() << " output does not";
    return;
  }
  try {
    out.backward(upstream_gradient(ref.out).to(device));
  } catch (const Error& e) {
    ADD_FAILURE() << what << ": backward threw on " << device.str() << ": " << e.what();
    return;
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (!ref.inputs[i].defined() || !ref.inputs[i].requires_grad()) continue;
    const Tensor g_ref = ref.inputs[i].grad();
    const Tensor g_dev = in[i].grad();
    const std::string gwhat = fmt::format("{} grad of input {}", what, i);
    if (!g_ref.defined()) {
      EXPECT_FALSE(g_dev.defined()) << gwhat << ": no gradient on the CPU, one on " << device.str();
      continue;
    }
    EXPECT_TRUE(matches(g_ref, g_dev, device, dt, gwhat));
    ++counts.backward;
  }
}

// Every sample of `op` on `device` in each of `dtypes` and both layouts.
Counts check_op(const DeclaredOp& op, Device device, const std::vector<DType>& dtypes) {
  Counts counts;
  const bool differentiable = op.differentiable && !is_random_op(op.name);
  for (const OpSample* s : samples_for(op.name)) {
    for (DType dt : dtypes) {
      Reference ref;
      try {
        ref = cpu_reference(*s, dt, differentiable);
      } catch (const Error& e) {
        ADD_FAILURE() << s->op << "/" << s->case_name << " " << dtype_name(dt) << ": the CPU reference threw: " << e.what();
        continue;
      }
      for (Layout layout : {Layout::Contiguous, Layout::Strided, Layout::Misaligned}) {
        if (layout == Layout::Strided && needs_contiguous_inputs(op.name)) continue;
        check_on_device(*s, ref, dt, layout, device, differentiable, counts);
      }
    }
  }
  return counts;
}

// ---- the parity test: one test per op ----

class CudaOpList : public ::testing::TestWithParam<DeclaredOp> {};

TEST_P(CudaOpList, MatchesTheCpu) {
  SKIP_WITHOUT_CUDA();
  const DeclaredOp& op = GetParam();
  ASSERT_FALSE(samples_for(op.name).empty()) << op.name << " has no sample";
  const Counts c = check_op(op, Device::cuda(), {DType::F32, DType::BF16});
  EXPECT_GT(c.forward, 0) << op.name << ": nothing was compared";
  if (op.differentiable && !is_random_op(op.name)) {
    EXPECT_GT(c.backward, 0) << op.name << ": no gradient compared";
  }
  RecordProperty("forward_comparisons", c.forward);
  RecordProperty("gradient_comparisons", c.backward);
  RecordProperty("bf16_refused", c.refused);
}

INSTANTIATE_TEST_SUITE_P(CudaAllOps, CudaOpList, ::testing::ValuesIn(declared_ops()), op_test_name);

// ---- random ops: statistics of large draws on the device ----

TEST(CudaOpListRandom, LargeDrawsHaveTheRightStatistics) {
  SKIP_WITHOUT_CUDA();
  const TensorOptions o{.device = Device::cuda()};
  const int64_t n = 1 << 20;
  Generator gen(7);
  // Standard errors at n = 2^20: ~3e-4 for U[0,1)'s mean; 1e-3 for N(0,1)'s mean; 6 sigma bounds.
  const Tensor u = rand({n}, o, &gen).cpu();
  EXPECT_NEAR(mean(u).item<double>(), 0.5, 2e-3);
  EXPECT_NEAR(var(u).item<double>(), 1.0 / 12.0, 2e-3);
  EXPECT_GE(amin(u).item<double>(), 0.0);
  EXPECT_LT(amax(u).item<double>(), 1.0);
  const Tensor z = randn({n}, o, &gen).cpu();
  EXPECT_NEAR(mean(z).item<double>(), 0.0, 6e-3);
  EXPECT_NEAR(var(z).item<double>(), 1.0, 1e-2);
  const Tensor k = randint(-3, 7, {n}, {.dtype = DType::I64, .device = Device::cuda()}, &gen).cpu();
  EXPECT_EQ(amin(k).item<int64_t>(), -3);
  EXPECT_EQ(amax(k).item<int64_t>(), 6);
  EXPECT_NEAR(mean(k.to(DType::F64)).item<double>(), 1.5, 2e-2);
  const Tensor b = bernoulli(full({n}, 0.3, o), &gen).cpu();
  EXPECT_NEAR(mean(b).item<double>(), 0.3, 3e-3);
  // A permutation: every value of [0, m) counted exactly once.
  const int64_t m = 100000;
  const Tensor p = randperm(m, {.dtype = DType::I64, .device = Device::cuda()}, &gen).cpu();
  const Tensor counts = index_add(zeros({m}), 0, p, ones({m}));
  EXPECT_EQ(amin(counts).item<double>(), 1.0) << "randperm: some value missing";
  EXPECT_EQ(amax(counts).item<double>(), 1.0) << "randperm: some value repeated";
}

// ---- the harness, checked without a GPU ----

// The same loop with the CPU as the "device": the strided copies must reproduce the contiguous
// CPU results and gradients, so the layouts the CUDA test builds are value-preserving and every
// sample (and its op's front end) accepts them. Random ops are included: same seed, same draw.
class OpListHarness : public ::testing::TestWithParam<DeclaredOp> {};

TEST_P(OpListHarness, StridedCpuCopiesMatchContiguous) {
  const Counts c = check_op(GetParam(), Device::cpu(), {DType::F32});
  EXPECT_GT(c.forward, 0) << GetParam().name << ": nothing was compared";
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpListHarness, ::testing::ValuesIn(declared_ops()), op_test_name);

TEST(OpListHarnessLayouts, StridedCopiesAreNonContiguousLeavesWithTheSameValues) {
  const Tensor m = sample_tensor({3, 4}, DType::F32, 1);
  const Tensor ms = copy_to(m, Device::cpu(), Layout::Strided);
  EXPECT_FALSE(ms.is_contiguous());
  EXPECT_EQ(ms.stride(0), 1);
  EXPECT_EQ(ms.stride(1), 3);
  EXPECT_TRUE(ms.requires_grad());
  EXPECT_TRUE(all_close(m.detach(), ms, {0, 0}, "matrix"));
  const Tensor v = sample_tensor({5}, DType::F32, 2, -1, 1, false);
  const Tensor vs = copy_to(v, Device::cpu(), Layout::Strided);
  EXPECT_EQ(vs.stride(0), 2);
  EXPECT_FALSE(vs.requires_grad());
  EXPECT_TRUE(all_close(v, vs, {0, 0}, "vector"));
  const Tensor vc = copy_to(v, Device::cpu(), Layout::Contiguous);
  EXPECT_NE(vc.raw_data(), v.raw_data()) << "the contiguous copy must own its storage";
  const Tensor mm = copy_to(m, Device::cpu(), Layout::Misaligned);
  EXPECT_TRUE(mm.is_contiguous());
  EXPECT_EQ(mm.offset(), 1);
  EXPECT_TRUE(mm.requires_grad());
  EXPECT_TRUE(all_close(m.detach(), mm, {0, 0}, "misaligned matrix"));
}

// Without a GPU, moving a sample's input to CUDA fails with the front end's DeviceError (the
// parity test skips before it gets there); and a CUDA-side op refused for its dtype reports the
// same error class as on the CPU (checked per sample by the parity test where a GPU exists).
TEST(CudaOpListWithoutGpu, CopyingASampleInputToCudaThrowsDeviceError) {
  if (cuda_is_available()) GTEST_SKIP() << "a CUDA device is present: the parity tests run instead";
  const Tensor x = sample_tensor({2, 3}, DType::F32, 3);
  try {
    copy_to(x, Device::cuda(), Layout::Contiguous);
    ADD_FAILURE() << "copying to CUDA without a device did not throw";
  } catch (const DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strata::testing
