// TEMPORARY until the reductions family lands: sum over dims via a naive loop (f32/f64 only).
#include "tensor/ops.h"
#include "autograd/grad_mode.h"
#include "autograd/record.h"
namespace strata {
namespace { struct SumBackwardTmp : autograd::Node { Shape in, kept; std::string name() const override { return "SumBackward"; }
  autograd::TensorList apply(autograd::TensorList&& g) override { return {g[0].reshape(kept).expand(in).contiguous()}; } }; }
Tensor sum_impl(const Tensor& x, const Dims& dims, bool keepdim);
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor r = sum_impl(x, dims, keepdim);
  if (autograd::needs_grad({&x})) { auto n = autograd::make_node<SumBackwardTmp>({&x}); n->in = x.shape();
    Shape k; std::vector<bool> red(x.dim(), dims.empty()); for (auto d : dims) red[wrap_dim("sum", d, x.dim())] = true;
    for (int64_t i = 0; i < x.dim(); ++i) k.push_back(red[i] ? 1 : x.size(i)); n->kept = k; autograd::set_history(r, n); }
  return r;
}
Tensor sum_impl(const Tensor& x, const Dims& dims, bool keepdim) {
  NoGradGuard g;
  Tensor c = x.contiguous().to(DType::F64);
  const int64_t nd = x.dim();
  std::vector<bool> red(nd, dims.empty());
  for (auto d : dims) red[wrap_dim("sum", d, nd)] = true;
  Shape os;
  for (int64_t i = 0; i < nd; ++i) os.push_back(red[i] ? 1 : x.size(i));
  Tensor out = zeros(os, {.dtype = DType::F64});
  const double* p = c.data<double>();
  double* o = out.data<double>();
  Strides ost = contiguous_strides(os);
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t off = 0;
    for (int64_t d = 0; d < nd; ++d) if (!red[d]) off += idx[d] * ost[d];
    o[off] += p[i];
    for (int64_t d = nd - 1; d >= 0; --d) { if (++idx[d] < x.size(d)) break; idx[d] = 0; }
  }
  Tensor r = out.to(x.dtype());
  if (!keepdim) { Shape s; for (int64_t i = 0; i < nd; ++i) if (!red[i]) s.push_back(x.size(i)); r = r.reshape(s); }
  return r;
}
}
