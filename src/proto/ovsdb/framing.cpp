// OVSDB stream framing; see framing.h.
#include "proto/ovsdb/framing.h"

namespace opdbus::ovsdb {

Result<std::vector<std::string>> MessageSplitter::feed(std::string_view bytes) {
  std::vector<std::string> messages;
  for (char c : bytes) {
    if (depth_ == 0 && !in_string_) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;  // between messages
      if (c != '{' && c != '[')
        return fail(ErrorCode::io, "OVSDB stream: unexpected '{}' between messages", c);
    }
    pending_ += c;
    if (pending_.size() > max_message_)
      return fail(ErrorCode::io, "OVSDB stream: a message exceeds {} bytes", max_message_);
    if (in_string_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) messages.push_back(std::exchange(pending_, {}));
    }
  }
  return messages;
}

}  // namespace opdbus::ovsdb
