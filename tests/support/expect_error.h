#pragma once
// EXPECT_STRATA_ERROR(statement, Kind, {"substr", ...}): the statement throws strata::Kind and its
// message contains every substring. Error tests pin down both the exception class and what the
// message tells the user (op name, shapes, dtypes), so a vague or wrong message fails a test.
//
//   EXPECT_STRATA_ERROR(add(a, b), ShapeError, {"add:", "[2, 3]", "[4, 3]"});
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "tensor/error.h"

namespace strata::testing {

// Runs `fn`; returns a failure unless it throws exactly `E` (or a subclass) with all `parts`.
template <class E>
::testing::AssertionResult throws_with(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& p : parts)
      if (what.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << what << "\" lacks \"" << p << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw the wrong exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace strata::testing

#define EXPECT_STRATA_ERROR(stmt, Kind, ...) \
  EXPECT_TRUE(::strata::testing::throws_with<::strata::Kind>([&] { (void)(stmt); }, __VA_ARGS__))
