// CUDA layer norm and group norm (CudaTable::layer_norm_* / group_norm_*, kernels/norm.h): our own
// kernels, with the CPU kernels' semantics (kernels/cpu/norm.cpp) and formulas.
//
// Both normalize contiguous rows (layer norm: the D values of a row; group norm: the C / groups
// channels x S positions of one (sample, group)), so both run one team per row
// (norm_common.cuh): a warp for rows of at most kWarpRowMax values, a 512-thread block above,
// grid-stride over the rows. Statistics are two-pass in double (the row is re-read from L1/L2).
//
// Backward, with deterministic parameter gradients (fixed-order sums, no float atomics):
//   - layer norm: dx per row (team sums of g*w and g*w*(x - mean)); dweight/dbias are column
//     sums over the rows: a [ceil(D/32), K] grid of 32 x 8 blocks, block (j, k) summing 32
//     columns over the k-th of K row chunks (coalesced row reads), the 8 row-strided partials
//     added in order in shared memory into a [K, D] double buffer, then one thread per column
//     adds its K partials in order;
//   - group norm: per (sample, channel) sums of g and g*(x - mean) (a team per channel plane)
//     into an [N, C] double buffer; dx per row from those; dweight/dbias per channel summing the
//     buffer over N in order.
#include <algorithm>

#include "kernels/cuda/device_ptr.h"
#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/norm_common.cuh"
#include "kernels/norm.h"

namespace strata::cuda {
namespace {

using norm::Acc;
using norm::kBlockTeam;
using norm::kWarp;

constexpr int64_t kWarpRowMax = 1024;  // rows up to this length get one warp each
constexpr int kColumnRows = 8;         // column-sum blocks: 32 columns x 8 row lanes
constexpr int64_t kColumnChunkRows = 256;
constexpr int64_t kMaxColumnChunks = 256;
constexpr unsigned kMaxBlocks = 132 * 16;

template <class A>
const A* ptr_or_null(const Tensor& t) {
  return t.defined() ? dptr<A>(t) : nullptr;
}
template <class A>
A* mut_ptr_or_null(const Tensor& t) {
  return t.defined() ? dptr<A>(t) : nullptr;
}

// Thread layout of a row kernel with team size kTeam: the team's index within the block and the
// thread's lane within its team.
template <int kTeam>
struct TeamIndex {
  int team, lane, teams_per_block;
  __device__ TeamIndex()
      : team(threadIdx.x / kTeam), lane(threadIdx.x % kTeam), teams_per_block(blockDim.x / kTeam) {}
};

// Launches kernel<kTeam> over `rows` rows of `row_length` values: warp teams (8 per 256-thread
// block) or block teams of kBlockTeam threads.
template <class Launch>
void launch_rows(int64_t rows, int64_t row_length, Launch&& launch) {
  if (rows == 0) return;
  if (row_length <= kWarpRowMax) {
    constexpr int kTeams = kThreads / kWarp;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>((rows + kTeams - 1) / kTeams, kMaxBlocks));
    launch(std::integral_constant<int, kWarp>{}, grid, kThreads);
  } else {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows, kMaxBlocks));
    launch(std::integral_constant<int, kBlockTeam>{}, grid, kBlockTeam);
  }
}

// ---- layer norm ----

template <class T, int kTeam>
__global__ void layer_forward_kernel(const T* x, T* y, int64_t rows, int64_t d, const Acc<T>* w, const Acc<T>* b,
                                     double eps, Acc<T>* mean, Acc<T>* rstd) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const TeamIndex<kTeam> ti;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * ti.teams_per_block + ti.team; r < rows;
       r += static_cast<int64_t>(gridDim.x) * ti.teams_per_block) {
    const T* xr = x + r * d;
    T* yr = y + r * d;
    const norm::RowStats st = norm::row_stats<kTeam>(xr, d, ti.lane, smem);
    const A m = static_cast<A>(st.mean), rs = static_cast<A>(kernels::norm_inv_std(st.var, eps));
    if (ti.lane == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
    for (int64_t i = ti.lane; i < d; i += kTeam) {
      A v = (static_cast<A>(xr[i]) - m) * rs;
      if (w) v = v * w[i];
      if (b) v = v + b[i];
      yr[i] = static_cast<T>(v);
    }
  }
}

