// Who may change the host through the CLI, and the record of those who were refused.
// Local writes need root (the kernel's CAP_NET_ADMIN and the state directory are root's); other
// users' apply, commit and rollback go to the daemon over D-Bus, which admits root, its
// configured group and whom polkit allows, and records its refusals itself. Any other write by a
// non-root user is refused here and noted in STATE_DIR/denied (mode 1733: anyone may create a
// note, nobody may list or remove another's); the next privileged op-dbus, and the daemon as
// soon as the note appears, moves each note into the ledger as a "cli.ACTION.denied" block.
// Invariants: the recorded uid is the note file's owner, which the kernel sets and the caller
// cannot choose (what the note claims about pid and process is recorded as claimed); a note is
// removed only after its block is appended; notes over 4 KiB or not plain files are recorded as
// unreadable, never parsed; at most kMaxNotesPerPass are moved per pass.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/context.h"

namespace opdbus {

inline constexpr size_t kMaxNotesPerPass = 1000;

// Who the daemon's D-Bus API admits besides root and what polkit allows: the members of one
// group (the daemon config's "access": {"group": NAME or GID}).
struct AccessPolicy {
  std::optional<uint32_t> group;
  std::string group_name;
};
// "NAME" (resolved now) or a numeric GID.
Result<AccessPolicy> parse_access_policy(const Json& json);

std::filesystem::path denial_spool(const std::filesystem::path& state_dir);
// Creates the spool (root, mode 1733) if it is missing.
Status prepare_denial_spool(const std::filesystem::path& state_dir);
// Notes a refused attempt of `action` by this (unprivileged) process.
Status note_denial(const std::filesystem::path& state_dir, const std::string& action,
                   const std::string& reason);
// Appends a ledger block for each note in the spool, then removes it; returns how many.
Result<size_t> record_noted_denials(Context& context);

}  // namespace opdbus
