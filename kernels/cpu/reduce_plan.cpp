// Sorting, dropping and merging dims for the reduction kernels (see reduce_plan.h).
#include "kernels/cpu/reduce_plan.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace strata::kernels::cpu {

ReducePlan plan_reduction(const Tensor& x, const Tensor& out) {
  struct Dim {
    int64_t size, in, out;
    bool reduced;
  };
  std::vector<Dim> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.size(d) == 1) continue;
    dims.push_back({x.size(d), x.stride(d), out.stride(d), out.size(d) == 1});
  }
  // Outermost first: larger strides first, stride 0 (broadcast) before everything.
  auto key = [](const Dim& d) { return d.in == 0 ? std::numeric_limits<int64_t>::max() : d.in; };
  std::stable_sort(dims.begin(), dims.end(), [&](const Dim& a, const Dim& b) { return key(a) > key(b); });

  ReducePlan p;
  // Merge an inner dim into its outer neighbour when they are of the same kind and the outer one
  // steps exactly over the inner one in x (and, for kept dims, in out).
  std::vector<Dim> merged;
  for (const Dim& d : dims) {
    if (!merged.empty()) {
      Dim& o = merged.back();
      const bool same_kind = o.reduced == d.reduced;
      const bool in_ok = o.in == d.in * d.size;
      const bool out_ok = d.reduced || o.out == d.out * d.size;
      if (same_kind && in_ok && out_ok) {
        o.size *= d.size;
        o.in = d.in;
        o.out = d.out;
        continue;
      }
    }
    merged.push_back(d);
  }
  for (const Dim& d : merged) {
    if (d.reduced) {
      p.red_size.push_back(d.size);
      p.red_in.push_back(d.in);
      p.n_red *= d.size;
    } else {
      p.kept_size.push_back(d.size);
      p.kept_in.push_back(d.in);
      p.kept_out.push_back(d.out);
      p.n_out *= d.size;
    }
  }
  // Columns need a kept run wide enough to fill a vector; narrower ones (sums over dim 0 of
  // [n, 3]) are cheaper as strided runs in the row engine than as rows of three.
  p.columns = !merged.empty() && !merged.back().reduced && merged.back().in == 1 && merged.back().size >= 8 &&
              !p.red_size.empty();
  return p;
}

}  // namespace strata::kernels::cpu
