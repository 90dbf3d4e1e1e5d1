// Random front ends. Draws are made into a contiguous tensor, then copied where the target is
// a strided view, so a draw consumes the same counters whatever the layout.
#include "tensor/ops/random.h"

#include <algorithm>
#include <mutex>
#include <numeric>

#include "autograd/grad_mode.h"
#include "autograd/record.h"
#include "kernels/random.h"
#include "tensor/ops.h"

namespace strata {
namespace {
std::mutex g_default_mutex;
uint64_t g_initial_seed = 0x5eed;
}  // namespace

uint64_t Generator::reserve(uint64_t blocks) {
  const uint64_t start = offset_;
  offset_ += blocks;
  return start;
}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  seed_ = seed;
  offset_ = offset;
}

Generator& default_generator() {
  static Generator gen(g_initial_seed);
  return gen;
}

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_default_mutex);
  g_initial_seed = seed;
  default_generator().set_state(seed, 0);
}

uint64_t initial_seed() { return g_initial_seed; }

std::pair<uint64_t, uint64_t> reserve_philox(Generator* gen, uint64_t blocks) {
  if (gen) return {gen->seed(), gen->reserve(blocks)};
  std::lock_guard<std::mutex> lock(g_default_mutex);
  Generator& g = default_generator();
  return {g.seed(), g.reserve(blocks)};
}

namespace {

// (seed, first block) for a draw of n elements.
std::pair<uint64_t, uint64_t> reserve_draw(Generator* gen, int64_t n) {
  return reserve_philox(gen, kernels::philox_blocks(n));
}

Tensor draw(const Shape& shape, TensorOptions opts, kernels::Distribution dist, double a, double b, Generator* gen,
            const Tensor& p = Tensor()) {
  Tensor out = empty(shape, {.dtype = opts.dtype, .device = opts.device});
  auto [seed, offset] = reserve_draw(gen, out.numel());
  kernels::random_fill(out, dist, a, b, seed, offset, p);
  if (opts.requires_grad) out.requires_grad_(true);
  return out;
}

void fill_into(Tensor& t, kernels::Distribution dist, double a, double b, Generator* gen) {
  autograd::check_inplace(dist == kernels::Distribution::Normal ? "normal_" : "uniform_", t);
  if (t.is_contiguous()) {
    auto [seed, offset] = reserve_draw(gen, t.numel());
    kernels::random_fill(t, dist, a, b, seed, offset);
  } else {
    Tensor tmp = draw(t.shape(), {.dtype = t.dtype(), .device = t.device()}, dist, a, b, gen);
    NoGradGuard g;
    t.copy_(tmp);
  }
  t.bump_version();
}

}  // namespace

Tensor rand(const Shape& shape, TensorOptions opts, Generator* gen) {
  STRATA_CHECK(is_floating(opts.dtype), DTypeError, "rand: dtype must be floating, got {}", opts.dtype);
  return draw(shape, opts, kernels::Distribution::Uniform, 0.0, 1.0, gen);
}

Tensor randn(const Shape& shape, TensorOptions opts, Generator* gen) {
  STRATA_CHECK(is_floating(opts.dtype), DTypeError, "randn: dtype must be floating, got {}", opts.dtype);
  return draw(shape, opts, kernels::Distribution::Normal, 0.0, 1.0, gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opts, Generator* gen) {
  STRATA_CHECK(high > low, ValueError, "randint: high ({}) must be greater than low ({})", high, low);
  STRATA_CHECK(high - low <= (int64_t{1} << 24), ValueError,
               "randint: range [{}, {}) is wider than 2^24 values", low, high);
  // Uniform in [low, high) drawn in f64 then floored; the kernel floors for integer dtypes.
  Tensor u = draw(shape, {.dtype = DType::F64, .device = opts.device}, kernels::Distribution::Uniform,
                  static_cast<double>(low), static_cast<double>(high), gen);
  NoGradGuard g;
  Tensor f = floor(u);
  return f.to(opts.dtype);
}

Tensor randperm(int64_t n, TensorOptions opts, Generator* gen) {
  STRATA_CHECK(n >= 0, ValueError, "randperm: n must be >= 0, got {}", n);
  // Sort indices by random keys: a uniformly random permutation, reproducible from the seed.
  Tensor keys = draw({n}, {.dtype = DType::F64}, kernels::Distribution::Uniform, 0.0, 1.0, gen);
  const double* k = keys.data<double>();
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [k](int64_t a, int64_t b) { return k[a] < k[b]; });
  return tensor<int64_t>(idx, {n}, {.dtype = opts.dtype, .device = opts.device});
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  STRATA_CHECK(p.is_floating_point(), DTypeError, "bernoulli: p must be floating, got {}", p.dtype());
  Tensor pc = p.contiguous();
  return draw(p.shape(), {.dtype = p.dtype(), .device = p.device()}, kernels::Distribution::Bernoulli, 0, 0, gen, pc);
}

Tensor& uniform_(Tensor& t, double low, double high, Generator* gen) {
  STRATA_CHECK(t.is_floating_point(), DTypeError, "uniform_: tensor must be floating, got {}", t.dtype());
  fill_into(t, kernels::Distribution::Uniform, low, high, gen);
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  STRATA_CHECK(t.is_floating_point(), DTypeError, "normal_: tensor must be floating, got {}", t.dtype());
  STRATA_CHECK(std >= 0, ValueError, "normal_: std must be >= 0, got {}", std);
  fill_into(t, kernels::Distribution::Normal, mean, std, gen);
  return t;
}

}  // namespace strata
