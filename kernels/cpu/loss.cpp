// CPU kernels of the loss family (kernels/loss.h): softmax, log_softmax, their backward, and the
// fused cross-entropy / NLL passes.
//
// Why it is shaped this way: every op here is "per row of the class dim: a reduction or two, then
// an elementwise write". A row is small (C values, in L1), so the fused passes re-read it from
// cache instead of materializing log_softmax: cross-entropy forward reads the logits once from
// memory (max, then sum of exp) and writes 3 numbers per row; its backward reads them once and
// writes the gradient once. The arithmetic lives in the vector primitives of softmax_rows.h,
// picked at run time for the CPU (AVX-512, AVX2, portable C++ here); each item's loss and
// gradient coefficients come from kernels/loss_functors.h, which the CUDA kernels share.
//
// Two walks share those primitives: contiguous rows (class dim innermost) parallel over rows, and
// strided tiles of C x J lanes (class dim outer, e.g. [N, C, H, W]) parallel over tiles, walking
// the class dim one row of J lanes at a time. f16/bf16 rows and tiles are staged through f32
// buffers. Work is split by rows/tiles and every row reduces in a fixed order, so results do not
// depend on the thread count.
#include "kernels/loss.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/softmax_simd.h"
#include "kernels/loss_functors.h"

namespace strata::kernels::cpu {
namespace {

using detail::SoftmaxPrimitives;

// ---- the portable primitives: one lane, std::exp ----
template <class Scalar>
struct OneLane {
  using T = Scalar;
  using vec = Scalar;
  static constexpr int W = 1;
  static vec load(const T* p) { return *p; }
  static void store(T* p, vec v) { *p = v; }
  static vec load_partial(const T* p, int, T) { return *p; }  // never called: W == 1 has no tail
  static void store_partial(T* p, vec v, int) { *p = v; }
  static vec set1(T s) { return s; }
  static vec add(vec a, vec b) { return a + b; }
  static vec sub(vec a, vec b) { return a - b; }
  static vec mul(vec a, vec b) { return a * b; }
  static vec max(vec a, vec b) { return a > b ? a : b; }  // b when either is NaN, like x86
  static vec min(vec a, vec b) { return a < b ? a : b; }
  static vec fmadd(vec a, vec b, vec c) { return a * b + c; }
  static vec fnmadd(vec a, vec b, vec c) { return c - a * b; }
  static vec exp(vec x) { return std::exp(x); }
  static T hsum(vec v) { return v; }
  static T hmax(vec v) { return v; }
};

constexpr SoftmaxPrimitives<float> kGenericF32 = detail::make_softmax_primitives<OneLane<float>>("generic");
constexpr SoftmaxPrimitives<double> kGenericF64 = detail::make_softmax_primitives<OneLane<double>>("generic");

bool isa_supported(std::string_view isa) {
  if (isa == "generic") return true;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == "avx2") return detail::softmax_primitives_avx2() && avx2;
  if (isa == "avx512")
    return detail::softmax_primitives_avx512() && avx2 && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq");
#endif
  return false;
}

const SoftmaxPrimitives<float>* primitives_named(std::string_view isa) {
  if (isa == "avx512") return detail::softmax_primitives_avx512();
  if (isa == "avx2") return detail::softmax_primitives_avx2();
  return &kGenericF32;
}

const SoftmaxPrimitives<float>* best_f32() {
  for (const char* isa : {"avx512", "avx2"})
    if (isa_supported(isa)) return primitives_named(isa);
  return &kGenericF32;
}

std::atomic<const SoftmaxPrimitives<float>*>& active_f32() {
  static std::atomic<const SoftmaxPrimitives<float>*> p{best_f32()};
  return p;
}

template <class CT>
const SoftmaxPrimitives<CT>& primitives() {
  if constexpr (std::is_same_v<CT, float>) return *active_f32().load(std::memory_order_relaxed);
  else return kGenericF64;
}

// ---- layout ----
struct Geometry {
  int64_t outer = 1, classes = 1, inner = 1;
  int64_t items() const { return outer * inner; }
};

Geometry geometry(const Shape& s, int64_t dim) {
  Geometry g;
  for (int64_t d = 0; d < s.ndim(); ++d) {
    if (d < dim) g.outer *= s[d];
    else if (d == dim) g.classes = s[d];
    else g.inner *= s[d];
  }
  return g;
}

constexpr int64_t kLanes = 64;  // lanes per strided tile: four AVX-512 vectors per class row

// Rows (or tiles) per parallel chunk: enough work to be worth a thread, about 16K values.
int64_t chunk_grain(int64_t values_per_unit) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, values_per_unit)); }

