// CPU batch norm, forward and backward, over x = [N, C, S] contiguous.
//
// Two layouts, two loop shapes:
//   - run path (S >= kColumnMinS): channel c is N runs of S contiguous values. Its M = N * S values
//     split into K chunks of at most kChunk (K from the shape only); each chunk gives two-pass
//     moments (forward) or gradient sums (backward), merged in chunk order. When there are
//     enough channels for the threads, one task owns a whole channel and runs statistics and the
//     elementwise pass back to back, so the second read of the channel comes from cache rather
//     than memory (the channel of a [32, 64, 56, 56] f32 input is 400 KB). With few channels,
//     tasks are (channel, chunk) pairs in two phases. Both schedules compute the same numbers.
//   - column path (small S, e.g. an [N, C] input): a run is too short to vectorize, so rows of
//     W = C * S values are summed column-wise over K row chunks (vectorized across columns) and
//     the S columns of a channel merge afterwards, again in a fixed order.
//
// Fused ReLU (batch_norm_relu, template flag Relu): the same schedules; the forward's output pass
// writes relu((x - mean) * a + b) instead of a separate relu pass over y, and the backward's two
// passes read the incoming gradient through the mask pre-activation > 0, recomputed from x, mean,
// a = invstd * w and b exactly as the forward computed it (kernels/norm_functors.h), so neither
// the ReLU's output nor the masked gradient is ever stored. For the reference CNN's activations
// ([128, 32, 28, 28], [128, 64, 14, 14], [128, 128, 7, 7]) this removes one read + one write pass
// (forward) and two reads + one write pass (backward) per layer.
// Measured 2026-11-24 (shared 2-core machine, STRATA_NUM_THREADS=1, CPU time, interleaved, best of 3):
//   build/bench/bench_norm --benchmark_filter='BM_BatchNormReluCnnFwdBwd/[01]/'   ([128, 32, 28, 28] f32
//     training, forward + backward): relu(batch_norm) 8.73 ms -> batch_norm_relu 6.81 ms (1.28x)
//   STRATA_BENCH_PEER=0 STRATA_FUSION=0|1 build/bench/bench_fashion_cnn (training epoch CPU time):
//     57.09 s -> 55.26 s (-3.2%; pairs 60.09/57.37, 58.16/56.12, 57.09/55.26), same loss and
//     accuracy, peak RSS 687 -> 646 MiB (no BatchNorm outputs kept for the ReLU's backward).
#include <cmath>
#include <vector>

#include "kernels/cpu/norm_common.h"
#include "kernels/cpu/parallel.h"
#include "kernels/norm.h"
#include "kernels/norm_functors.h"

namespace strata::kernels::cpu {
namespace {

using norm::Acc;
using norm::ceil_div;
using norm::Moments;
using kernels::batch_norm_pre_activation;
using kernels::batch_norm_relu_masked_grad;
using kernels::batch_norm_relu_value;

constexpr int64_t kColumnMinS = 16;    // shorter runs take the column path
constexpr int64_t kMaxRowChunks = 64;  // column path: at most this many partial rows of sums
constexpr int64_t kTaskElements = 32768;  // a parallel task should touch at least this many values

template <class A>
const A* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<A>() : nullptr;
}
template <class A>
A* mut_ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<A>() : nullptr;
}

// Gradient coefficients of one channel: dx = g * kg + (x - mean) * kx + c0 (kernels/norm_functors.h).
using GradCoeffs = BatchNormGradCoeffs;
GradCoeffs grad_coeffs(double w, double invstd, double sg, double sgx, double count, bool training) {
  return batch_norm_grad_coeffs(w, invstd, sg, sgx, count, training);
}

// ---- run path ----

