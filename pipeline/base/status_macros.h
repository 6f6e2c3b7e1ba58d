// The two Status macros that Abseil 20220623 does not ship. Setup paths return absl::Status or
// absl::StatusOr<T>; these keep the early-return chains short.
#ifndef BOUNCESTREAM_PIPELINE_BASE_STATUS_MACROS_H_
#define BOUNCESTREAM_PIPELINE_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BS_CONCAT_INNER_(a, b) a##b
#define BS_CONCAT_(a, b) BS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status bs_status_ = (expr);                    \
    if (!bs_status_.ok()) return bs_status_;               \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from an OK StatusOr, or returns its status.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  BS_ASSIGN_OR_RETURN_IMPL_(BS_CONCAT_(bs_statusor_, __LINE__), lhs, rexpr)
#define BS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(statusor).value()

#endif  // BOUNCESTREAM_PIPELINE_BASE_STATUS_MACROS_H_