// dx of each row: dx = g*w*r + (x - m)*kx + c with kx = -r^3 Σ g w (x - m) / D, c = -r Σ g w / D.
template <class T, int kTeam>
__global__ void layer_backward_dx_kernel(const T* g, const T* x, T* dx, int64_t rows, int64_t d, const Acc<T>* w,
                                         const Acc<T>* mean, const Acc<T>* rstd) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const TeamIndex<kTeam> ti;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * ti.teams_per_block + ti.team; r < rows;
       r += static_cast<int64_t>(gridDim.x) * ti.teams_per_block) {
    const T* gr = g + r * d;
    const T* xr = x + r * d;
    const A m = mean[r], rs = rstd[r];
    double sa, sb;
    norm::team_sums2<kTeam>(
        d, ti.lane, smem,
        [&](int64_t i, double& a, double& bb) {
          const A gw = w ? static_cast<A>(gr[i]) * w[i] : static_cast<A>(gr[i]);
          a += static_cast<double>(gw);
          bb += static_cast<double>(gw) * (static_cast<double>(static_cast<A>(xr[i])) - static_cast<double>(m));
        },
        &sa, &sb);
    const kernels::RowNormGradCoeffs k = kernels::row_norm_grad_coeffs(rs, sa, sb, static_cast<double>(d));
    const A kx = static_cast<A>(k.kx), c = static_cast<A>(k.c);
    T* dr = dx + r * d;
    for (int64_t i = ti.lane; i < d; i += kTeam) {
      const A gv = w ? static_cast<A>(gr[i]) * w[i] : static_cast<A>(gr[i]);
      dr[i] = static_cast<T>(gv * rs + (static_cast<A>(xr[i]) - m) * kx + c);
    }
  }
}

// Partial column sums of g*(x - mean)*rstd and g over the row chunk blockIdx.y of K: block
// (32, kColumnRows); partial[k * D + j] (dweight) and partial[(K + k) * D + j] (dbias).
template <class T>
__global__ void layer_backward_columns_kernel(const T* g, const T* x, int64_t rows, int64_t d, const Acc<T>* mean,
                                              const Acc<T>* rstd, bool want_w, bool want_b, double* partial) {
  __shared__ double sw[kColumnRows][kWarp];
  __shared__ double sb[kColumnRows][kWarp];
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kWarp + threadIdx.x;
  const int64_t k = blockIdx.y, chunks = gridDim.y;
  const int64_t lo = rows * k / chunks, hi = rows * (k + 1) / chunks;
  double aw = 0, ab = 0;
  if (j < d) {
    for (int64_t r = lo + threadIdx.y; r < hi; r += kColumnRows) {
      const double gv = static_cast<double>(g[r * d + j]);
      if (want_w)
        aw += gv * (static_cast<double>(x[r * d + j]) - static_cast<double>(mean[r])) * static_cast<double>(rstd[r]);
      ab += gv;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && j < d) {
    double tw = 0, tb = 0;
    for (int q = 0; q < kColumnRows; ++q) {
      tw += sw[q][threadIdx.x];
      tb += sb[q][threadIdx.x];
    }
    if (want_w) partial[k * d + j] = tw;
    if (want_b) partial[(chunks + k) * d + j] = tb;
  }
}

// Column j of dweight/dbias: its K partials added in order.
template <class A>
__global__ void finish_columns_kernel(const double* partial, int64_t chunks, int64_t d, A* dw, A* db) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < d; j += step) {
    double tw = 0, tb = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      if (dw) tw += partial[k * d + j];
      if (db) tb += partial[(chunks + k) * d + j];
    }
    if (dw) dw[j] = static_cast<A>(tw);
    if (db) db[j] = static_cast<A>(tb);
  }
}

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, const Tensor& out,
                        const Tensor& mean, const Tensor& rstd) {
  const int64_t rows = x.size(0), d = x.size(1);
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "layer_norm", [&]<class T>() {
    using A = Acc<T>;
    launch_rows(rows, d, [&](auto team, unsigned grid, int threads) {
      layer_forward_kernel<T, decltype(team)::value><<<grid, threads, 0, stream>>>(
          dptr<T>(x), dptr<T>(out), rows, d, ptr_or_null<A>(weight), ptr_or_null<A>(bias), eps, dptr<A>(mean),
          dptr<A>(rstd));
      STRATA_CUDA_LAUNCH_CHECK(stream);
    });
  });
}

void layer_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  const int64_t rows = x.size(0), d = x.size(1);
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "layer_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    if (dx.defined()) {
      launch_rows(rows, d, [&](auto team, unsigned grid, int threads) {
        layer_backward_dx_kernel<T, decltype(team)::value><<<grid, threads, 0, stream>>>(
            dptr<T>(grad), dptr<T>(x), dptr<T>(dx), rows, d, ptr_or_null<A>(weight), dptr<A>(mean),
            dptr<A>(rstd));
        STRATA_CUDA_LAUNCH_CHECK(stream);
      });
    }
    if ((!dweight.defined() && !dbias.defined()) || d == 0) return;
    const int64_t chunks = std::clamp<int64_t>((rows + kColumnChunkRows - 1) / kColumnChunkRows, 1, kMaxColumnChunks);
    const Tensor partial = empty({2 * chunks * d}, {.dtype = DType::F64, .device = x.device()});
    const dim3 grid(static_cast<unsigned>((d + kWarp - 1) / kWarp), static_cast<unsigned>(chunks));
    layer_backward_columns_kernel<T><<<grid, dim3(kWarp, kColumnRows), 0, stream>>>(
        dptr<T>(grad), dptr<T>(x), rows, d, dptr<A>(mean), dptr<A>(rstd), dweight.defined(), dbias.defined(),
        dptr<double>(partial));
    STRATA_CUDA_LAUNCH_CHECK(stream);
    finish_columns_kernel<A><<<grid_for(d, kThreads), kThreads, 0, stream>>>(
        dptr<double>(partial), chunks, d, mut_ptr_or_null<A>(dweight), mut_ptr_or_null<A>(dbias));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

