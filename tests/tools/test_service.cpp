// opdbus-test-service: a D-Bus service for integration tests and benchmarks. It owns one or more
// names on the bus at --address and exports /org/opdbus/Test with org.opdbus.Test1: a writable
// property of every marshalling type (values kept as JSON, marshalled by op-dbus's own
// marshaller), a read-only Version, and methods. Writes emit PropertiesChanged.
// Usage: opdbus-test-service ADDRESS NAME [COUNT]  (COUNT > 1 owns NAME0 .. NAME{COUNT-1}).
// Prints "ready" once every name is owned; exits on SIGTERM or when the bus goes away.
#include <systemd/sd-bus.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "proto/dbus/bus.h"
#include "proto/dbus/marshal.h"

using opdbus::Json;

namespace {

struct Value {
  const char* signature;
  Json json;
};

std::map<std::string, Value> g_properties = {
    {"Name", {"s", "initial"}},
    {"Count", {"i", 1}},
    {"Small", {"y", 7}},
    {"Big", {"t", 1}},
    {"Ratio", {"d", 0.5}},
    {"Enabled", {"b", false}},
    {"Tags", {"as", Json::array({"a"})}},
    {"Labels", {"a{ss}", {{"k", "v"}}}},
    {"Pair", {"(si)", Json::array({"x", 1})}},
    {"Anything", {"v", "v"}},
    {"Target", {"o", "/"}},
    {"Bytes", {"ay", Json::array({1, 2})}},
    {"Version", {"s", "1.0"}},
};

volatile std::sig_atomic_t g_stop = 0;

int get_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply,
                 void*, sd_bus_error* error) {
  const auto& value = g_properties.at(property);
  auto appended = opdbus::dbus::append_json(reply, value.signature, value.json, "/");
  if (!appended)
    return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, appended.error().message.c_str());
  return 1;
}

int set_property(sd_bus* bus, const char* path, const char* interface, const char* property,
                 sd_bus_message* value, void*, sd_bus_error* error) {
  char type = 0;
  const char* contents = nullptr;
  int rc = sd_bus_message_peek_type(value, &type, &contents);
  if (rc < 0) return rc;
  auto read = opdbus::dbus::read_json(value);
  if (!read)
    return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, read.error().message.c_str());
  auto& stored = g_properties.at(property);
  // A variant keeps the type it was written with.
  stored.json = type == 'v' ? Json{{"signature", contents}, {"value", *read}} : *read;
  return sd_bus_emit_properties_changed(bus, path, interface, property, nullptr);
}

int add(sd_bus_message* call, void*, sd_bus_error*) {
  int32_t a = 0, b = 0;
  int rc = sd_bus_message_read(call, "ii", &a, &b);
  return rc < 0 ? rc : sd_bus_reply_method_return(call, "i", a + b);
}

int fail_always(sd_bus_message*, void*, sd_bus_error* error) {
  return sd_bus_error_set(error, "org.opdbus.Test.Error.Refused", "the test service refuses");
}

#define RW(name, type)                                                \
  SD_BUS_WRITABLE_PROPERTY(name, type, get_property, set_property, 0, \
                           SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED)

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    RW("Name", "s"),
    RW("Count", "i"),
    RW("Small", "y"),
    RW("Big", "t"),
    RW("Ratio", "d"),
    RW("Enabled", "b"),
    RW("Tags", "as"),
    RW("Labels", "a{ss}"),
    RW("Pair", "(si)"),
    RW("Anything", "v"),
    RW("Target", "o"),
    RW("Bytes", "ay"),
    SD_BUS_PROPERTY("Version", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD_WITH_NAMES("Add", "ii", SD_BUS_PARAM(a) SD_BUS_PARAM(b), "i", SD_BUS_PARAM(sum),
                             add, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Fail", "", "", fail_always, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

int serve(opdbus::dbus::Bus& bus, const std::string& name, int count) {
  if (sd_bus_add_object_vtable(bus.raw(), nullptr, "/org/opdbus/Test", "org.opdbus.Test1", kVtable,
                               nullptr) < 0 ||
      sd_bus_add_object_manager(bus.raw(), nullptr, "/") < 0)
    return 1;
  for (int i = 0; i < count; ++i) {
    auto owned = count == 1 ? name : name + std::to_string(i);
    int rc = sd_bus_request_name(bus.raw(), owned.c_str(), 0);
    if (rc < 0) {
      std::fprintf(stderr, "cannot own %s: %s\n", owned.c_str(), std::strerror(-rc));
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  while (!g_stop)
    if (!bus.process(std::chrono::milliseconds(500))) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ADDRESS NAME [COUNT]\n", argv[0]);
    return 2;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  auto bus = opdbus::dbus::Bus::open(argv[1]);
  if (!bus) {
    std::fprintf(stderr, "%s\n", bus.error().describe().c_str());
    return 1;
  }
  return serve(*bus, argv[2], argc > 3 ? std::atoi(argv[3]) : 1);
}
