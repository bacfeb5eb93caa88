// Desired-state documents: loading (JSON or YAML), locating JSON pointers back to line:column,
// and validating against the registry's plugin schemas. Invariant: a StateDocument that
// load_state_document() returns has passed every schema and semantic check; all problems of a
// bad file are reported together, each with file:line:column and JSON pointer.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/json_util.h"
#include "base/result.h"
#include "plugin/registry.h"

namespace opdbus {

struct SourceLocation {
  int line = 0;  // 1-based
  int column = 0;
};

struct StateDocument {
  std::string path;
  std::string text;
  Json root;

  // "file:line:col" for the pointer or its nearest located ancestor; "file" if none. The
  // position index is built on first use, so documents without problems never pay for it.
  std::string locate(const std::string& pointer) const;
  const Json& plugins() const { return root["plugins"]; }

 private:
  mutable std::optional<std::map<std::string, SourceLocation>> locations_;  // pointer -> position
};

// Parses text (JSON, or YAML when `path` ends in .yaml/.yml or the text is not JSON-like).
Result<StateDocument> parse_state_text(const std::string& path, const std::string& text);
Result<StateDocument> load_state_document(const std::string& path, const Registry& registry);
Status validate_state_document(const StateDocument& document, const Registry& registry);
// {"plugins": {...}} without the fields each plugin's descriptor marks read-only (kernel
// indexes, operational states): what a person would declare.
Json without_read_only(Json document, const Registry& registry);

}  // namespace opdbus