// Walks the units of work: contiguous rows when inner == 1, else tiles of C x J lanes. body gets
// (offset of the unit's first value, offset of its first item, lanes n, class stride).
template <class Body>
void for_each_unit(const Geometry& g, Body&& body) {
  const int64_t C = g.classes;
  if (g.inner == 1) {
    parallel_for(0, g.outer, chunk_grain(C), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) body(r * C, r, int64_t{1}, int64_t{1});
    });
    return;
  }
  const int64_t tiles_per_outer = (g.inner + kLanes - 1) / kLanes;
  parallel_for(0, g.outer * tiles_per_outer, chunk_grain(C * kLanes), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / tiles_per_outer, j0 = (t % tiles_per_outer) * kLanes;
      body(o * C * g.inner + j0, o * g.inner + j0, std::min(kLanes, g.inner - j0), g.inner);
    }
  });
}

// A unit's values in the compute type CT: the data itself when T == CT, else an f32 copy laid out
// [C, n] (class stride n). `out` units are written back by flush().
template <class T>
class Staged {
 public:
  using CT = compute_t<T>;
  static constexpr bool kDirect = std::is_same_v<T, CT>;

  // Points at C rows of n lanes starting at p, `stride` apart.
  void bind(T* p, int64_t C, int64_t n, int64_t stride) {
    p_ = p, C_ = C, n_ = n, stride_ = stride;
    if constexpr (!kDirect) buf_.resize(static_cast<size_t>(C * n));
  }
  const CT* load() {
    if constexpr (kDirect) {
      return p_;
    } else {
      for (int64_t c = 0; c < C_; ++c)
        for (int64_t j = 0; j < n_; ++j) buf_[c * n_ + j] = static_cast<float>(p_[c * stride_ + j]);
      return buf_.data();
    }
  }
  CT* target() {
    if constexpr (kDirect) return p_;
    else return buf_.data();
  }
  int64_t stride() const { return kDirect ? stride_ : n_; }
  void flush() {
    if constexpr (!kDirect)
      for (int64_t c = 0; c < C_; ++c)
        for (int64_t j = 0; j < n_; ++j) p_[c * stride_ + j] = T(buf_[c * n_ + j]);
  }

 private:
  T* p_ = nullptr;
  int64_t C_ = 0, n_ = 0, stride_ = 0;
  std::vector<CT> buf_;
};

// ---- softmax / log_softmax ----
template <class T>
void softmax_typed(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  using CT = compute_t<T>;
  const auto& P = primitives<CT>();
  const Geometry g = geometry(x.shape(), dim);
  if (g.items() == 0 || g.classes == 0) return;
  const int64_t C = g.classes;
  T* xp = x.data<T>();
  T* op = out.data<T>();
  for_each_unit(g, [&](int64_t off, int64_t, int64_t n, int64_t stride) {
    thread_local Staged<T> in, res;
    in.bind(xp + off, C, n, stride);
    res.bind(op + off, C, n, stride);
    const CT* xv = in.load();
    CT* ov = res.target();
    const int64_t xs = in.stride(), os = res.stride();
    if (stride == 1) {
      const CT m = P.row_max(xv, C);
      if (log) {
        P.row_sub(xv, C, m + std::log(P.row_sum_exp(xv, C, m)), ov);
      } else {
        P.row_scale(ov, C, CT(1) / P.row_exp_store_sum(xv, C, m, ov));
      }
    } else {
      CT m[kLanes], s[kLanes];
      std::fill(m, m + n, -std::numeric_limits<CT>::infinity());
      std::fill(s, s + n, CT(0));
      for (int64_t c = 0; c < C; ++c) P.col_max(m, xv + c * xs, n);
      if (log) {
        for (int64_t c = 0; c < C; ++c) P.col_sum_exp(s, xv + c * xs, m, n);
        for (int64_t j = 0; j < n; ++j) m[j] += std::log(s[j]);
        for (int64_t c = 0; c < C; ++c) P.col_sub(xv + c * xs, m, n, ov + c * os);
      } else {
        for (int64_t c = 0; c < C; ++c) P.col_exp_store_sum(s, xv + c * xs, m, n, ov + c * os);
        for (int64_t j = 0; j < n; ++j) s[j] = CT(1) / s[j];
        for (int64_t c = 0; c < C; ++c) P.col_scale(ov + c * os, s, n);
      }
    }
    res.flush();
  });
}

