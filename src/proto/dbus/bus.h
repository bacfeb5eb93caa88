// A D-Bus connection (sd-bus) and method calls with JSON arguments and results.
// The system bus honours DBUS_SYSTEM_BUS_ADDRESS; any other bus is opened by address, so tests
// run against private buses. Invariant: every sd-bus handle is owned by one RAII object, and a
// remote error becomes an Error carrying the D-Bus error name and message.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/json_util.h"
#include "base/result.h"

typedef struct sd_bus sd_bus;

namespace opdbus::dbus {

struct MethodCall {
  std::string destination;
  std::string path;
  std::string interface;
  std::string member;
  std::string signature;  // of the arguments
  Json arguments = Json::array();
  std::chrono::milliseconds timeout{25000};
};

class Bus {
 public:
  // The system bus (or DBUS_SYSTEM_BUS_ADDRESS), or, with an address, that bus.
  static Result<Bus> open(const std::string& address = {});
  // The bus's results as a JSON array (one element per out argument).
  Result<Json> call(const MethodCall& call);
  std::string unique_name() const;
  sd_bus* raw() const { return bus_.get(); }

 private:
  struct Close {
    void operator()(sd_bus* bus) const;
  };
  explicit Bus(sd_bus* bus) : bus_(bus) {}
  std::unique_ptr<sd_bus, Close> bus_;
};

}  // namespace opdbus::dbus
