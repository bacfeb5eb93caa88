// sd-bus connections and calls; see bus.h.
#include "proto/dbus/bus.h"

#include <poll.h>
#include <systemd/sd-bus.h>

#include <string_view>

#include "base/fs.h"
#include "proto/dbus/marshal.h"

namespace opdbus::dbus {
namespace {

struct MessageUnref {
  void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;

// Owns an sd_bus_error for the duration of one call.
struct CallError {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~CallError() { sd_bus_error_free(&error); }
};

ErrorCode code_for(std::string_view name) {
  for (std::string_view transport :
       {"ServiceUnknown", "NoReply", "Timeout", "Disconnected", "NameHasNoOwner", "NoServer"})
    if (name.ends_with(transport)) return ErrorCode::unavailable;
  for (std::string_view input :
       {"InvalidArgs", "UnknownMethod", "UnknownObject", "UnknownInterface", "UnknownProperty",
        "PropertyReadOnly", "InvalidSignature"})
    if (name.ends_with(input)) return ErrorCode::invalid_input;
  if (name.ends_with("AccessDenied") || name.ends_with("InteractiveAuthorizationRequired"))
    return ErrorCode::conflict;
  return ErrorCode::io;
}

// A match rule value: names and paths never contain quotes, so anything with one is refused.
Result<std::string> match_rule(const SignalMatch& match) {
  std::string rule = "type='signal'";
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string&>{"sender", match.sender},
        {"path", match.path},
        {"interface", match.interface},
        {"member", match.member}}) {
    if (value.empty()) continue;
    if (value.find_first_of("',\\") != std::string::npos)
      return fail(ErrorCode::invalid_input, "signal match {} '{}' is not a valid name", key, value);
    rule += fmt::format(",{}='{}'", key, value);
  }
  return rule;
}

std::string text_or_empty(const char* text) {
  return text ? text : "";
}

}  // namespace

struct Subscription::Handler {
  SignalHandler handle;
};

void SlotUnref::operator()(sd_bus_slot* slot) const {
  sd_bus_slot_unref(slot);
}

Subscription::Subscription(std::unique_ptr<Handler> handler, sd_bus_slot* slot)
    : handler_(std::move(handler)), slot_(slot) {}
Subscription::Subscription(Subscription&&) noexcept = default;
Subscription& Subscription::operator=(Subscription&&) noexcept = default;
Subscription::~Subscription() {
  slot_.reset();
}

void Bus::Close::operator()(sd_bus* bus) const {
  sd_bus_flush_close_unref(bus);
}

Result<Bus> Bus::open(const std::string& address) {
  sd_bus* raw = nullptr;
  if (address.empty()) {
    int rc = sd_bus_open_system(&raw);
    if (rc < 0)
      return fail(ErrorCode::unavailable, "connect to the system bus: {}", errno_text(-rc));
    return Bus(raw);
  }
  int rc = sd_bus_new(&raw);
  if (rc < 0) return fail(ErrorCode::internal, "sd_bus_new: {}", errno_text(-rc));
  Bus bus(raw);
  if ((rc = sd_bus_set_address(raw, address.c_str())) < 0 ||
      (rc = sd_bus_set_bus_client(raw, 1)) < 0 || (rc = sd_bus_start(raw)) < 0)
    return fail(ErrorCode::unavailable, "connect to the bus at {}: {}", address, errno_text(-rc));
  return bus;
}

std::string Bus::unique_name() const {
  const char* name = nullptr;
  sd_bus_get_unique_name(bus_.get(), &name);
  return name ? name : "";
}

Result<Subscription> Bus::subscribe(const SignalMatch& match, SignalHandler handler) {
  auto rule = TRY(match_rule(match));
  auto owned = std::make_unique<Subscription::Handler>(Subscription::Handler{std::move(handler)});
  auto on_signal = [](sd_bus_message* message, void* user, sd_bus_error*) -> int {
    SignalEvent event{text_or_empty(sd_bus_message_get_sender(message)),
                      text_or_empty(sd_bus_message_get_path(message)),
                      text_or_empty(sd_bus_message_get_interface(message)),
                      text_or_empty(sd_bus_message_get_member(message)), Json::array()};
    auto arguments = read_arguments(message);
    event.arguments = arguments ? *arguments : Json{{"error", arguments.error().describe()}};
    static_cast<Subscription::Handler*>(user)->handle(event);
    return 0;
  };
  sd_bus_slot* slot = nullptr;
  int rc = sd_bus_add_match(bus_.get(), &slot, rule.c_str(), on_signal, owned.get());
  if (rc < 0) return fail(ErrorCode::unavailable, "subscribe to {}: {}", rule, errno_text(-rc));
  return Subscription(std::move(owned), slot);
}

