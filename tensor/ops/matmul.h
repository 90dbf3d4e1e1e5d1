#pragma once
// Matrix products on the GEMM kernels (own AVX-512/AVX2 micro-kernels on CPU, cuBLAS on CUDA).
//
//   Tensor y = strata::matmul(x, w);          // numpy semantics: batch dims broadcast
//   Tensor z = strata::linear(x, weight, b);  // x @ weight.T + b, like nn.Linear
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace strata {

Tensor matmul(const Tensor& a, const Tensor& b);  // 1-d, 2-d and batched (broadcast) operands
Tensor mm(const Tensor& a, const Tensor& b);      // 2-d only
Tensor bmm(const Tensor& a, const Tensor& b);     // 3-d only, equal batch
Tensor addmm(const Tensor& c, const Tensor& a, const Tensor& b, double beta = 1.0, double alpha = 1.0);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
Tensor dot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);
// Einstein summation for common patterns: "ij,jk->ik", "bij,bjk->bik", "ij->ji", "i,i->", ...
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace strata