// ---- group norm ----

// x = [N, C, S] with C = groups * cg: row r = n * groups + gi holds cg * S contiguous values.
struct GroupShape {
  int64_t n, c, s, groups, cg, row;
  __host__ __device__ int64_t rows() const { return n * groups; }
};

GroupShape group_shape(const Tensor& x, int64_t groups) {
  const int64_t c = x.size(1), cg = groups > 0 ? c / groups : 0;
  return {x.size(0), c, x.size(2), groups, cg, cg * x.size(2)};
}

template <class T, int kTeam>
__global__ void group_forward_kernel(const T* x, T* y, GroupShape gs, const Acc<T>* w, const Acc<T>* b, double eps,
                                     Acc<T>* mean, Acc<T>* rstd) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const TeamIndex<kTeam> ti;
  const int64_t rows = gs.rows();
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * ti.teams_per_block + ti.team; r < rows;
       r += static_cast<int64_t>(gridDim.x) * ti.teams_per_block) {
    const T* xr = x + r * gs.row;
    T* yr = y + r * gs.row;
    const norm::RowStats st = norm::row_stats<kTeam>(xr, gs.row, ti.lane, smem);
    const A m = static_cast<A>(st.mean), rs = static_cast<A>(kernels::norm_inv_std(st.var, eps));
    if (ti.lane == 0) {
      mean[r] = m;
      rstd[r] = rs;
    }
    const int64_t c0 = (r % gs.groups) * gs.cg;
    for (int64_t i = ti.lane; i < gs.row; i += kTeam) {
      const int64_t c = c0 + i / gs.s;
      const A a = w ? rs * w[c] : rs;
      yr[i] = static_cast<T>((static_cast<A>(xr[i]) - m) * a + (b ? b[c] : A(0)));
    }
  }
}

// Per (sample, channel) plane p = n * C + c of S values: sg[p] = Σ g, sgx[p] = Σ g (x - mean).
template <class T, int kTeam>
__global__ void group_plane_sums_kernel(const T* g, const T* x, GroupShape gs, const Acc<T>* mean, double* sg,
                                        double* sgx) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const TeamIndex<kTeam> ti;
  const int64_t planes = gs.n * gs.c;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * ti.teams_per_block + ti.team; p < planes;
       p += static_cast<int64_t>(gridDim.x) * ti.teams_per_block) {
    const int64_t r = (p / gs.c) * gs.groups + (p % gs.c) / gs.cg;
    const double m = static_cast<double>(mean[r]);
    const T* gp = g + p * gs.s;
    const T* xp = x + p * gs.s;
    double a, b;
    norm::team_sums2<kTeam>(
        gs.s, ti.lane, smem,
        [&](int64_t i, double& sa, double& sb) {
          const double gv = static_cast<double>(static_cast<A>(gp[i]));
          sa += gv;
          sb += gv * (static_cast<double>(static_cast<A>(xp[i])) - m);
        },
        &a, &b);
    if (ti.lane == 0) {
      sg[p] = a;
      sgx[p] = b;
    }
  }
}

