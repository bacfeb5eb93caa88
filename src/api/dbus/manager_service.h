// op-dbus on the bus: owns org.opdbus and exports org.opdbus.Manager1 at /org/opdbus/Manager1.
// Methods (JSON travels as strings, like the CLI's --json output):
//   Query(s plugin) -> s state          Diff(s desired) -> s plan
//   Apply(s desired, a{sv} options) -> s result   (options: dry_run b, no_commit b, timeout u)
//   Rollback() -> s result   Commit() -> s result   LedgerVerify() -> s report
//   signal Changed(s action, s outcome)
// Invariants: reads are open to every caller; Apply and Commit need polkit's org.opdbus.apply,
// Rollback org.opdbus.rollback (root is allowed without asking, as systemd's services do).
// Every write and every refused write is recorded in the ledger with the caller's uid, pid and
// process, interface "dbus".
#pragma once

#include <memory>

#include "base/result.h"
#include "engine/context.h"
#include "proto/dbus/bus.h"

namespace opdbus::api {

class ManagerService {
 public:
  static Result<std::unique_ptr<ManagerService>> create(Context& context, dbus::Bus& bus);

  Context& context() { return context_; }
  dbus::Bus& bus() { return bus_; }

 private:
  ManagerService(Context& context, dbus::Bus& bus) : context_(context), bus_(bus) {}
  Context& context_;
  dbus::Bus& bus_;
  dbus::ExportedObject object_;
};

}  // namespace opdbus::api
