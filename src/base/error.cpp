// Error formatting: one place decides how errors read to a user.
#include "base/result.h"

namespace opdbus {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input:
      return "invalid input";
    case ErrorCode::not_found:
      return "not found";
    case ErrorCode::io:
      return "i/o error";
    case ErrorCode::kernel:
      return "kernel error";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::verify_failed:
      return "verification failed";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::internal:
      return "internal error";
  }
  return "error";
}

std::string Error::describe() const {
  std::string out;
  for (const auto& layer : context) out += layer + ": ";
  return out + message;
}

}  // namespace opdbus
