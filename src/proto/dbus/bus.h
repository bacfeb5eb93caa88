// A D-Bus connection (sd-bus): method calls with JSON arguments and results, and signal
// subscriptions dispatched by process() (the daemon's drift watch polls fd()).
// The system bus honours DBUS_SYSTEM_BUS_ADDRESS; any other bus is opened by address, so tests
// run against private buses. Invariant: every sd-bus handle is owned by one RAII object, and a
// remote error becomes an Error carrying the D-Bus error name and message.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/result.h"
#include "proto/dbus/marshal.h"

typedef struct sd_bus sd_bus;
typedef struct sd_bus_slot sd_bus_slot;
typedef struct sd_bus_vtable sd_bus_vtable;

namespace opdbus::dbus {

struct MethodCall {
  std::string destination;
  std::string path;
  std::string interface;
  std::string member;
  std::string signature;  // of the arguments
  Json arguments = Json::array();
  std::chrono::milliseconds timeout{25000};
  Variants variants = Variants::value;  // how variants in the reply are read
};

// Which signals to receive; empty fields match anything.
struct SignalMatch {
  std::string sender;
  std::string path;
  std::string interface;
  std::string member;
};

struct SignalEvent {
  std::string sender;
  std::string path;
  std::string interface;
  std::string member;
  Json arguments;  // the signal's arguments, as a JSON array
};

using SignalHandler = std::function<void(const SignalEvent&)>;

struct SlotUnref {
  void operator()(sd_bus_slot* slot) const;
};
// An object exported with Bus::export_object; it leaves the bus when this is destroyed.
using ExportedObject = std::unique_ptr<sd_bus_slot, SlotUnref>;

// A signal subscription; receiving stops when it is destroyed. Move-only.
class Subscription {
 public:
  struct Handler;
  Subscription(std::unique_ptr<Handler> handler, sd_bus_slot* slot);
  Subscription(Subscription&&) noexcept;
  Subscription& operator=(Subscription&&) noexcept;
  ~Subscription();

 private:
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<sd_bus_slot, SlotUnref> slot_;  // destroyed first: no call after the handler goes
};

class Bus {
 public:
  // The system bus (or DBUS_SYSTEM_BUS_ADDRESS), or, with an address, that bus.
  static Result<Bus> open(const std::string& address = {});
  // The bus's results as a JSON array (one element per out argument).
  Result<Json> call(const MethodCall& call);
  std::string unique_name() const;
  // Whether `value` marshals as `type` (nothing is sent); the error names `pointer`.
  Status check_value(std::string_view type, const Json& value, const std::string& pointer);
  // Server side: a well-known name, objects (sd-bus vtables; handlers run from process()) and
  // signals.
  Status request_name(const std::string& name);
  Result<ExportedObject> export_object(const std::string& path, const std::string& interface,
                                       const sd_bus_vtable* vtable, void* userdata);
  Status emit_signal(const std::string& path, const std::string& interface,
                     const std::string& member, const std::string& signature,
                     const Json& arguments);
  // Handlers run from process(), on the thread that calls it.
  Result<Subscription> subscribe(const SignalMatch& match, SignalHandler handler);
  // Dispatches everything pending, then waits up to `wait` for more (0: do not wait).
  Status process(std::chrono::milliseconds wait);
  int fd() const;
  // poll(2) events the connection waits for on fd() (POLLIN, and POLLOUT while output is queued).
  short poll_events() const;
  sd_bus* raw() const { return bus_.get(); }

 private:
  struct Close {
    void operator()(sd_bus* bus) const;
  };
  explicit Bus(sd_bus* bus) : bus_(bus) {}
  std::unique_ptr<sd_bus, Close> bus_;
};

}  // namespace opdbus::dbus
