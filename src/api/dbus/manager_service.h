// op-dbus on the bus: owns org.opdbus and exports org.opdbus.Manager1 at /org/opdbus/Manager1.
// Methods (JSON travels as strings, like the CLI's --json output):
//   Query(s plugin) -> s state          Diff(s desired) -> s plan
//   Apply(s desired, a{sv} options) -> s result   (options: dry_run b, no_commit b, timeout u)
//   Rollback() -> s result   Commit() -> s result   LedgerVerify() -> s report
//   signal Changed(s action, s outcome)
// Invariants: reads are open to every caller; Apply and Commit need polkit's org.opdbus.apply,
// Rollback org.opdbus.rollback (root, and members of the configured group, are allowed without
// asking; the group is checked against the caller's groups as the bus daemon saw them).
// Every write and every refused write is recorded in the ledger with the caller's uid, pid and
// process, interface "dbus".
#pragma once

#include <memory>

#include "base/result.h"
#include "engine/access.h"
#include "engine/context.h"
#include "proto/dbus/bus.h"

namespace opdbus::api {

class ManagerService {
 public:
  // `access` is read on every write and must outlive the service (the daemon's configuration).
  static Result<std::unique_ptr<ManagerService>> create(Context& context, dbus::Bus& bus,
                                                        const AccessPolicy& access);

  Context& context() { return context_; }
  dbus::Bus& bus() { return bus_; }
  const AccessPolicy& access() const { return access_; }

 private:
  ManagerService(Context& context, dbus::Bus& bus, const AccessPolicy& access)
      : context_(context), bus_(bus), access_(access) {}
  Context& context_;
  dbus::Bus& bus_;
  const AccessPolicy& access_;
  dbus::ExportedObject object_;
};

}  // namespace opdbus::api
