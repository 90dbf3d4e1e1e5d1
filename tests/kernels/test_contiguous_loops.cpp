// The multi-ISA contiguous loops of the elementwise kernels (kernels/cpu/contiguous.h): the
// vectorized clone the loader picks must give the bits of the per-element functor evaluated one
// element at a time, for every length (vector bodies, remainders), for outputs that start off
// vector alignment (in-place ops on slices), for broadcast scalars on either side, for f32 and
// f64, for compare results (bool), and for 1 or 2 threads. Functors of one operation must match
// exactly; exp, whose polynomial an FMA clone contracts, within 1 ulp.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/functors.h"
#include "strata.h"

namespace strata {
namespace {

Tensor random(int64_t n, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randn({n}, {.dtype = dtype}, &gen);
}

// Bits of f applied element by element (a scalar loop the compiler keeps out of line).
template <class T, class R, class F>
std::vector<R> scalar_reference(const F& f, const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<R> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    volatile T x = a[i], y = b.empty() ? T(0) : b[i];  // defeats vectorization of this loop
    if constexpr (std::is_invocable_v<F, T, T>) {
      out[i] = static_cast<R>(f(T(x), T(y)));
    } else {
      out[i] = static_cast<R>(f(T(x)));
    }
  }
  return out;
}

// Distance in ulps between two floats or doubles of the same sign.
template <class T>
int64_t ulps(T a, T b) {
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  I ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return ia > ib ? static_cast<int64_t>(ia - ib) : static_cast<int64_t>(ib - ia);
}

template <class T>
void expect_within_1ulp(const std::string& what, const Tensor& got, const std::vector<T>& want) {
  const std::vector<T> g = got.to_vector<T>();
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) ASSERT_LE(ulps(g[i], want[i]), 1) << what << " element " << i;
}

template <class R>
void expect_bits(const std::string& what, const Tensor& got, const std::vector<R>& want) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << what;
  const Tensor c = got.contiguous();
  ASSERT_EQ(std::memcmp(c.raw_data(), want.data(), want.size() * sizeof(R)), 0) << what;
}

template <class T>
void check_lengths(DType dt) {
  for (int64_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 1023, 4099}) {
    Tensor a = random(n, dt, 1), b = random(n, dt, 2);
    const std::vector<T> av = a.to_vector<T>(), bv = b.to_vector<T>();
    const std::string tag = std::string(dtype_name(dt)) + " n=" + std::to_string(n);
    expect_bits("add " + tag, a + b, scalar_reference<T, T>(kernels::AddF{}, av, bv));
    expect_bits("mul " + tag, a * b, scalar_reference<T, T>(kernels::MulF{}, av, bv));
    expect_bits("div " + tag, a / b, scalar_reference<T, T>(kernels::DivF{}, av, bv));
    expect_bits("maximum " + tag, maximum(a, b), scalar_reference<T, T>(kernels::MaximumF{}, av, bv));
    expect_within_1ulp("exp " + tag, exp(a), scalar_reference<T, T>(kernels::ExpF{}, av, {}));
    expect_bits("relu " + tag, relu(a), scalar_reference<T, T>(kernels::ReluF{}, av, {}));
    // bool tensors hold 0/1 bytes
    expect_bits("gt " + tag, a > b, scalar_reference<T, uint8_t>(kernels::GtF{}, av, bv));
    const std::vector<T> three(av.size(), T(3));
    expect_bits("scalar right " + tag, a * scalar_tensor(3.0, {.dtype = dt}),
                scalar_reference<T, T>(kernels::MulF{}, av, three));
    expect_bits("scalar left " + tag, sub(scalar_tensor(3.0, {.dtype = dt}), b),
                scalar_reference<T, T>(kernels::SubF{}, three, bv));
  }
}

TEST(ContiguousLoops, VectorizedLoopsMatchTheScalarFunctorForEveryLength) {
  check_lengths<float>(DType::F32);
  check_lengths<double>(DType::F64);
}

TEST(ContiguousLoops, InPlaceOnSlicesOffVectorAlignment) {
  for (int64_t offset : {1, 2, 3, 5}) {
    Tensor base = random(1000, DType::F32, 3), other = random(1000 - offset, DType::F32, 4);
    std::vector<float> want = base.to_vector<float>();
    const std::vector<float> ov = other.to_vector<float>();
    for (size_t i = 0; i < ov.size(); ++i) want[offset + i] += ov[i];
    Tensor view = base.slice(0, offset, 1000);
    add_(view, other);
    expect_bits("add_ at offset " + std::to_string(offset), base, want);
  }
}

TEST(ContiguousLoops, RowBroadcastRunsRowByRow) {
  Tensor m = random(30 * 70, DType::F32, 5).reshape({30, 70}), row = random(70, DType::F32, 6);
  const std::vector<float> mv = m.to_vector<float>(), rv = row.to_vector<float>();
  std::vector<float> want(mv.size());
  for (size_t i = 0; i < mv.size(); ++i) want[i] = mv[i] + rv[i % 70];
  expect_bits("row broadcast", m + row, want);
}

TEST(ContiguousLoops, OneAndTwoThreadsAgree) {
  Tensor a = random(300000, DType::F32, 7), b = random(300000, DType::F32, 8);
  const int threads = get_num_threads();
  set_num_threads(1);
  const std::vector<float> one = (exp(a) + a * b).to_vector<float>();
  set_num_threads(2);
  const std::vector<float> two = (exp(a) + a * b).to_vector<float>();
  set_num_threads(threads);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace strata