// dx of each row from the plane sums: dx = g * r * w_c + (x - m) * kx + c0.
template <class T, int kTeam>
__global__ void group_backward_dx_kernel(const T* g, const T* x, T* dx, GroupShape gs, const Acc<T>* w,
                                         const Acc<T>* mean, const Acc<T>* rstd, const double* sg,
                                         const double* sgx) {
  using A = Acc<T>;
  __shared__ double smem[norm::kMaxWarpsPerBlock];
  const TeamIndex<kTeam> ti;
  const int64_t rows = gs.rows();
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * ti.teams_per_block + ti.team; r < rows;
       r += static_cast<int64_t>(gridDim.x) * ti.teams_per_block) {
    const int64_t c0 = (r % gs.groups) * gs.cg;
    const int64_t first = (r / gs.groups) * gs.c + c0;  // plane of (n, c0)
    double a, b;
    norm::team_sums2<kTeam>(
        gs.cg, ti.lane, smem,
        [&](int64_t ci, double& sa, double& sb) {
          const double wc = w ? static_cast<double>(w[c0 + ci]) : 1.0;
          sa += wc * sg[first + ci];
          sb += wc * sgx[first + ci];
        },
        &a, &b);
    const A m = mean[r], rs = rstd[r];
    const kernels::RowNormGradCoeffs k = kernels::row_norm_grad_coeffs(rs, a, b, static_cast<double>(gs.row));
    const A kx = static_cast<A>(k.kx), cst = static_cast<A>(k.c);
    const T* gr = g + r * gs.row;
    const T* xr = x + r * gs.row;
    T* dr = dx + r * gs.row;
    for (int64_t i = ti.lane; i < gs.row; i += kTeam) {
      const int64_t c = c0 + i / gs.s;
      const A kg = w ? rs * w[c] : rs;
      dr[i] = static_cast<T>(static_cast<A>(gr[i]) * kg + (static_cast<A>(xr[i]) - m) * kx + cst);
    }
  }
}

// dweight[c] = Σ_n rstd[n, group(c)] * sgx[n, c], dbias[c] = Σ_n sg[n, c], n in order.
template <class A>
__global__ void group_param_grads_kernel(GroupShape gs, const A* rstd, const double* sg, const double* sgx, A* dw,
                                         A* db) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < gs.c; c += step) {
    double tw = 0, tb = 0;
    for (int64_t n = 0; n < gs.n; ++n) {
      tw += static_cast<double>(rstd[n * gs.groups + c / gs.cg]) * sgx[n * gs.c + c];
      tb += sg[n * gs.c + c];
    }
    if (dw) dw[c] = static_cast<A>(tw);
    if (db) db[c] = static_cast<A>(tb);
  }
}

void group_norm_forward(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, double eps,
                        const Tensor& out, const Tensor& mean, const Tensor& rstd) {
  const GroupShape gs = group_shape(x, groups);
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "group_norm", [&]<class T>() {
    using A = Acc<T>;
    launch_rows(gs.rows(), gs.row, [&](auto team, unsigned grid, int threads) {
      group_forward_kernel<T, decltype(team)::value><<<grid, threads, 0, stream>>>(
          dptr<T>(x), dptr<T>(out), gs, ptr_or_null<A>(weight), ptr_or_null<A>(bias), eps, dptr<A>(mean),
          dptr<A>(rstd));
      STRATA_CUDA_LAUNCH_CHECK(stream);
    });
  });
}

void group_norm_backward(const Tensor& grad, const Tensor& x, int64_t groups, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  const GroupShape gs = group_shape(x, groups);
  if (gs.c == 0) return;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = stream_for(x.device());
  visit_floating(x.dtype(), "group_norm_backward", [&]<class T>() {
    using A = Acc<T>;
    const int64_t planes = gs.n * gs.c;
    const Tensor sums = empty({std::max<int64_t>(2 * planes, 1)}, {.dtype = DType::F64, .device = x.device()});
    double* sg = dptr<double>(sums);
    double* sgx = sg + planes;
    launch_rows(planes, gs.s, [&](auto team, unsigned grid, int threads) {
      group_plane_sums_kernel<T, decltype(team)::value><<<grid, threads, 0, stream>>>(dptr<T>(grad), dptr<T>(x),
                                                                                      gs, dptr<A>(mean), sg, sgx);
      STRATA_CUDA_LAUNCH_CHECK(stream);
    });
    if (dx.defined()) {
      // The team also sums over the cg channels of a row: a warp suffices unless rows are long.
      launch_rows(gs.rows(), gs.row, [&](auto team, unsigned grid, int threads) {
        group_backward_dx_kernel<T, decltype(team)::value><<<grid, threads, 0, stream>>>(
            dptr<T>(grad), dptr<T>(x), dptr<T>(dx), gs, ptr_or_null<A>(weight), dptr<A>(mean), dptr<A>(rstd),
            sg, sgx);
        STRATA_CUDA_LAUNCH_CHECK(stream);
      });
    }
    if (!dweight.defined() && !dbias.defined()) return;
    group_param_grads_kernel<A><<<grid_for(gs.c, kThreads), kThreads, 0, stream>>>(
        gs, dptr<A>(rstd), sg, sgx, mut_ptr_or_null<A>(dweight), mut_ptr_or_null<A>(dbias));
    STRATA_CUDA_LAUNCH_CHECK(stream);
  });
}

const bool g_registered = register_kernels([](kernels::CudaTable& t) {
  t.layer_norm_forward = &layer_norm_forward;
  t.layer_norm_backward = &layer_norm_backward;
  t.group_norm_forward = &group_norm_forward;
  t.group_norm_backward = &group_norm_backward;
});

}  // namespace
}  // namespace strata::cuda
