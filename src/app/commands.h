// The CLI's commands: each takes parsed options, talks to the Engine, prints for people or for
// machines (--json), and returns the process exit code (see ExitCode).
#pragma once

#include <optional>
#include <string>

#include "engine/context.h"
#include "engine/engine.h"
#include "engine/state_file.h"

namespace opdbus::cli {

enum ExitCode : int {
  kOk = 0,              // success; nothing to change, or every change applied and verified
  kFailed = 1,          // the operation failed; any change made was rolled back
  kBadInput = 2,        // bad arguments or state file; nothing was touched
  kChangesPending = 3,  // diff / apply --dry-run: changes would be made
  kRollbackFailed = 4,  // the operation failed and the rollback failed too: inspect the host
  kBusy = 5,            // another operation holds the state (pending commit, lock)
  kAnomalies = 6,       // anomaly scan: states unlike the baseline were found (and recorded)
  kNotAuthorised = 7,   // the caller may not make this change; the attempt is recorded
};

struct Output {
  bool json = false;
  bool colour = false;
};

int exit_code_for(const Error& error);
void print_json(const Json& value);
int report_error(const Error& error);

int run_query(Context& context, const std::optional<std::string>& plugin);
int run_diff(Context& context, const Output& output, const std::string& file,
             const std::optional<std::string>& plugin);
int run_apply(Context& context, const Output& output, const std::string& file,
              const ApplyOptions& options);
// Applies a document built by a command (container start, ...) exactly as `apply FILE` would.
int run_apply_document(Context& context, const Output& output, const StateDocument& document,
                       const ApplyOptions& options);
int run_commit(Context& context, const Output& output);
int run_rollback(Context& context, const Output& output);
// rollback --to HEIGHT|SNAPSHOT: point-in-time recovery through apply (exit codes as apply).
int run_rollback_to(Context& context, const Output& output, const std::string& target,
                    const ApplyOptions& options);
int run_init(Context& context, const Output& output, bool introspect, const std::string& out_file);
int run_doctor(Context& context, const Output& output);
int run_schema(Context& context, const std::optional<std::string>& plugin);
// Lists every service on the bus with its objects and interfaces, indexes them, and with
// `show_changes` prints what appeared or vanished since the last run.
int run_discover(Context& context, const Output& output, bool show_changes);

}  // namespace opdbus::cli
