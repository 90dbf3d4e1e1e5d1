#pragma once
// Matrix products on the GEMM kernels (own AVX-512/AVX2 micro-kernels on CPU, cuBLAS on CUDA).
//
//   Tensor y = strata::matmul(x, w);          // numpy semantics: batch dims broadcast
//   Tensor z = strata::linear(x, weight, b);  // x @ weight.T + b, like nn.Linear
//
// Operands share one floating dtype: f32 and f64 run on the GEMM directly, f16 and bf16 are
// computed in f32 and rounded back. Integer and bool operands throw DTypeError (outer, which is
// elementwise, accepts any dtype and promotes). Transposed operands (last two dims with strides
// (1, ld)) reach the GEMM as a flag, without a copy; other non-contiguous layouts are copied.
// A contraction over an empty dim (k == 0) gives zeros.
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace strata {

// PyTorch's matmul: 1-d @ 1-d is a dot product (0-d result); 2-d @ 1-d and 1-d @ 2-d treat the
// vector as a column / row and drop that dim from the result; otherwise a [..., m, k] @ b [..., k, n]
// with the batch dims broadcasting. A batched a times a 2-d b runs as one [batch*m, k] @ [k, n] GEMM.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // [m, k] @ [k, n]
Tensor bmm(const Tensor& a, const Tensor& b);  // [b, m, k] @ [b, k, n], equal batch sizes
// beta * c + alpha * (a @ b) with a, b 2-d and c broadcasting to [m, n]; beta == 0 ignores c.
Tensor addmm(const Tensor& c, const Tensor& a, const Tensor& b, double beta = 1.0, double alpha = 1.0);
// x [..., in] @ weight[out, in]^T + bias[out] -> [..., out], like torch.nn.functional.linear.
// x's leading dims are flattened into one GEMM (a view when x is contiguous); bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
Tensor dot(const Tensor& a, const Tensor& b);    // 1-d, equal sizes -> 0-d
Tensor outer(const Tensor& a, const Tensor& b);  // [m], [n] -> [m, n]
// Einstein summation: "ij,jk->ik", "bij,bkj->bik", "bhqd,bhkd->bhqk", "...ij,...jk->...ik",
// "ij->ji", "ii->i" (diagonal), "ii" (trace), "i,i->", "i,j->ij", any number of operands.
// Without "->" the output is numpy's: the ellipsis dims, then the letters used once, sorted
// (A-Z before a-z). Ellipsis dims broadcast like batch dims and, when the output names no "...",
// are summed. Each pair of operands becomes one matmul over permuted/reshaped views; labels used
// by one operand only are summed first. Malformed equations throw ValueError naming the equation.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace strata
