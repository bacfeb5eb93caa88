// Message framing for OVSDB's JSON-RPC stream (RFC 7047 section 4): messages are JSON texts one
// after another with no delimiter promised, so the splitter follows JSON's own structure
// (nesting depth, strings and escapes) across reads of any size and hands out each complete
// text. Invariant: bytes are never lost or reordered; a text over the size limit is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace opdbus::ovsdb {

class MessageSplitter {
 public:
  explicit MessageSplitter(size_t max_message = 64 << 20) : max_message_(max_message) {}
  // Appends `bytes`; returns the messages completed by them, in order.
  Result<std::vector<std::string>> feed(std::string_view bytes);

 private:
  size_t max_message_;
  std::string pending_;  // bytes of the message in progress
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace opdbus::ovsdb