// Channel c's M = N * S values in n-major order, split into K chunks.
struct ChannelChunks {
  int64_t n, c, s, m, k;
  ChannelChunks(int64_t n_, int64_t c_, int64_t s_) : n(n_), c(c_), s(s_), m(n_ * s_) {
    k = std::max<int64_t>(1, ceil_div(m, norm::kChunk));
  }
  int64_t lo(int64_t chunk) const { return m * chunk / k; }
  // f(offset into x, length) for each contiguous run of channel ch's values [lo, hi).
  template <class F>
  void runs(int64_t ch, int64_t lo, int64_t hi, F&& f) const {
    int64_t row = lo / s, pos = lo % s;
    while (lo < hi) {
      const int64_t len = std::min(s - pos, hi - lo);
      f((row * c + ch) * s + pos, len);
      lo += len;
      ++row;
      pos = 0;
    }
  }
  // One task per channel when there are enough channels to keep every thread busy.
  bool per_channel() const { return k == 1 || c >= 2 * get_num_threads(); }
  int64_t channel_grain() const { return std::max<int64_t>(1, kTaskElements / std::max<int64_t>(m, 1)); }
  // Whether outputs of element type T are large enough to bypass the cache (norm::kStreamBytes).
  template <class T>
  bool stream() const {
    return m * c * static_cast<int64_t>(sizeof(T)) >= norm::kStreamBytes;
  }
};

template <class T, bool Relu>
void forward_runs(const T* x, T* y, const ChannelChunks& ch, bool compute_stats, double eps, Acc<T>* mean,
                  Acc<T>* invstd, Acc<T>* var, const Acc<T>* w, const Acc<T>* b) {
  using A = Acc<T>;
  auto chunk_moments = [&](int64_t c, int64_t k) {
    return norm::two_pass_moments(x, [&](auto&& f) { ch.runs(c, ch.lo(k), ch.lo(k + 1), f); });
  };
  auto set_stats = [&](int64_t c, const Moments& mo) {
    const double v = mo.biased_var();
    mean[c] = static_cast<A>(mo.mean);
    var[c] = static_cast<A>(v);
    invstd[c] = static_cast<A>(norm_inv_std(v, eps));
  };
  const bool stream = ch.stream<T>();
  auto normalize_range = [&](int64_t c, int64_t lo, int64_t hi) {
    const A m = mean[c], a = w ? invstd[c] * w[c] : invstd[c], shift = b ? b[c] : A(0);
    ch.runs(c, lo, hi, [&](int64_t off, int64_t len) {
      if constexpr (Relu) norm::normalize_relu(x + off, y + off, len, m, a, shift, stream);
      else norm::normalize(x + off, y + off, len, m, a, shift, stream);
    });
    if (stream) norm::stream_fence();
  };

  if (ch.per_channel()) {
    parallel_for(0, ch.c, ch.channel_grain(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        if (compute_stats) {
          Moments total;
          for (int64_t k = 0; k < ch.k; ++k) total.merge(chunk_moments(c, k));
          set_stats(c, total);
        }
        normalize_range(c, 0, ch.m);
      }
    });
    return;
  }
  const int64_t tasks = ch.c * ch.k;
  if (compute_stats) {
    std::vector<Moments> parts(tasks);
    parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) parts[t] = chunk_moments(t / ch.k, t % ch.k);
    });
    for (int64_t c = 0; c < ch.c; ++c) {
      Moments total;
      for (int64_t k = 0; k < ch.k; ++k) total.merge(parts[c * ch.k + k]);
      set_stats(c, total);
    }
  }
  parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) normalize_range(t / ch.k, ch.lo(t % ch.k), ch.lo(t % ch.k + 1));
  });
}

