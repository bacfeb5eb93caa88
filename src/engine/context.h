// Context: everything an operation needs, owned in one place and passed by reference (no
// globals): configuration, the plugin registry, the clock, who is acting, and the ledger
// (opened on first use; later also the vector index).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "plugin/registry.h"
#include "store/state_store.h"

namespace opdbus {

struct Config {
  std::filesystem::path state_dir = "/var/lib/op-dbus";
  std::string netns;                 // empty: the namespace op-dbus was started in
  std::string bus_address;           // empty: the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured)
  std::filesystem::path root = "/";  // the managed host's root for files op-dbus writes
  std::string ovsdb_address = "unix:/var/run/openvswitch/db.sock";
  std::string ovsdb_private_key, ovsdb_certificate, ovsdb_ca_cert;  // for ssl: OVSDB addresses
  std::filesystem::path lxc_path;  // LXC's container directory; empty: liblxc's lxc.lxcpath
};

struct Context {
  Config config;
  Registry registry;
  Clock clock = system_clock();
  std::string interface = "cli";           // recorded as the actor's interface
  std::optional<ledger::Actor> caller;     // who asked, when not this process (a D-Bus caller)
  std::unique_ptr<ledger::Ledger> ledger;  // see open_ledger
  std::optional<store::StateStore> store;  // see open_store
};

// The state directory's layout (subvolumes on BTRFS), created on first use.
Result<store::StateStore*> open_store(Context& context);

// The ledger under config.state_dir, opened (and its tail repaired) on first use.
Result<ledger::Ledger*> open_ledger(Context& context);

}  // namespace opdbus
