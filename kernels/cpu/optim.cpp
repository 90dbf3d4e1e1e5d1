// CPU fused optimizer steps (kernels/optim.h).
//
// A group's tensors are laid end to end as one index space [0, total) and parallel_for splits
// that, so a group of many small tensors and one of a few huge ones both spread evenly over the
// threads; each chunk walks the tensors it overlaps with plain contiguous loops over raw f32
// pointers (no aliasing between p, g and the state, so the loops vectorize). Every element is
// updated independently: the result does not depend on the thread count or the chunking.
// The loops are compiled for AVX-512, AVX2+FMA and baseline x86-64 (STRATA_CPU_CLONES); the
// FMA clones may contract a*b+c, so results may differ in the last bit between CPUs.
#include <algorithm>
#include <vector>

#include "kernels/cpu/contiguous.h"
#include "kernels/cpu/parallel.h"
#include "kernels/optim.h"
#include "kernels/optim_functors.h"

namespace strata::kernels::cpu {
namespace {

struct Span {
  float* __restrict p;
  float* __restrict g;
  float* __restrict m;
  float* __restrict v;
  float decay, l2, step_size, debias2;
};

template <bool kL2>
STRATA_CPU_CLONES void sgd_loop(Span s, int64_t lo, int64_t hi) {
  const SgdFunctor<kL2> f{};
  float* __restrict p = s.p;
  float* __restrict g = s.g;
  for (int64_t i = lo; i < hi; ++i) f(p[i], g[i], s.decay, s.l2, s.step_size);
}

template <bool kL2>
STRATA_CPU_CLONES void momentum_loop(const MomentumFunctor<kL2> f, Span s, int64_t lo, int64_t hi) {
  float* __restrict p = s.p;
  float* __restrict g = s.g;
  float* __restrict m = s.m;
  for (int64_t i = lo; i < hi; ++i) f(p[i], g[i], m[i], s.decay, s.l2, s.step_size);
}

template <bool kL2>
STRATA_CPU_CLONES void adam_loop(const AdamFunctor<kL2> f, Span s, int64_t lo, int64_t hi) {
  float* __restrict p = s.p;
  float* __restrict g = s.g;
  float* __restrict m = s.m;
  float* __restrict v = s.v;
  for (int64_t i = lo; i < hi; ++i) f(p[i], g[i], m[i], v[i], s.decay, s.l2, s.step_size, s.debias2);
}

template <bool kL2>
void run(OptimKind kind, const std::vector<Span>& spans, const std::vector<int64_t>& starts, const OptimCoeffs& c) {
  const int64_t total = starts.back();
  const MomentumFunctor<kL2> mf{static_cast<float>(c.mom)};
  const AdamFunctor<kL2> af{static_cast<float>(c.mom), static_cast<float>(1.0 - c.mom), static_cast<float>(c.sqr_mom),
                            static_cast<float>(1.0 - c.sqr_mom), static_cast<float>(c.eps)};
  // 64K elements: ~1 MB of traffic for Adam per chunk, large enough to amortise the hand-off.
  parallel_for(0, total, 1 << 16, [&](int64_t lo, int64_t hi) {
    size_t t = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), lo) - starts.begin()) - 1;
    for (; t < spans.size() && starts[t] < hi; ++t) {
      const int64_t a = std::max(lo, starts[t]) - starts[t];
      const int64_t b = std::min(hi, starts[t + 1]) - starts[t];
      if (a >= b) continue;
      switch (kind) {
        case OptimKind::kSgd: sgd_loop<kL2>(spans[t], a, b); break;
        case OptimKind::kMomentum: momentum_loop<kL2>(mf, spans[t], a, b); break;
        case OptimKind::kAdam: adam_loop<kL2>(af, spans[t], a, b); break;
        case OptimKind::kNone: break;
      }
    }
  });
}

float* f32_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

}  // namespace

void optim_step(OptimKind kind, std::span<const OptimSlot> slots, const OptimCoeffs& coeffs) {
  std::vector<Span> spans;
  std::vector<int64_t> starts;
  spans.reserve(slots.size());
  starts.reserve(slots.size() + 1);
  int64_t total = 0;
  for (const OptimSlot& s : slots) {
    spans.push_back(Span{s.param.data<float>(), s.grad.data<float>(), f32_or_null(s.grad_avg),
                         f32_or_null(s.sqr_avg), static_cast<float>(s.decay), static_cast<float>(s.l2),
                         static_cast<float>(s.step_size), static_cast<float>(s.debias2)});
    starts.push_back(total);
    total += s.param.numel();
  }
  starts.push_back(total);
  if (total == 0) return;
  if (coeffs.use_l2) run<true>(kind, spans, starts, coeffs);
  else run<false>(kind, spans, starts, coeffs);
}

}  // namespace strata::kernels::cpu