Status Bus::process(std::chrono::milliseconds wait) {
  for (;;) {
    int rc = sd_bus_process(bus_.get(), nullptr);
    if (rc < 0) return fail(ErrorCode::unavailable, "D-Bus connection: {}", errno_text(-rc));
    if (rc > 0) continue;
    if (wait.count() == 0) return ok();
    rc = sd_bus_wait(bus_.get(), static_cast<uint64_t>(wait.count()) * 1000);
    if (rc < 0) return fail(ErrorCode::unavailable, "D-Bus connection: {}", errno_text(-rc));
    wait = std::chrono::milliseconds(0);
  }
}

short Bus::poll_events() const {
  int events = sd_bus_get_events(bus_.get());
  return static_cast<short>(events < 0 ? POLLIN : events);
}

int Bus::fd() const {
  return sd_bus_get_fd(bus_.get());
}

Status Bus::request_name(const std::string& name) {
  int rc = sd_bus_request_name(bus_.get(), name.c_str(), 0);
  if (rc < 0)
    return fail(ErrorCode::conflict, "cannot own {} on the bus: {}", name, errno_text(-rc));
  return ok();
}

Result<ExportedObject> Bus::export_object(const std::string& path, const std::string& interface,
                                          const sd_bus_vtable* vtable, void* userdata) {
  sd_bus_slot* slot = nullptr;
  int rc = sd_bus_add_object_vtable(bus_.get(), &slot, path.c_str(), interface.c_str(), vtable,
                                    userdata);
  if (rc < 0)
    return fail(ErrorCode::internal, "export {} at {}: {}", interface, path, errno_text(-rc));
  return ExportedObject(slot);
}

Status Bus::emit_signal(const std::string& path, const std::string& interface,
                        const std::string& member, const std::string& signature,
                        const Json& arguments) {
  sd_bus_message* raw = nullptr;
  int rc =
      sd_bus_message_new_signal(bus_.get(), &raw, path.c_str(), interface.c_str(), member.c_str());
  if (rc < 0) return fail(ErrorCode::internal, "signal {}: {}", member, errno_text(-rc));
  MessagePtr message(raw);
  TRY(append_arguments(message.get(), signature, arguments));
  rc = sd_bus_send(bus_.get(), message.get(), nullptr);
  if (rc < 0) return fail(ErrorCode::unavailable, "send {}: {}", member, errno_text(-rc));
  return ok();
}

Status Bus::check_value(std::string_view type, const Json& value, const std::string& pointer) {
  sd_bus_message* raw = nullptr;
  int rc = sd_bus_message_new_method_call(bus_.get(), &raw, "org.opdbus.Check", "/",
                                          "org.opdbus.Check", "Check");
  if (rc < 0)
    return fail(ErrorCode::internal, "sd_bus_message_new_method_call: {}", errno_text(-rc));
  MessagePtr message(raw);
  return append_json(message.get(), type, value, pointer);
}

Result<Json> Bus::call(const MethodCall& call) {
  sd_bus_message* raw = nullptr;
  int rc =
      sd_bus_message_new_method_call(bus_.get(), &raw, call.destination.c_str(), call.path.c_str(),
                                     call.interface.c_str(), call.member.c_str());
  if (rc < 0)
    return fail(ErrorCode::invalid_input, "call {}.{} on {} {}: {}", call.interface, call.member,
                call.destination, call.path, errno_text(-rc));
  MessagePtr message(raw);
  TRY(with_context(append_arguments(message.get(), call.signature, call.arguments),
                   fmt::format("arguments of {}.{}", call.interface, call.member)));
  CallError error;
  sd_bus_message* reply_raw = nullptr;
  auto timeout = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(call.timeout).count());
  rc = sd_bus_call(bus_.get(), message.get(), timeout, &error.error, &reply_raw);
  MessagePtr reply(reply_raw);
  if (rc < 0) {
    std::string name = error.error.name ? error.error.name : "";
    return make_failure(
        Error{code_for(name),
              fmt::format("{}.{} on {} {}: {}{}", call.interface, call.member, call.destination,
                          call.path, name.empty() ? "" : name + ": ",
                          error.error.message ? error.error.message : errno_text(-rc)),
              {}});
  }
  return read_arguments(reply.get(), call.variants);
}

}  // namespace opdbus::dbus
