// Samples for the matmul family (kernels/defs/matmul.def): every rank combination of matmul,
// broadcast batch dims, operands that reach the GEMM transposed (a view with strides (1, ld)) or
// copied (a slice with a step), the fused-bias ops with broadcast inputs, and einsum's patterns.
// Inputs are leaves of the stored shape; the sample function makes the views, so gradcheck also
// checks the gradient through them.
#include "support/op_samples.h"

namespace strata::testing {
namespace {

using TL = std::vector<Tensor>;
using Fn = std::function<Tensor(const TL&)>;

// A sample whose inputs are random leaves of `shapes` (seeds 31, 32, ...).
OpSample sample(const std::string& op, const std::string& case_name, std::vector<Shape> shapes, Fn fn) {
  return OpSample{op, case_name,
                  [shapes](DType dt) {
                    TL in;
                    for (size_t i = 0; i < shapes.size(); ++i) in.push_back(sample_tensor(shapes[i], dt, 31 + i));
                    return in;
                  },
                  std::move(fn)};
}

Tensor mT(const Tensor& t) { return t.transpose(-1, -2); }

Fn einsum_fn(const std::string& eq) {
  return [eq](const TL& in) { return einsum(eq, in); };
}

std::vector<OpSample> matmul_samples() {
  auto mm2 = [](const TL& in) { return matmul(in[0], in[1]); };
  return {
      sample("matmul", "1d_1d", {{5}, {5}}, mm2),
      sample("matmul", "2d_1d", {{3, 4}, {4}}, mm2),
      sample("matmul", "1d_2d", {{4}, {4, 5}}, mm2),
      sample("matmul", "2d_2d", {{3, 4}, {4, 5}}, mm2),
      sample("matmul", "3d_1d", {{2, 3, 4}, {4}}, mm2),
      sample("matmul", "1d_3d", {{4}, {2, 4, 5}}, mm2),
      sample("matmul", "3d_2d_folded", {{2, 3, 4}, {4, 5}}, mm2),
      sample("matmul", "2d_3d_broadcast", {{3, 4}, {2, 4, 5}}, mm2),
      sample("matmul", "3d_3d", {{2, 3, 4}, {2, 4, 5}}, mm2),
      sample("matmul", "4d_3d_broadcast", {{2, 1, 3, 4}, {3, 4, 2}}, mm2),
      sample("matmul", "batch_size1_both_sides", {{2, 1, 3, 4}, {1, 3, 4, 5}}, mm2),
      sample("matmul", "transposed_a", {{4, 3}, {4, 5}}, [](const TL& in) { return matmul(in[0].t(), in[1]); }),
      sample("matmul", "transposed_b", {{3, 4}, {5, 4}}, [](const TL& in) { return matmul(in[0], in[1].t()); }),
      sample("matmul", "batched_both_transposed", {{2, 4, 3}, {2, 5, 4}},
             [](const TL& in) { return matmul(mT(in[0]), mT(in[1])); }),
      sample("matmul", "strided_slice_copied", {{3, 8}, {4, 2}},
             [](const TL& in) { return matmul(in[0].slice(1, 0, 8, 2), in[1]); }),
      sample("matmul", "permuted_not_foldable", {{3, 2, 4}, {4, 5}},
             [](const TL& in) { return matmul(in[0].transpose(0, 1), in[1]); }),
      sample("matmul", "k1_outer_like", {{3, 1}, {1, 4}}, mm2),
  };
}

std::vector<OpSample> product_samples() {
  return {
      sample("mm", "3x4_4x5", {{3, 4}, {4, 5}}, [](const TL& in) { return mm(in[0], in[1]); }),
      sample("mm", "both_transposed", {{4, 3}, {5, 4}}, [](const TL& in) { return mm(in[0].t(), in[1].t()); }),
      sample("bmm", "2x3x4_2x4x5", {{2, 3, 4}, {2, 4, 5}}, [](const TL& in) { return bmm(in[0], in[1]); }),
      sample("bmm", "transposed_b", {{3, 2, 4}, {3, 5, 4}}, [](const TL& in) { return bmm(in[0], mT(in[1])); }),
      sample("addmm", "full_c", {{3, 5}, {3, 4}, {4, 5}}, [](const TL& in) { return addmm(in[0], in[1], in[2]); }),
      sample("addmm", "row_c_beta_alpha", {{5}, {3, 4}, {4, 5}},
             [](const TL& in) { return addmm(in[0], in[1], in[2], 0.5, -2.0); }),
      sample("addmm", "column_c_transposed_a", {{3, 1}, {4, 3}, {4, 5}},
             [](const TL& in) { return addmm(in[0], in[1].t(), in[2], 1.5, 1.0); }),
      sample("linear", "2d_bias", {{4, 6}, {3, 6}, {3}}, [](const TL& in) { return linear(in[0], in[1], in[2]); }),
      sample("linear", "3d_bias", {{2, 4, 6}, {3, 6}, {3}}, [](const TL& in) { return linear(in[0], in[1], in[2]); }),
      sample("linear", "3d_no_bias", {{2, 4, 6}, {3, 6}}, [](const TL& in) { return linear(in[0], in[1]); }),
      sample("linear", "1d_input", {{6}, {3, 6}, {3}}, [](const TL& in) { return linear(in[0], in[1], in[2]); }),
      sample("linear", "permuted_input", {{6, 2, 4}, {3, 6}, {3}},
             [](const TL& in) { return linear(in[0].permute({1, 2, 0}), in[1], in[2]); }),
      sample("linear", "transposed_weight", {{4, 6}, {6, 3}, {3}},
             [](const TL& in) { return linear(in[0], in[1].t(), in[2]); }),
      sample("dot", "5", {{5}, {5}}, [](const TL& in) { return dot(in[0], in[1]); }),
      sample("dot", "strided", {{10}, {5}}, [](const TL& in) { return dot(in[0].slice(0, 0, 10, 2), in[1]); }),
      sample("outer", "3_4", {{3}, {4}}, [](const TL& in) { return outer(in[0], in[1]); }),
  };
}

std::vector<OpSample> einsum_samples() {
  return {
      sample("einsum", "ij,jk->ik", {{3, 4}, {4, 5}}, einsum_fn("ij,jk->ik")),
      sample("einsum", "bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, einsum_fn("bij,bjk->bik")),
      sample("einsum", "bij,bkj->bik", {{2, 3, 4}, {2, 5, 4}}, einsum_fn("bij,bkj->bik")),
      sample("einsum", "bhqd,bhkd->bhqk", {{2, 2, 3, 4}, {2, 2, 5, 4}}, einsum_fn("bhqd,bhkd->bhqk")),
      sample("einsum", "ellipsis_broadcast", {{2, 1, 3, 4}, {3, 4, 2}}, einsum_fn("...ij,...jk->...ik")),
      sample("einsum", "ij->ji", {{3, 4}}, einsum_fn("ij->ji")),
      sample("einsum", "ii->i", {{4, 4}}, einsum_fn("ii->i")),
      sample("einsum", "trace_implicit", {{4, 4}}, einsum_fn("ii")),
      sample("einsum", "i,i->", {{5}, {5}}, einsum_fn("i,i->")),
      sample("einsum", "i,j->ij", {{3}, {4}}, einsum_fn("i,j->ij")),
      sample("einsum", "implicit_ij,jk", {{3, 4}, {4, 5}}, einsum_fn("ij,jk")),
      sample("einsum", "sum_single_operand_index", {{3, 4}, {4, 5}}, einsum_fn("ij,kl->ik")),
      sample("einsum", "output_reordered", {{2, 3, 4}, {4, 5}}, einsum_fn("bij,jk->kbi")),
      sample("einsum", "three_operands", {{3, 4}, {4, 5}, {5, 2}}, einsum_fn("ij,jk,kl->il")),
      sample("einsum", "bilinear", {{2, 3}, {4, 3, 5}, {2, 5}}, einsum_fn("bi,oij,bj->bo")),
  };
}

}  // namespace

std::vector<OpSample> samples_matmul() {
  std::vector<OpSample> s = matmul_samples();
  for (auto* family : {product_samples, einsum_samples}) {
    auto more = family();
    s.insert(s.end(), more.begin(), more.end());
  }
  return s;
}

}  // namespace strata::testing
