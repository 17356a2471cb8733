// Helpers shared by the handler test fixtures (tests/services/*): the test account and clock
// value, and catching the ApiError a handler call is expected to throw.
#pragma once
#include <gtest/gtest.h>

#include "ecsd/common/api_error.hpp"

namespace ecsd::test_support {

inline constexpr const char* kAccount = "000000000000";
inline constexpr double kNow = 1767225600.0;  // 2026-01-01T00:00:00Z

/// Runs `fn` and returns the ApiError it throws; fails the test when it throws none.
template <typename F>
ApiError api_error(F&& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ApiError, but the call succeeded";
  return ApiError("<none>", "<no error thrown>");
}

}  // namespace ecsd::test_support