// g_per_run: g holds one value per (n, c) run (a gradient broadcast over the spatial dims), read
// as g[offset / S]; the sums and dx then need x alone: Σ g (x - m) = g Σ (x - m), and
// dx = (x - m) * kx + (g * kg + c0) is a normalize. Relu: g is masked by the forward's ReLU
// (never per run), recomputed with the bias b.
template <class T, bool Relu>
void backward_runs(const T* g, bool g_per_run, const T* x, T* dx, const ChannelChunks& ch, bool training,
                   const Acc<T>* mean, const Acc<T>* invstd, const Acc<T>* w, const Acc<T>* b, Acc<T>* dw,
                   Acc<T>* db) {
  using A = Acc<T>;
  // The forward's affine coefficients of channel c (the ReLU mask's inputs).
  auto scale = [&](int64_t c) { return w ? invstd[c] * w[c] : invstd[c]; };
  auto shift = [&](int64_t c) { return b ? b[c] : A(0); };
  const bool need_sums = (training && dx) || dw || db;
  struct Sums {
    double g = 0, gx = 0;
  };
  auto chunk_sums = [&](int64_t c, int64_t k) {
    Sums s;
    ch.runs(c, ch.lo(k), ch.lo(k + 1), [&](int64_t off, int64_t len) {
      if constexpr (Relu) {
        norm::masked_grad_sums(g + off, x + off, len, mean[c], scale(c), shift(c), &s.g, &s.gx);
      } else if (g_per_run) {
        const double gv = static_cast<double>(g[off / ch.s]);
        double d = 0, q = 0;
        norm::centered_sums(x + off, len, mean[c], &d, &q);
        s.g += gv * static_cast<double>(len);
        s.gx += gv * d;
      } else {
        norm::grad_sums(g + off, x + off, len, mean[c], &s.g, &s.gx);
      }
    });
    return s;
  };
  // Writes dweight/dbias of channel c and returns its dx coefficients.
  auto finish_channel = [&](int64_t c, const Sums& s) {
    if (dw) dw[c] = static_cast<A>(s.gx * invstd[c]);
    if (db) db[c] = static_cast<A>(s.g);
    return grad_coeffs(w ? w[c] : 1.0, invstd[c], s.g, s.gx, static_cast<double>(ch.m), training);
  };
  const bool stream = ch.stream<T>();
  auto grad_range = [&](int64_t c, const GradCoeffs& k, int64_t lo, int64_t hi) {
    ch.runs(c, lo, hi, [&](int64_t off, int64_t len) {
      if constexpr (Relu) {
        norm::masked_grad_input(g + off, x + off, dx + off, len, mean[c], scale(c), shift(c), static_cast<A>(k.kg),
                                static_cast<A>(k.kx), static_cast<A>(k.c0), stream);
      } else if (g_per_run) {
        const double shift_g = static_cast<double>(g[off / ch.s]) * k.kg + k.c0;
        norm::normalize(x + off, dx + off, len, mean[c], static_cast<A>(k.kx), static_cast<A>(shift_g), stream);
      } else {
        norm::grad_input(g + off, x + off, dx + off, len, mean[c], static_cast<A>(k.kg), static_cast<A>(k.kx),
                         static_cast<A>(k.c0), stream);
      }
    });
    if (stream) norm::stream_fence();
  };

  if (ch.per_channel()) {
    parallel_for(0, ch.c, ch.channel_grain(), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        Sums total;
        if (need_sums) {
          for (int64_t k = 0; k < ch.k; ++k) {
            const Sums s = chunk_sums(c, k);
            total.g += s.g;
            total.gx += s.gx;
          }
        }
        const GradCoeffs k = finish_channel(c, total);
        if (dx) grad_range(c, k, 0, ch.m);
      }
    });
    return;
  }
  const int64_t tasks = ch.c * ch.k;
  std::vector<Sums> parts(tasks);
  if (need_sums) {
    parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) parts[t] = chunk_sums(t / ch.k, t % ch.k);
    });
  }
  std::vector<GradCoeffs> coeffs(ch.c);
  for (int64_t c = 0; c < ch.c; ++c) {
    Sums total;
    for (int64_t k = 0; k < ch.k; ++k) {
      total.g += parts[c * ch.k + k].g;
      total.gx += parts[c * ch.k + k].gx;
    }
    coeffs[c] = finish_channel(c, total);
  }
  if (!dx) return;
  parallel_for(0, tasks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c = t / ch.k, k = t % ch.k;
      grad_range(c, coeffs[c], ch.lo(k), ch.lo(k + 1));
    }
  });
}

