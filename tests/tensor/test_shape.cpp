// Shape, Strides and their helpers: the small-vector storage (inline and heap), contiguous
// strides, numpy broadcasting with its error message, and wrap_dim.
#include <gtest/gtest.h>

#include "strata.h"
#include "support/expect_error.h"

namespace strata {
namespace {

TEST(Shape, BasicsAndPrinting) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.ndim(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_EQ(fmt::format("{}", s), "[2, 3, 4]");
  EXPECT_EQ(Shape{}.numel(), 1);  // a 0-d tensor holds one element
  EXPECT_EQ(Shape{}.str(), "[]");
  EXPECT_EQ((Shape{3, 0, 2}).numel(), 0);
  EXPECT_EQ(fmt::format("{}", Strides{12, 4, 1}), "[12, 4, 1]");
}

TEST(Shape, GrowsPastTheInlineCapacityAndCopiesDeeply) {
  Shape s;
  for (int i = 1; i <= 10; ++i) s.push_back(i);
  EXPECT_EQ(s.ndim(), 10);
  EXPECT_EQ(s.numel(), 3628800);
  Shape c = s;  // deep copy of a heap shape
  c[0] = 99;
  EXPECT_EQ(s[0], 1);
  Shape m = std::move(c);
  EXPECT_EQ(m[0], 99);
  EXPECT_EQ(m.ndim(), 10);
  s.insert(0, 7);
  EXPECT_EQ(s[0], 7);
  EXPECT_EQ(s[1], 1);
  EXPECT_EQ(s.ndim(), 11);
  s.erase(0);
  EXPECT_EQ(s, (Shape{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // Move-assign an inline shape over a heap one, and back.
  Shape small{1, 2};
  s = std::move(small);
  EXPECT_EQ(s, (Shape{1, 2}));
  s.resize(8, 5);
  EXPECT_EQ(s[7], 5);
  EXPECT_EQ(s[1], 2);
}

TEST(Shape, InsertAndEraseInline) {
  Shape s{2, 3};
  s.insert(1, 1);
  EXPECT_EQ(s, (Shape{2, 1, 3}));
  s.insert(3, 1);
  EXPECT_EQ(s, (Shape{2, 1, 3, 1}));
  s.erase(1);
  EXPECT_EQ(s, (Shape{2, 3, 1}));
  EXPECT_NE(s, (Shape{2, 3}));
}

TEST(Strides, ContiguousStrides) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Strides{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), Strides{});
  EXPECT_EQ(contiguous_strides({5}), Strides{1});
  // Zero-sized dims count as 1 so strides stay distinct (PyTorch does the same).
  EXPECT_EQ(contiguous_strides({2, 0, 3}), (Strides{3, 3, 1}));
}

TEST(Broadcast, Shapes) {
  EXPECT_EQ(broadcast_shapes("t", {2, 3}, {2, 3}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes("t", {3, 1}, {1, 4}), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes("t", {4, 1, 3}, {2, 1}), (Shape{4, 2, 3}));
  EXPECT_EQ(broadcast_shapes("t", {}, {2, 3}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes("t", {2, 3}, {}), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes("t", {0, 3}, {1, 3}), (Shape{0, 3}));
  EXPECT_EQ(broadcast_shapes("t", {1}, {0}), (Shape{0}));
  EXPECT_EQ(broadcast_shapes("t", {5, 1, 1, 1, 1, 1, 7}, {6, 1, 1, 1, 1, 1}), (Shape{5, 6, 1, 1, 1, 1, 7}));
}

TEST(Broadcast, ErrorNamesOpShapesAndDim) {
  EXPECT_STRATA_ERROR(broadcast_shapes("add", {2, 3}, {4, 3}), ShapeError,
                      {"add: shapes [2, 3] and [4, 3] are not broadcastable (dim 0: 2 vs 4)"});
  EXPECT_STRATA_ERROR(broadcast_shapes("mul", {3}, {2, 4}), ShapeError, {"mul:", "[3]", "[2, 4]", "dim 1: 3 vs 4"});
  EXPECT_STRATA_ERROR(broadcast_shapes("sub", {0}, {2}), ShapeError, {"sub:", "0 vs 2"});
}

TEST(Broadcast, ErrorsCarryTheThrowSite) {
  try {
    broadcast_shapes("add", {2}, {3});
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("(tensor/shape.cpp:"), std::string::npos) << what;
    EXPECT_EQ(what.back(), ')');
  }
}

TEST(WrapDim, NormalizesAndRejects) {
  EXPECT_EQ(wrap_dim("op", 0, 3), 0);
  EXPECT_EQ(wrap_dim("op", 2, 3), 2);
  EXPECT_EQ(wrap_dim("op", -1, 3), 2);
  EXPECT_EQ(wrap_dim("op", -3, 3), 0);
  EXPECT_EQ(wrap_dim("op", 0, 0), 0);   // a 0-d tensor accepts 0 and -1
  EXPECT_EQ(wrap_dim("op", -1, 0), 0);
  EXPECT_STRATA_ERROR(wrap_dim("softmax", 3, 3), IndexError, {"softmax: dim 3 is out of range for a tensor with 3 dims"});
  EXPECT_STRATA_ERROR(wrap_dim("softmax", -4, 3), IndexError, {"softmax:", "dim -4", "3 dims"});
  EXPECT_STRATA_ERROR(wrap_dim("op", 1, 0), IndexError, {"op:", "dim 1", "0 dims"});
}

TEST(ErrorHierarchy, KindsAreDistinctAndDeriveFromError) {
  EXPECT_THROW(STRATA_THROW(ShapeError, "x"), ShapeError);
  EXPECT_THROW(STRATA_THROW(DTypeError, "x"), DTypeError);
  EXPECT_THROW(STRATA_THROW(DeviceError, "x"), DeviceError);
  EXPECT_THROW(STRATA_THROW(IndexError, "x"), IndexError);
  EXPECT_THROW(STRATA_THROW(IOError, "x"), IOError);
  EXPECT_THROW(STRATA_THROW(ValueError, "x"), ValueError);
  EXPECT_THROW(STRATA_THROW(AutogradError, "x"), AutogradError);
  EXPECT_THROW(STRATA_THROW(DispatchError, "x"), DispatchError);
  EXPECT_THROW(STRATA_THROW(NotImplementedError, "x"), NotImplementedError);
  EXPECT_THROW(STRATA_THROW(ShapeError, "x"), Error);
  EXPECT_THROW(STRATA_THROW(Error, "x"), Error);
  try {
    STRATA_THROW(ValueError, "op: {} and {}", 1, "two");
  } catch (const ShapeError&) {
    FAIL() << "caught as the wrong kind";
  } catch (const ValueError& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("op: 1 and two ("));
  }
  // The check macro only throws when the condition fails, and formats lazily.
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  STRATA_CHECK(true, ValueError, "never {}", count());
  EXPECT_EQ(evaluated, 0);
}

}  // namespace
}  // namespace strata
