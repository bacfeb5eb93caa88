// BusWatch: the Watch every D-Bus plugin returns: its own bus connection and signal subscriptions,
// dispatched when the daemon sees the connection's fd readable.
// Invariant: subscriptions are destroyed before the connection they were made on.
#pragma once

#include <vector>

#include "plugin/plugin.h"
#include "proto/dbus/bus.h"

namespace opdbus::dbusplugin {

class BusWatch final : public Watch {
 public:
  explicit BusWatch(dbus::Bus bus) : bus_(std::move(bus)) {}
  Status add(const dbus::SignalMatch& match, dbus::SignalHandler handler) {
    subscriptions_.push_back(TRY(bus_.subscribe(match, std::move(handler))));
    return ok();
  }
  dbus::Bus& bus() { return bus_; }
  int fd() const override { return bus_.fd(); }
  Status dispatch() override { return bus_.process(std::chrono::milliseconds(0)); }

 private:
  dbus::Bus bus_;
  std::vector<dbus::Subscription> subscriptions_;
};

}  // namespace opdbus::dbusplugin
