#pragma once
// Internal to the CPU loss kernels (kernels/cpu/loss.cpp): the vector primitives that softmax,
// log_softmax, cross_entropy and their backward passes are built from, one set per instruction
// set (softmax_rows_avx512.cpp, softmax_rows_avx2.cpp, and portable C++ in loss.cpp), chosen at
// run time like the GEMM micro-kernels.
//
// Two shapes of work share one set of formulas:
//   row_*  one softmax row of n contiguous values; the row's parameters (max, 1/sum, ...) are
//          scalars. This is the class dim innermost: [N, C] logits, attention scores.
//   col_*  n neighbouring lanes of a strided softmax (the class dim is not innermost, e.g.
//          [N, C, H, W]): the caller walks the class dim one row of lanes at a time, and every
//          lane carries its own parameters (per-lane arrays).
// Within one row every function reduces in a fixed order, so results never depend on threads.
// exp here is a polynomial accurate to ~2 ulp in f32; inputs below -87.3 give exactly 0, NaN
// propagates.
#include <cstdint>

namespace strata::kernels::cpu::detail {

template <class T>
struct SoftmaxPrimitives {
  const char* isa;
  // ---- rows: x[0..n), scalar parameters ----
  T (*row_max)(const T* x, int64_t n);
  T (*row_sum_exp)(const T* x, int64_t n, T m);                           // sum exp(x - m)
  T (*row_sum_exp_dot)(const T* x, int64_t n, T m, const T* w, T* dot);   // also *dot = sum w*x (w null: 1)
  T (*row_exp_store_sum)(const T* x, int64_t n, T m, T* out);             // out = exp(x - m); returns the sum
  T (*row_dot)(const T* a, const T* b, int64_t n);                        // sum a*b (b null: sum a)
  void (*row_scale)(T* out, int64_t n, T s);                              // out *= s
  void (*row_sub)(const T* x, int64_t n, T m, T* out);                    // out = x - m
  // out = a * exp(x - m) - b * w   (w null: 1): the cross-entropy gradient row
  void (*row_exp_affine)(const T* x, int64_t n, T m, T a, T b, const T* w, T* out);
  void (*row_softmax_bwd)(const T* g, const T* y, int64_t n, T s, T* out);      // y * (g - s)
  void (*row_log_softmax_bwd)(const T* g, const T* y, int64_t n, T s, T* out);  // g - exp(y) * s
  // ---- columns: lanes [0..n), per-lane parameters ----
  void (*col_max)(T* acc, const T* x, int64_t n);                          // acc = max(acc, x)
  void (*col_sum_exp)(T* acc, const T* x, const T* m, int64_t n);          // acc += exp(x - m)
  void (*col_exp_store_sum)(T* acc, const T* x, const T* m, int64_t n, T* out);  // out = exp(x - m); acc += out
  void (*col_fma)(T* acc, const T* x, const T* y, T w, int64_t n);         // acc += x * y (y null: w)
  void (*col_scale)(T* out, const T* s, int64_t n);                        // out *= s
  void (*col_sub)(const T* x, const T* m, int64_t n, T* out);              // out = x - m
  // out = a * exp(x - m) - w * b
  void (*col_exp_affine)(const T* x, const T* m, const T* a, const T* b, T w, int64_t n, T* out);
  void (*col_softmax_bwd)(const T* g, const T* y, const T* s, int64_t n, T* out);
  void (*col_log_softmax_bwd)(const T* g, const T* y, const T* s, int64_t n, T* out);
};

// The per-ISA sets (null when the build lacks that instruction set).
const SoftmaxPrimitives<float>* softmax_primitives_avx512();
const SoftmaxPrimitives<float>* softmax_primitives_avx2();

}  // namespace strata::kernels::cpu::detail