template <class T>
void softmax_backward_typed(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in) {
  using CT = compute_t<T>;
  const auto& P = primitives<CT>();
  const Geometry g = geometry(y.shape(), dim);
  if (g.items() == 0 || g.classes == 0) return;
  const int64_t C = g.classes;
  T* gp = grad.data<T>();
  T* yp = y.data<T>();
  T* op = grad_in.data<T>();
  for_each_unit(g, [&](int64_t off, int64_t, int64_t n, int64_t stride) {
    thread_local Staged<T> gs, ys, res;
    gs.bind(gp + off, C, n, stride);
    ys.bind(yp + off, C, n, stride);
    res.bind(op + off, C, n, stride);
    const CT* gv = gs.load();
    const CT* yv = ys.load();
    CT* ov = res.target();
    const int64_t st = gs.stride(), os = res.stride();  // gs and ys share a layout
    if (stride == 1) {
      const CT s = P.row_dot(gv, log ? nullptr : yv, C);
      if (log) P.row_log_softmax_bwd(gv, yv, C, s, ov);
      else P.row_softmax_bwd(gv, yv, C, s, ov);
    } else {
      CT s[kLanes];
      std::fill(s, s + n, CT(0));
      for (int64_t c = 0; c < C; ++c) P.col_fma(s, gv + c * st, log ? nullptr : yv + c * st, CT(1), n);
      for (int64_t c = 0; c < C; ++c) {
        if (log) P.col_log_softmax_bwd(gv + c * st, yv + c * st, s, n, ov + c * os);
        else P.col_softmax_bwd(gv + c * st, yv + c * st, s, n, ov + c * os);
      }
    }
    res.flush();
  });
}

// ---- class-index losses ----
template <class F>
decltype(auto) visit_index(DType dt, F&& f) {
  if (dt == DType::I32) return f.template operator()<int32_t>();
  return f.template operator()<int64_t>();
}

// The targets and weights of one class-index loss, in the compute type.
template <class CT, class TI>
struct ClassLossParams {
  const TI* target;
  const CT* weight;  // null: all 1
  int64_t ignore_index;
  CT total_weight;   // W = sum of the class weights (C without weights)

  ClassLossParams(const ClassTargets& t, int64_t classes)
      : target(t.target.data<TI>()),
        weight(t.weight.defined() ? t.weight.data<CT>() : nullptr),
        ignore_index(t.ignore_index),
        total_weight(static_cast<CT>(classes)) {
    if (weight) {
      total_weight = 0;
      for (int64_t c = 0; c < classes; ++c) total_weight += weight[c];
    }
  }
  bool ignored(int64_t item) const { return static_cast<int64_t>(target[item]) == ignore_index; }
  CT class_weight(int64_t c) const { return weight ? weight[c] : CT(1); }
};

template <class T, class TI>
void cross_entropy_forward_typed(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                                 const Tensor& item_weight, const Tensor& lse) {
  using CT = compute_t<T>;
  const auto& P = primitives<CT>();
  const Geometry g = geometry(x.shape(), dim);
  if (g.items() == 0) return;
  const int64_t C = g.classes;
  const ClassLossParams<CT, TI> prm(t, C);
  const auto k = CrossEntropyCoeffs<CT>::make(t.label_smoothing, C, prm.total_weight);
  T* xp = x.data<T>();
  CT* lp = loss.data<CT>();
  CT* wp = item_weight.data<CT>();
  CT* sp = lse.data<CT>();
  // Loss of one item from its lse, the logit of its target and (smoothing) sum_c w[c] x[c].
  auto finish = [&](int64_t item, CT lse_v, CT x_target, CT weighted_sum) {
    sp[item] = lse_v;
    if (prm.ignored(item)) {
      lp[item] = 0, wp[item] = 0;
      return;
    }
    const CT wt = prm.class_weight(static_cast<int64_t>(prm.target[item]));
    lp[item] = cross_entropy_item_loss(k, wt, lse_v, x_target, weighted_sum), wp[item] = wt;
  };
  for_each_unit(g, [&](int64_t off, int64_t item0, int64_t n, int64_t stride) {
    thread_local Staged<T> in;
    in.bind(xp + off, C, n, stride);
    const CT* xv = in.load();
    const int64_t xs = in.stride();
    auto target_logit = [&](int64_t j) {
      if (prm.ignored(item0 + j)) return CT(0);
      return xv[static_cast<int64_t>(prm.target[item0 + j]) * xs + j];
    };
    if (stride == 1) {
      if (C == 0) return finish(item0, -std::numeric_limits<CT>::infinity(), CT(0), CT(0));
      const CT m = P.row_max(xv, C);
      CT dot = 0;
      const CT s = k.smoothing ? P.row_sum_exp_dot(xv, C, m, prm.weight, &dot) : P.row_sum_exp(xv, C, m);
      finish(item0, m + std::log(s), target_logit(0), dot);
      return;
    }
    CT m[kLanes], s[kLanes], dot[kLanes];
    std::fill(m, m + n, -std::numeric_limits<CT>::infinity());
    std::fill(s, s + n, CT(0));
    std::fill(dot, dot + n, CT(0));
    for (int64_t c = 0; c < C; ++c) P.col_max(m, xv + c * xs, n);
    for (int64_t c = 0; c < C; ++c) P.col_sum_exp(s, xv + c * xs, m, n);
    if (k.smoothing)
      for (int64_t c = 0; c < C; ++c) P.col_fma(dot, xv + c * xs, nullptr, prm.class_weight(c), n);
    for (int64_t j = 0; j < n; ++j) finish(item0 + j, m[j] + std::log(s[j]), target_logit(j), dot[j]);
  });
}

