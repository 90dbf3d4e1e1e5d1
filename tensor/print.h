#pragma once
// Printing tensors the way PyTorch does, so a print-out reads the same in both worlds:
//
//   std::cout << strata::tensor({1.f, 2.5f, 3.f, 4.f}, {2, 2}) << "\n";
//   tensor([[1.0000, 2.5000],
//           [3.0000, 4.0000]])
//
// One format for every element of a tensor: integers as integers, whole floats as "1.",
// other floats with `precision` decimals, or scientific notation when the magnitudes span more
// than 1000x or leave [1e-4, 1e8]; columns are right-aligned. Tensors over `threshold` elements
// are summarized: `edgeitems` items at each end of every dim and "..." between. A suffix
// lists what is not the default: device='cuda:0', dtype=f16 (f32, i64 and bool show by their
// digits), shape=[0, 3] for empty tensors, grad_fn=<MulBackward> or requires_grad=True.
// A semantic tensor prints its type's name instead of "tensor": TensorImage([[...]]).
// Tensor::str() and fmt::format("{}", t) give the same text with default options.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "tensor/tensor.h"

namespace strata {

// torch.set_printoptions, as a value instead of global state.
struct PrintOptions {
  int precision = 4;                // digits after the decimal point
  int64_t threshold = 1000;         // summarize tensors with more elements than this
  int64_t edgeitems = 3;            // items kept at each end of a summarized dim
  int64_t linewidth = 80;           // characters per line before wrapping a row
  std::optional<bool> sci_mode;     // force (true) or forbid (false) scientific notation
};

std::string format_tensor(const Tensor& t, const PrintOptions& options = {});

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace strata