// ---- column path ----

// x as rows of W = C * S values; K row chunks, at most kMaxRowChunks.
struct RowChunks {
  int64_t rows, width, s, k;
  RowChunks(int64_t n, int64_t c, int64_t s_) : rows(n), width(c * s_), s(s_) {
    k = std::clamp<int64_t>(ceil_div(n * width, norm::kChunk), 1, std::min<int64_t>(std::max<int64_t>(n, 1), kMaxRowChunks));
  }
  int64_t lo(int64_t chunk) const { return rows * chunk / k; }
  int64_t row_grain() const { return std::max<int64_t>(1, kTaskElements / std::max<int64_t>(width, 1)); }
};

// Column-wise two-pass moments of rows [r0, r1), one per column, into out[0..W).
template <class T>
void column_moments(const T* x, int64_t r0, int64_t r1, int64_t width, Moments* out) {
  std::vector<double> acc(width, 0.0), d(width, 0.0), q(width, 0.0);
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * width;
    for (int64_t j = 0; j < width; ++j) acc[j] += static_cast<double>(row[j]);
  }
  const double count = static_cast<double>(r1 - r0);
  for (int64_t j = 0; j < width; ++j) acc[j] /= count;
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * width;
    for (int64_t j = 0; j < width; ++j) {
      const double v = static_cast<double>(row[j]) - acc[j];
      d[j] += v;
      q[j] += v * v;
    }
  }
  for (int64_t j = 0; j < width; ++j) out[j] = {count, acc[j] + d[j] / count, q[j] - d[j] * d[j] / count};
}

// y = (x - m_j) * a_j + b_j with per-column coefficients (Relu: relu of it).
template <class T, bool Relu>
void rows_affine(const T* x, T* y, const RowChunks& rc, const std::vector<Acc<T>>& m, const std::vector<Acc<T>>& a,
                 const std::vector<Acc<T>>& b) {
  using A = Acc<T>;
  parallel_for(0, rc.rows, rc.row_grain(), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * rc.width;
      T* yr = y + r * rc.width;
      for (int64_t j = 0; j < rc.width; ++j) {
        if constexpr (Relu) yr[j] = static_cast<T>(batch_norm_relu_value(static_cast<A>(xr[j]), m[j], a[j], b[j]));
        else yr[j] = static_cast<T>(batch_norm_pre_activation(static_cast<A>(xr[j]), m[j], a[j], b[j]));
      }
    }
  });
}

template <class T, bool Relu>
void forward_columns(const T* x, T* y, const RowChunks& rc, bool compute_stats, double eps, Acc<T>* mean,
                     Acc<T>* invstd, Acc<T>* var, const Acc<T>* w, const Acc<T>* b) {
  using A = Acc<T>;
  const int64_t channels = rc.width / rc.s;
  if (compute_stats) {
    std::vector<Moments> parts(rc.k * rc.width);
    parallel_for(0, rc.k, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) column_moments(x, rc.lo(k), rc.lo(k + 1), rc.width, &parts[k * rc.width]);
    });
    for (int64_t c = 0; c < channels; ++c) {
      Moments total;
      for (int64_t k = 0; k < rc.k; ++k)
        for (int64_t p = 0; p < rc.s; ++p) total.merge(parts[k * rc.width + c * rc.s + p]);
      const double v = total.biased_var();
      mean[c] = static_cast<A>(total.mean);
      var[c] = static_cast<A>(v);
      invstd[c] = static_cast<A>(norm_inv_std(v, eps));
    }
  }
  std::vector<A> mj(rc.width), aj(rc.width), bj(rc.width);
  for (int64_t j = 0; j < rc.width; ++j) {
    const int64_t c = j / rc.s;
    mj[j] = mean[c];
    aj[j] = w ? invstd[c] * w[c] : invstd[c];
    bj[j] = b ? b[c] : A(0);
  }
  rows_affine<T, Relu>(x, y, rc, mj, aj, bj);
}