template <class T, class TI>
void cross_entropy_backward_typed(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                                  const Tensor& lse, const Tensor& grad_x) {
  using CT = compute_t<T>;
  const auto& P = primitives<CT>();
  const Geometry g = geometry(x.shape(), dim);
  if (g.items() == 0 || g.classes == 0) return;
  const int64_t C = g.classes;
  const ClassLossParams<CT, TI> prm(t, C);
  const auto k = CrossEntropyCoeffs<CT>::make(t.label_smoothing, C, prm.total_weight);
  const CT* gp = grad_item.data<CT>();
  const bool per_item = grad_item.numel() != 1;
  const CT* sp = lse.data<CT>();
  T* xp = x.data<T>();
  T* op = grad_x.data<T>();
  // grad = a * p - b * w[c], then -d at the target class (kernels/loss_functors.h).
  using Coef = CrossEntropyGradCoef<CT>;
  auto coef = [&](int64_t item) -> Coef {
    if (prm.ignored(item)) return {0, 0, 0};
    const CT gi = gp[per_item ? item : 0];
    return cross_entropy_grad_coef(k, gi, prm.class_weight(static_cast<int64_t>(prm.target[item])));
  };
  for_each_unit(g, [&](int64_t off, int64_t item0, int64_t n, int64_t stride) {
    thread_local Staged<T> in, res;
    in.bind(xp + off, C, n, stride);
    res.bind(op + off, C, n, stride);
    CT* ov = res.target();
    const int64_t os = res.stride();
    if (stride == 1) {
      if (prm.ignored(item0)) {
        std::fill(ov, ov + C, CT(0));
      } else {
        const Coef q = coef(item0);
        P.row_exp_affine(in.load(), C, sp[item0], q.a, q.b, prm.weight, ov);
        ov[static_cast<int64_t>(prm.target[item0])] -= q.d;
      }
      res.flush();
      return;
    }
    const CT* xv = in.load();
    const int64_t xs = in.stride();
    CT a[kLanes], b[kLanes];
    bool any_ignored = false;
    for (int64_t j = 0; j < n; ++j) {
      const Coef q = coef(item0 + j);
      a[j] = q.a, b[j] = q.b;
      any_ignored = any_ignored || prm.ignored(item0 + j);
    }
    for (int64_t c = 0; c < C; ++c) P.col_exp_affine(xv + c * xs, sp + item0, a, b, prm.class_weight(c), n, ov + c * os);
    for (int64_t j = 0; j < n; ++j) {
      if (prm.ignored(item0 + j)) continue;
      ov[static_cast<int64_t>(prm.target[item0 + j]) * os + j] -= coef(item0 + j).d;
    }
    if (any_ignored)  // exactly 0, even where the logits are not finite
      for (int64_t j = 0; j < n; ++j)
        if (prm.ignored(item0 + j))
          for (int64_t c = 0; c < C; ++c) ov[c * os + j] = CT(0);
    res.flush();
  });
}

template <class T, class TI>
void nll_loss_forward_typed(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                            const Tensor& item_weight) {
  using CT = compute_t<T>;
  const Geometry g = geometry(x.shape(), dim);
  const ClassLossParams<CT, TI> prm(t, g.classes);
  const T* xp = x.data<T>();
  CT* lp = loss.data<CT>();
  CT* wp = item_weight.data<CT>();
  parallel_for(0, g.items(), 16384, [&](int64_t lo, int64_t hi) {
    for (int64_t item = lo; item < hi; ++item) {
      if (prm.ignored(item)) {
        lp[item] = 0, wp[item] = 0;
        continue;
      }
      const int64_t o = item / g.inner, j = item % g.inner, c = static_cast<int64_t>(prm.target[item]);
      const CT wt = prm.class_weight(c);
      lp[item] = -wt * static_cast<CT>(xp[(o * g.classes + c) * g.inner + j]);
      wp[item] = wt;
    }
  });
}

