// Error messages are part of the API: each names the op and the offending shapes, dtypes or
// devices, and ends with the throw site "(file:line)". Device errors are exercised with a tensor
// that claims to live on cuda:0 (from_blob over host memory, never dereferenced).
#include <gtest/gtest.h>

#include <regex>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

// A tensor labelled cuda:0 whose data is never touched by the checks under test.
Tensor fake_cuda(std::vector<float>& host, const Shape& shape) {
  return from_blob(host.data(), shape, DType::F32, {}, Device::cuda(0));
}

TEST(ErrorMessages, EndWithTheThrowSite) {
  const std::regex site(R"( \((tensor|autograd|kernels)/[a-z_/]+\.(cpp|h):[0-9]+\)$)");
  auto check = [&](const std::function<void()>& fn) {
    try {
      fn();
      ADD_FAILURE() << "no throw";
    } catch (const Error& e) {
      EXPECT_TRUE(std::regex_search(std::string(e.what()), site)) << e.what();
    }
  };
  check([] { (void)add(zeros({2, 3}), zeros({4, 3})); });
  check([] { (void)zeros({2}).select(0, 5); });
  check([] { (void)zeros({2}).view({3}); });
  check([] { (void)exp(tensor<bool>({true})); });
  check([] { (void)ones({2}, {.requires_grad = true}).backward(); });
  check([] {
    Tensor w = ones({1}, {.requires_grad = true});
    add_(w, 1.0);
  });
}

TEST(ErrorMessages, DeviceMismatchNamesBothDevicesAndShapes) {
  std::vector<float> host(6, 0.0f);
  Tensor g = fake_cuda(host, {2, 3});
  Tensor c = zeros({2, 3});
  EXPECT_EQ(g.device(), Device::cuda(0));
  EXPECT_STRATA_ERROR(add(c, g), DeviceError,
                      {"add: expected tensors on the same device, got cpu (shape [2, 3]) and cuda:0 (shape [2, 3])"});
  EXPECT_STRATA_ERROR(where(zeros({2, 3}, {.dtype = DType::Bool}), c, g), DeviceError, {"where", "cpu", "cuda:0"});
  EXPECT_STRATA_ERROR(lerp(c, g, 0.5), DeviceError, {"lerp", "cuda:0"});
  EXPECT_STRATA_ERROR(add_(c, g), DeviceError, {"add_", "cuda:0"});
  EXPECT_STRATA_ERROR(g.data<float>(), DeviceError, {"data()", "cuda:0", ".cpu()"});
}

TEST(ErrorMessages, NoCudaKernelNamesTheOpAndDevice) {
  if (cuda_is_available()) GTEST_SKIP() << "a CUDA backend is present";
  std::vector<float> host(4, 0.0f);
  Tensor g = fake_cuda(host, {4});
  EXPECT_STRATA_ERROR(g.fill_(1.0), DeviceError, {"fill", "cuda:0"});
  EXPECT_STRATA_ERROR(g.to(DType::F64), DeviceError, {"cuda:0"});
}

TEST(ErrorMessages, DtypeErrorsNameTheDtypes) {
  EXPECT_STRATA_ERROR(exp(tensor<bool>({true})), DTypeError, {"exp: not defined for bool tensors (shape [1])"});
  EXPECT_STRATA_ERROR(add(tensor<bool>({true}), tensor<bool>({true})), DTypeError,
                      {"add: arithmetic on bool tensors is not supported (shapes [1] and [1])"});
  EXPECT_STRATA_ERROR(lerp(tensor<int32_t>({1}), tensor<int64_t>({1}), tensor<uint8_t>({1})), DTypeError,
                      {"lerp: expected floating tensors, got i32, i64 and u8"});
  Tensor i = tensor<int32_t>({1});
  EXPECT_STRATA_ERROR(add_(i, tensor<double>({0.5})), DTypeError,
                      {"add_: the result has dtype f64, which cannot be written in place into a tensor of dtype i32"});
  EXPECT_STRATA_ERROR(tensor<float>({1}).data<int64_t>(), DTypeError, {"data<i64>(): tensor has dtype f32"});
}

TEST(ErrorMessages, ShapeAndIndexErrorsNameTheOp) {
  Tensor x = zeros({2, 3});
  EXPECT_STRATA_ERROR(x.permute({1}), ShapeError, {"permute: got 1 dims for a tensor of shape [2, 3]"});
  EXPECT_STRATA_ERROR(x.size(2), IndexError, {"size: dim 2 is out of range for a tensor with 2 dims"});
  EXPECT_STRATA_ERROR(x.stride(-3), IndexError, {"stride: dim -3"});
  EXPECT_STRATA_ERROR(x.narrow(0, 1, 2), IndexError, {"narrow: start 1 and length 2 are out of range for dim 0 of size 2"});
  EXPECT_STRATA_ERROR(x.expand({3, 3}), ShapeError, {"expand: cannot expand shape [2, 3] to [3, 3] (dim 0: 2 is not 1)"});
  EXPECT_STRATA_ERROR(x.view({4, -1}), ShapeError, {"view: shape [4, -1] is invalid for a tensor of shape [2, 3] (6 elements)"});
}

}  // namespace
}  // namespace strata