// Relu: g is masked by the forward's ReLU, recomputed per column from m_j, a_j, b_j.
template <class T, bool Relu>
void backward_columns(const T* g, const T* x, T* dx, const RowChunks& rc, bool training, const Acc<T>* mean,
                      const Acc<T>* invstd, const Acc<T>* w, const Acc<T>* b, Acc<T>* dw, Acc<T>* db) {
  using A = Acc<T>;
  const int64_t channels = rc.width / rc.s;
  const bool need_sums = (training && dx) || dw || db;
  std::vector<double> sg(rc.k * rc.width, 0.0), sgx(rc.k * rc.width, 0.0), column_mean(rc.width);
  for (int64_t j = 0; j < rc.width; ++j) column_mean[j] = static_cast<double>(mean[j / rc.s]);
  std::vector<A> mask_m, mask_a, mask_b;  // the forward's per-column coefficients (Relu only)
  if constexpr (Relu) {
    mask_m.resize(rc.width);
    mask_a.resize(rc.width);
    mask_b.resize(rc.width);
    for (int64_t j = 0; j < rc.width; ++j) {
      const int64_t c = j / rc.s;
      mask_m[j] = mean[c];
      mask_a[j] = w ? invstd[c] * w[c] : invstd[c];
      mask_b[j] = b ? b[c] : A(0);
    }
  }
  // The gradient the batch norm sees at column j.
  auto grad_at = [&](const T* gr, const T* xr, int64_t j) {
    if constexpr (Relu)
      return batch_norm_relu_masked_grad(static_cast<A>(gr[j]), static_cast<A>(xr[j]), mask_m[j], mask_a[j],
                                         mask_b[j]);
    else
      return static_cast<A>(gr[j]);
  };
  if (need_sums) {
    parallel_for(0, rc.k, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        double* pg = &sg[k * rc.width];
        double* pgx = &sgx[k * rc.width];
        for (int64_t r = rc.lo(k); r < rc.lo(k + 1); ++r) {
          const T* gr = g + r * rc.width;
          const T* xr = x + r * rc.width;
          for (int64_t j = 0; j < rc.width; ++j) {
            const double gv = static_cast<double>(grad_at(gr, xr, j));
            pg[j] += gv;
            pgx[j] += gv * (static_cast<double>(xr[j]) - column_mean[j]);
          }
        }
      }
    });
  }
  std::vector<A> mj(rc.width), kgj(rc.width), kxj(rc.width), cj(rc.width);
  const double count = static_cast<double>(rc.rows * rc.s);
  for (int64_t c = 0; c < channels; ++c) {
    double tg = 0, tgx = 0;
    for (int64_t k = 0; k < rc.k; ++k)
      for (int64_t p = 0; p < rc.s; ++p) {
        tg += sg[k * rc.width + c * rc.s + p];
        tgx += sgx[k * rc.width + c * rc.s + p];
      }
    if (dw) dw[c] = static_cast<A>(tgx * invstd[c]);
    if (db) db[c] = static_cast<A>(tg);
    const GradCoeffs k = grad_coeffs(w ? w[c] : 1.0, invstd[c], tg, tgx, count, training);
    for (int64_t p = 0; p < rc.s; ++p) {
      const int64_t j = c * rc.s + p;
      mj[j] = mean[c];
      kgj[j] = static_cast<A>(k.kg);
      kxj[j] = static_cast<A>(k.kx);
      cj[j] = static_cast<A>(k.c0);
    }
  }
  if (!dx) return;
  parallel_for(0, rc.rows, rc.row_grain(), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* gr = g + r * rc.width;
      const T* xr = x + r * rc.width;
      T* dr = dx + r * rc.width;
      for (int64_t j = 0; j < rc.width; ++j)
        dr[j] = static_cast<T>(grad_at(gr, xr, j) * kgj[j] + (static_cast<A>(xr[j]) - mj[j]) * kxj[j] + cj[j]);
    }
  });
}