template <class T, class TI>
void nll_loss_backward_typed(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x) {
  using CT = compute_t<T>;
  const Geometry g = geometry(grad_x.shape(), dim);
  const ClassLossParams<CT, TI> prm(t, g.classes);
  const CT* gp = grad_item.data<CT>();
  const bool per_item = grad_item.numel() != 1;
  T* op = grad_x.data<T>();
  const int64_t row = g.classes * g.inner;
  parallel_for(0, g.outer, chunk_grain(row), [&](int64_t lo, int64_t hi) {
    std::memset(static_cast<void*>(op + lo * row), 0, static_cast<size_t>((hi - lo) * row) * sizeof(T));
    for (int64_t o = lo; o < hi; ++o)
      for (int64_t j = 0; j < g.inner; ++j) {
        const int64_t item = o * g.inner + j;
        if (prm.ignored(item)) continue;
        const int64_t c = static_cast<int64_t>(prm.target[item]);
        op[(o * g.classes + c) * g.inner + j] = T(-prm.class_weight(c) * gp[per_item ? item : 0]);
      }
  });
}

template <class F>
void visit_loss_floating(DType dt, F&& f) {
  visit_floating(dt, "loss kernel", std::forward<F>(f));
}

}  // namespace

void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) {
  visit_loss_floating(x.dtype(), [&]<class T>() { softmax_typed<T>(x, dim, log, out); });
}

void softmax_backward(const Tensor& grad, const Tensor& y, int64_t dim, bool log, const Tensor& grad_in) {
  visit_loss_floating(y.dtype(), [&]<class T>() { softmax_backward_typed<T>(grad, y, dim, log, grad_in); });
}

int64_t find_invalid_class_target(const Tensor& target, int64_t num_classes, int64_t ignore_index) {
  return visit_index(target.dtype(), [&]<class TI>() -> int64_t {
    const TI* p = target.data<TI>();
    const int64_t n = target.numel();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = static_cast<int64_t>(p[i]);
      if ((v < 0 || v >= num_classes) && v != ignore_index) return i;
    }
    return -1;
  });
}

void cross_entropy_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                           const Tensor& item_weight, const Tensor& lse) {
  visit_loss_floating(x.dtype(), [&]<class T>() {
    visit_index(t.target.dtype(), [&]<class TI>() { cross_entropy_forward_typed<T, TI>(x, dim, t, loss, item_weight, lse); });
  });
}

void cross_entropy_backward(const Tensor& grad_item, const Tensor& x, int64_t dim, const ClassTargets& t,
                            const Tensor& lse, const Tensor& grad_x) {
  visit_loss_floating(x.dtype(), [&]<class T>() {
    visit_index(t.target.dtype(), [&]<class TI>() { cross_entropy_backward_typed<T, TI>(grad_item, x, dim, t, lse, grad_x); });
  });
}

void nll_loss_forward(const Tensor& x, int64_t dim, const ClassTargets& t, const Tensor& loss,
                      const Tensor& item_weight) {
  visit_loss_floating(x.dtype(), [&]<class T>() {
    visit_index(t.target.dtype(), [&]<class TI>() { nll_loss_forward_typed<T, TI>(x, dim, t, loss, item_weight); });
  });
}

void nll_loss_backward(const Tensor& grad_item, int64_t dim, const ClassTargets& t, const Tensor& grad_x) {
  visit_loss_floating(grad_x.dtype(), [&]<class T>() {
    visit_index(t.target.dtype(), [&]<class TI>() { nll_loss_backward_typed<T, TI>(grad_item, dim, t, grad_x); });
  });
}

const char* softmax_isa() { return active_f32().load()->isa; }

void softmax_force_isa(const char* isa) {
  if (isa == nullptr || std::string_view(isa).empty() || std::string_view(isa) == "auto") {
    active_f32().store(best_f32());
    return;
  }
  const std::string_view name(isa);
  STRATA_CHECK(name == "avx512" || name == "avx2" || name == "generic", ValueError,
               "softmax_force_isa: unknown instruction set '{}' (avx512, avx2, generic or auto)", name);
  STRATA_CHECK(isa_supported(name), ValueError, "softmax_force_isa: this CPU or build cannot run '{}'", name);
  active_f32().store(primitives_named(name));
}

}  // namespace strata::kernels::cpu
