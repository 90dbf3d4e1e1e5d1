#pragma once
// Sample inputs for every op in kernels/ops.def. The op-list test (tests/autograd/test_op_list.cpp)
// requires at least one sample per declared op and gradchecks the differentiable ones in f64.
// Each family registers its samples in tests/support/samples_<family>.cpp.
// Device rule: tests/kernels/test_cuda_op_list.cpp runs every sample on CUDA copies of its inputs
// (contiguous and strided), so a sample's fn must create any tensor it needs (ramp weights, class
// weights, running statistics, generators' draws) on its inputs' device: {.device = x.device()}.
#include <functional>
#include <string>
#include <vector>

#include "strata.h"

namespace strata::testing {

struct OpSample {
  std::string op;    // the name in ops.def
  std::string case_name;  // what this sample exercises ("broadcast", "dim1_keepdim", ...)
  // Builds the inputs in the given dtype (f64 for gradcheck). Inputs that should be checked get
  // requires_grad_(true); integer/bool inputs (indices, masks) must not.
  std::function<std::vector<Tensor>(DType)> make_inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  GradcheckOptions tolerance = {};
};

std::vector<OpSample> samples_elementwise();
std::vector<OpSample> samples_movement();
std::vector<OpSample> samples_reduce();
std::vector<OpSample> samples_index();
std::vector<OpSample> samples_matmul();
std::vector<OpSample> samples_random();
std::vector<OpSample> samples_loss();
std::vector<OpSample> samples_pool();
std::vector<OpSample> samples_embedding();
std::vector<OpSample> samples_conv();
std::vector<OpSample> samples_norm();
std::vector<OpSample> samples_resample();
std::vector<OpSample> samples_rnn();

// All of the above.
const std::vector<OpSample>& all_op_samples();

// Helpers for writing samples.
Tensor sample_tensor(const Shape& shape, DType dtype, uint64_t seed, double low = -1.0, double high = 1.0,
                     bool requires_grad = true);

}  // namespace strata::testing