bool column_path(int64_t s) { return s < kColumnMinS; }

template <bool Relu>
void forward_impl(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                  const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out, const char* op) {
  const int64_t n = x.size(0), c = x.size(1), s = x.size(2);
  visit_floating(x.dtype(), op, [&]<class T>() {
    using A = Acc<T>;
    A* pvar = compute_stats ? var.data<A>() : nullptr;
    if (column_path(s)) {
      forward_columns<T, Relu>(x.data<T>(), out.data<T>(), RowChunks(n, c, s), compute_stats, eps, mean.data<A>(),
                               invstd.data<A>(), pvar, ptr_or_null<A>(weight), ptr_or_null<A>(bias));
    } else {
      forward_runs<T, Relu>(x.data<T>(), out.data<T>(), ChannelChunks(n, c, s), compute_stats, eps, mean.data<A>(),
                            invstd.data<A>(), pvar, ptr_or_null<A>(weight), ptr_or_null<A>(bias));
    }
  });
}

template <bool Relu>
void backward_impl(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                   const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight, const Tensor& dbias,
                   const char* op) {
  const int64_t n = x.size(0), c = x.size(1), s = x.size(2);
  const bool g_per_run = !Relu && grad.size(2) == 1 && s > 1;
  visit_floating(x.dtype(), op, [&]<class T>() {
    using A = Acc<T>;
    T* pdx = dx.defined() ? dx.data<T>() : nullptr;
    if (column_path(s)) {
      // Short runs: a per-run gradient is simply spread out first.
      const Tensor g = g_per_run ? grad.expand(x.shape()).contiguous() : grad;
      backward_columns<T, Relu>(g.data<T>(), x.data<T>(), pdx, RowChunks(n, c, s), training, mean.data<A>(),
                                invstd.data<A>(), ptr_or_null<A>(weight), ptr_or_null<A>(bias),
                                mut_ptr_or_null<A>(dweight), mut_ptr_or_null<A>(dbias));
    } else {
      backward_runs<T, Relu>(grad.data<T>(), g_per_run, x.data<T>(), pdx, ChannelChunks(n, c, s), training,
                             mean.data<A>(), invstd.data<A>(), ptr_or_null<A>(weight), ptr_or_null<A>(bias),
                             mut_ptr_or_null<A>(dweight), mut_ptr_or_null<A>(dbias));
    }
  });
}

}  // namespace

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats, double eps,
                        const Tensor& mean, const Tensor& invstd, const Tensor& var, const Tensor& out) {
  forward_impl<false>(x, weight, bias, compute_stats, eps, mean, invstd, var, out, "batch_norm");
}

void batch_norm_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& invstd, bool training, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  backward_impl<false>(grad, x, weight, Tensor(), mean, invstd, training, dx, dweight, dbias, "batch_norm_backward");
}

void batch_norm_relu_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, bool compute_stats,
                             double eps, const Tensor& mean, const Tensor& invstd, const Tensor& var,
                             const Tensor& out) {
  forward_impl<true>(x, weight, bias, compute_stats, eps, mean, invstd, var, out, "batch_norm_relu");
}

void batch_norm_relu_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Tensor& mean, const Tensor& invstd, bool training, const Tensor& dx,
                              const Tensor& dweight, const Tensor& dbias) {
  backward_impl<true>(grad, x, weight, bias, mean, invstd, training, dx, dweight, dbias, "batch_norm_relu_backward");
}

}  // namespace strata::kernels::cpu
