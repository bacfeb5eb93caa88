// The plugin contract: every subsystem op-dbus manages (net, systemd, ovs, lxc, ...) is a
// Plugin. The engine knows plugins only through this interface.
// Invariants:
//  - descriptor() is the single source of the section's JSON Schema and read-only fields; CLI
//    validation, MCP tool schemas and docs are generated from it.
//  - query() returns the normalised current state in the same shape as a desired section, so
//    feeding it back to diff() yields no changes.
//  - diff() compares only the fields a desired item declares; it never touches the host.
//  - apply() performs only the given changes; on error the engine restores the checkpoint.
//  - restore() returns the resources captured by checkpoint() to their captured state.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/result.h"
#include "plugin/change.h"

namespace opdbus {

struct PluginDescriptor {
  std::string name;
  std::string version;
  std::string description;
  Json schema;                                // JSON Schema (draft 7) of the plugin's section
  std::vector<std::string> read_only_fields;  // JSON pointers with "*" for array items
  std::vector<std::string> apply_after;       // plugins whose changes must be applied first
};

// A problem found in a desired section, located by JSON pointer relative to the document root.
struct Problem {
  std::string pointer;
  std::string message;
};

struct Availability {
  bool available = false;
  std::string detail;  // what was checked, or why it is unavailable
};

struct Snapshot {
  std::string plugin;
  Json data;
};

struct ApplyReport {
  size_t writes = 0;  // requests sent to the host
};

struct WatchEvent {
  std::string plugin;
  std::string kind;    // e.g. "link", "address", "route"
  std::string object;  // e.g. "br0"
  std::string origin;  // who made the change, where the protocol tells ("pid 812 (ip)")
};
using WatchCallback = std::function<void(const WatchEvent&)>;

// An event source a daemon can poll: readable fd(), then dispatch() delivers the events.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual int fd() const = 0;
  virtual Status dispatch() = 0;
  // Called every few seconds: a watch over a connection that can die silently (OVSDB over TCP)
  // probes it here, and fails when the previous probe went unanswered.
  virtual Status keepalive() { return ok(); }
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual const PluginDescriptor& descriptor() const = 0;
  // Checks whether the plugin's protocol is usable on this host, without changing anything.
  virtual Availability probe() = 0;
  // Semantic checks the schema cannot express (addresses, references between items).
  // `base_pointer` is where the section sits in the document ("/plugins/net").
  virtual std::vector<Problem> validate(const Json& section,
                                        const std::string& base_pointer) const = 0;
  virtual Result<Json> query() = 0;
  // The current state of what `desired` declares, in query()'s shape; plugins whose full query is
  // costly (every property of every service) or omits declarable fields (unit file contents)
  // narrow it here. An unavailable protocol is an `unavailable` error.
  virtual Result<Json> query_for(const Json& desired) {
    (void)desired;
    return query();
  }
  virtual Result<std::vector<Change>> diff(const Json& current, const Json& desired) = 0;
  virtual Result<ApplyReport> apply(const std::vector<Change>& changes) = 0;
  // Captures the state of everything `changes` may touch (side effects included), from
  // `current`, a query() result the caller already has.
  virtual Result<Snapshot> checkpoint_of(const Json& current,
                                         const std::vector<Change>& changes) = 0;
  virtual Result<ApplyReport> restore(const Snapshot& snapshot) = 0;
  // The apply this process made is settled (kept, or rolled back): a plugin that took a
  // host-side checkpoint in apply() (NetworkManager's) frees it. Later restores use the
  // Snapshot's data.
  virtual void release() {}
  virtual Result<std::unique_ptr<Watch>> watch(WatchCallback callback) = 0;
  // A desired section that makes the host equal to `target` (a query result from the past):
  // `target` plus "absent" items for what exists in `current` but not in `target`.
  virtual Json exact_desired(const Json& target, const Json& current) const = 0;
};

}  // namespace opdbus
