// The D-Bus layer against a real, private dbus-daemon: every type signature round-trips through
// an echo service of our own (JSON -> D-Bus -> service -> D-Bus -> JSON), wrong JSON is refused
// with the pointer of the bad value, and remote errors carry their D-Bus name. Signature parsing
// is tested without a bus. Skipped, with the reason, when dbus-daemon is not installed.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "base/sqlite.h"
#include "plugins/dbus/discovery.h"
#include "proto/dbus/bus.h"
#include "proto/dbus/introspect.h"
#include "proto/dbus/marshal.h"
#include "proto/dbus/signature.h"
#include "proto/dbus/type_schema.h"

namespace opdbus::dbus {
namespace {

TEST(DbusSignature, SplitsCompleteTypes) {
  auto types = split_signature("ia{sv}(ias)vaa{oa{sv}}");
  ASSERT_TRUE(types) << types.error().describe();
  EXPECT_EQ(*types, (std::vector<std::string>{"i", "a{sv}", "(ias)", "v", "aa{oa{sv}}"}));
  EXPECT_TRUE(split_signature(""));
  for (const char* bad : {"a", "(", "()", "a{vs}", "a{s}", "a{sss}", "{sv}", "z", "(i", "ia{s"}) {
    auto refused = split_signature(bad);
    EXPECT_FALSE(refused) << bad;
  }
  EXPECT_FALSE(split_signature(std::string(256, 'i')));
  EXPECT_FALSE(split_signature(std::string(33, 'a') + "i"));
}

TEST(DbusTypeSchema, FollowsTheMarshallersMapping) {
  auto byte = type_schema("y");
  ASSERT_TRUE(byte);
  EXPECT_EQ((*byte)["minimum"], 0);
  EXPECT_EQ((*byte)["maximum"], 255);
  auto dict = type_schema("a{sa(ib)}");
  ASSERT_TRUE(dict);
  EXPECT_EQ((*dict)["type"], "object");
  const auto& structs = (*dict)["additionalProperties"]["items"];
  EXPECT_EQ(structs["minItems"], 2);
  EXPECT_EQ(structs["items"][1]["type"], "boolean");
  EXPECT_EQ((*type_schema("a{ud}"))["propertyNames"]["pattern"], "^-?[0-9]+(\\.[0-9]+)?$");
  EXPECT_EQ((*type_schema("t"))["type"], Json({"integer", "string"}));
  EXPECT_EQ(*type_schema("h"), Json(false));
  EXPECT_FALSE(type_schema("ii"));
  EXPECT_FALSE(type_schema("a{vs}"));
  auto arguments = arguments_schema({{"name", "s"}, {"", "u"}});
  ASSERT_TRUE(arguments);
  EXPECT_EQ((*arguments)["required"], Json({"name", "arg1"}));
  EXPECT_EQ((*arguments)["additionalProperties"], false);
}

TEST(DbusIntrospection, ParsesInterfacesMembersAndChildren) {
  auto node = parse_introspection(
      R"(<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <interface name="org.example.Link1">
    <method name="Rename">
      <arg name="to" type="s" direction="in"/>
      <arg name="ok" type="b" direction="out"/>
    </method>
    <signal name="Renamed"><arg name="name" type="s"/></signal>
    <property name="Mtu" type="u" access="readwrite"/>
    <property name="Index" type="i" access="read"/>
  </interface>
  <node name="child0"/>
  <node name="child1"/>
</node>)");
  ASSERT_TRUE(node) << node.error().describe();
  ASSERT_EQ(node->interfaces.size(), 1u);
  const auto& interface = node->interfaces[0];
  EXPECT_EQ(interface.name, "org.example.Link1");
  ASSERT_EQ(interface.methods.size(), 1u);
  EXPECT_EQ(interface.methods[0].in[0].type, "s");
  EXPECT_EQ(interface.methods[0].out[0].name, "ok");
  EXPECT_EQ(interface.signals[0].args[0].name, "name");
  EXPECT_EQ(interface.properties[0].access, "readwrite");
  EXPECT_EQ(node->children, (std::vector<std::string>{"child0", "child1"}));
  EXPECT_FALSE(parse_introspection("<node><interface name='x'>"));
  EXPECT_FALSE(
      parse_introspection("<node><interface name='x'><property name='p' type='a{vs}' "
                          "access='read'/></interface></node>"));
  auto nested = parse_introspection(
      "<node><interface name='x'><method name='a'><method name='b'><arg type='s'/></method>"
      "<arg type='i'/></method></interface></node>");
  ASSERT_TRUE(nested);  // stray nesting is ignored, never followed into freed memory
  EXPECT_EQ(nested->interfaces[0].methods.size(), 1u);
}

int echo(sd_bus_message* call, void*, sd_bus_error*) {
  sd_bus_message* reply = nullptr;
  int rc = sd_bus_message_new_method_return(call, &reply);
  if (rc >= 0) rc = sd_bus_message_copy(reply, call, 1);
  if (rc >= 0) rc = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return rc;
}

int emit(sd_bus_message* call, void*, sd_bus_error*) {
  int rc = sd_bus_emit_signal(sd_bus_message_get_bus(call), "/org/opdbus/Test", "org.opdbus.Test1",
                              "Changed", "su", "hello", 7u);
  return rc < 0 ? rc : sd_bus_reply_method_return(call, "");
}

int refuse(sd_bus_message*, void*, sd_bus_error* error) {
  return sd_bus_error_set(error, "org.opdbus.Test.Error.Nope", "the test service says no");
}

int get_name(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply, void*,
             sd_bus_error*) {
  return sd_bus_message_append_basic(reply, 's', std::strrchr(path, '/') + 1);
}

int get_mtu(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*,
            sd_bus_error*) {
  uint32_t mtu = 1500;
  return sd_bus_message_append_basic(reply, 'u', &mtu);
}

int set_mtu(sd_bus*, const char*, const char*, const char*, sd_bus_message*, void*, sd_bus_error*) {
  return 0;
}

const sd_bus_vtable kThingVtable[] = {
    SD_BUS_VTABLE_START(0), SD_BUS_PROPERTY("Name", "s", get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_WRITABLE_PROPERTY("Mtu", "u", get_mtu, set_mtu, 0, 0), SD_BUS_VTABLE_END};

const sd_bus_vtable kTestVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Echo", "v", "v", echo, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Refuse", "", "", refuse, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Emit", "", "", emit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("Changed", "su", 0),
    SD_BUS_VTABLE_END};

// A private dbus-daemon (started and stopped by PID) and an echo service on it.
class PrivateBus : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access("/usr/bin/dbus-daemon", X_OK) != 0) return;
    dir_ = std::filesystem::temp_directory_path() / ("opdbus-bus-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    int fds[2];
    if (::pipe(fds) != 0) return;
    daemon_ = ::fork();
    if (daemon_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      auto listen = "--address=unix:path=" + (dir_ / "bus").string();
      ::execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile",
              listen.c_str(), "--print-address", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    char buffer[512] = {};
    ssize_t n = ::read(fds[0], buffer, sizeof buffer - 1);
    ::close(fds[0]);
    if (n > 0) address_ = std::string(buffer, static_cast<size_t>(n) - 1);
    start_service();
  }

  static void start_service() {
    auto bus = Bus::open(address_);
    if (!bus) return;
    service_ = std::make_unique<Bus>(std::move(*bus));
    sd_bus_request_name(service_->raw(), "org.opdbus.Test", 0);
    sd_bus_add_object_vtable(service_->raw(), nullptr, "/org/opdbus/Test", "org.opdbus.Test1",
                             kTestVtable, nullptr);
    sd_bus_add_object_manager(service_->raw(), nullptr, "/org/opdbus/Test/things");
    for (const char* path : {"/org/opdbus/Test/things/a", "/org/opdbus/Test/things/b"})
      sd_bus_add_object_vtable(service_->raw(), nullptr, path, "org.opdbus.Thing1", kThingVtable,
                               nullptr);
    loop_ = std::thread([] {
      while (!stop_) {
        if (sd_bus_process(service_->raw(), nullptr) > 0) continue;
        sd_bus_wait(service_->raw(), 50'000);
      }
    });
  }

  static void TearDownTestSuite() {
    stop_ = true;
    if (loop_.joinable()) loop_.join();
    service_.reset();
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      ::waitpid(daemon_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  void SetUp() override {
    if (address_.empty()) GTEST_SKIP() << "dbus-daemon is not installed (package dbus-daemon)";
    auto bus = Bus::open(address_);
    ASSERT_TRUE(bus) << bus.error().describe();
    client_ = std::make_unique<Bus>(std::move(*bus));
  }

  Result<Json> echo_variant(const std::string& signature, const Json& value) {
    return client_->call({"org.opdbus.Test", "/org/opdbus/Test", "org.opdbus.Test1", "Echo", "v",
                          Json::array({{{"signature", signature}, {"value", value}}})});
  }

  static inline std::filesystem::path dir_;
  static inline pid_t daemon_ = 0;
  static inline std::string address_;
  static inline std::unique_ptr<Bus> service_;
  static inline std::thread loop_;
  static inline std::atomic<bool> stop_{false};
  std::unique_ptr<Bus> client_;
};

TEST_F(PrivateBus, EveryTypeRoundTripsThroughAService) {
  struct Case {
    std::string signature;
    Json value;
    Json expected;
  };
  std::vector<Case> cases = {
      {"y", 255, 255},
      {"b", true, true},
      {"n", -32768, -32768},
      {"q", 65535, 65535},
      {"i", -2147483648LL, -2147483648LL},
      {"u", 4294967295ULL, 4294967295ULL},
      {"x", INT64_MIN, "-9223372036854775808"},
      {"x", -(1LL << 53), -(1LL << 53)},
      {"t", UINT64_MAX, "18446744073709551615"},
      {"t", "18446744073709551615", "18446744073709551615"},
      {"t", 1ULL << 53, 1ULL << 53},
      {"i", "-12", -12},
      {"d", 1.5, 1.5},
      {"s", "h\u00e9llo", "h\u00e9llo"},
      {"o", "/org/opdbus/x", "/org/opdbus/x"},
      {"g", "a{sv}", "a{sv}"},
      {"ay", {1, 2, 3}, {1, 2, 3}},
      {"as", Json::array(), Json::array()},
      {"as", {"a", "b"}, {"a", "b"}},
      {"a{sv}", {{"k", 1}, {"s", "x"}, {"f", false}}, {{"k", 1}, {"s", "x"}, {"f", false}}},
      {"a{is}", {{"1", "one"}, {"-2", "two"}}, {{"1", "one"}, {"-2", "two"}}},
      {"(isb)", {7, "a", true}, {7, "a", true}},
      {"a(sv)", Json::array({Json::array({"k", 2.5})}), Json::array({Json::array({"k", 2.5})})},
      {"aa{sv}", Json::array({Json{{"a", true}}}), Json::array({Json{{"a", true}}})},
      {"v", 5, 5},
      {"v", {{"signature", "q"}, {"value", 7}}, 7},
      {"a{sa{sv}}", {{"o", {{"p", "q"}}}}, {{"o", {{"p", "q"}}}}},
  };
  for (const auto& test : cases) {
    auto result = echo_variant(test.signature, test.value);
    ASSERT_TRUE(result) << test.signature << ": " << result.error().describe();
    ASSERT_EQ(result->size(), 1u);
    EXPECT_EQ((*result)[0], test.expected) << test.signature;
  }
}

TEST_F(PrivateBus, TypedVariantsRoundTripExactly) {
  Json settings = {{"connection",
                    {{"id", {{"signature", "s"}, {"value", "lo"}}},
                     {"timestamp", {{"signature", "t"}, {"value", 17}}}}},
                   {"ipv4", {{"dns", {{"signature", "au"}, {"value", {16777343}}}}}}};
  MethodCall call{"org.opdbus.Test",
                  "/org/opdbus/Test",
                  "org.opdbus.Test1",
                  "Echo",
                  "v",
                  Json::array({{{"signature", "a{sa{sv}}"}, {"value", settings}}})};
  call.variants = Variants::typed;
  auto echoed = client_->call(call);
  ASSERT_TRUE(echoed) << echoed.error().describe();
  EXPECT_EQ((*echoed)[0], Json({{"signature", "a{sa{sv}}"}, {"value", settings}}))
      << (*echoed)[0].dump();
}

TEST_F(PrivateBus, WrongJsonIsRefusedNamingThePointer) {
  struct Case {
    std::string signature;
    Json value;
    std::string message;
  };
  std::vector<Case> cases = {
      {"y", 256, "/0/value: expected an integer in 0..255"},
      {"i", "seven", "/0/value: expected an integer"},
      {"i", "99999999999", "/0/value: expected an integer in -2147483648..2147483647"},
      {"(is)", {"a", "b"}, "/0/value/0: expected an integer"},
      {"a{sv}", {{"k", nullptr}}, "/0/value/k: expected a value with a D-Bus type"},
      {"a{is}", {{"one", "x"}}, "/0/value/one: expected a key of D-Bus type 'i'"},
      {"o", "not/a/path", "/0/value: expected an object path"},
      {"h", 3, "unix file descriptors cannot be passed"},
      {"a{vs}", Json::object(), "one complete D-Bus type"},
  };
  for (const auto& test : cases) {
    auto refused = echo_variant(test.signature, test.value);
    ASSERT_FALSE(refused) << test.signature;
    EXPECT_NE(refused.error().describe().find(test.message), std::string::npos)
        << test.signature << ": " << refused.error().describe();
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_input) << test.signature;
  }
}

TEST_F(PrivateBus, RemoteErrorsCarryTheirName) {
  auto refused = client_->call(
      {"org.opdbus.Test", "/org/opdbus/Test", "org.opdbus.Test1", "Refuse", "", Json::array()});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("org.opdbus.Test.Error.Nope"), std::string::npos);
  auto missing = client_->call({"org.opdbus.Missing", "/", "org.opdbus.Missing1", "Nothing", "",
                                Json::array(), std::chrono::milliseconds(2000)});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::unavailable) << missing.error().describe();
  auto unknown = client_->call({"org.opdbus.Test", "/org/opdbus/Test", "org.opdbus.Test1",
                                "NoSuchMethod", "", Json::array()});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_input) << unknown.error().describe();
}

TEST_F(PrivateBus, SignalsReachSubscribersUntilTheyUnsubscribe) {
  std::vector<SignalEvent> events;
  auto subscription =
      client_->subscribe({"", "/org/opdbus/Test", "org.opdbus.Test1", "Changed"},
                         [&](const SignalEvent& event) { events.push_back(event); });
  ASSERT_TRUE(subscription) << subscription.error().describe();
  MethodCall emit_call{"org.opdbus.Test", "/org/opdbus/Test", "org.opdbus.Test1", "Emit", "",
                       Json::array()};
  ASSERT_TRUE(client_->call(emit_call));
  for (int i = 0; i < 50 && events.empty(); ++i)
    ASSERT_TRUE(client_->process(std::chrono::milliseconds(100)));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].member, "Changed");
  EXPECT_EQ(events[0].path, "/org/opdbus/Test");
  EXPECT_EQ(events[0].arguments, Json::array({"hello", 7}));

  { auto gone = std::move(*subscription); }
  events.clear();
  ASSERT_TRUE(client_->call(emit_call));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client_->process(std::chrono::milliseconds(100)));
  EXPECT_TRUE(events.empty()) << "a dropped subscription still delivered";
  EXPECT_FALSE(client_->subscribe({"", "/it's", "", ""}, [](const SignalEvent&) {}));
}

TEST_F(PrivateBus, WalksEveryObjectOfAService) {
  auto objects = walk_service(*client_, "org.opdbus.Test");
  ASSERT_TRUE(objects) << objects.error().describe();
  std::map<std::string, std::set<std::string>> found;
  for (const auto& object : *objects)
    for (const auto& interface : object.interfaces) found[object.path].insert(interface.name);
  EXPECT_TRUE(found["/org/opdbus/Test"].count("org.opdbus.Test1"));
  EXPECT_TRUE(found["/org/opdbus/Test/things"].count("org.freedesktop.DBus.ObjectManager"));
  for (const char* path : {"/org/opdbus/Test/things/a", "/org/opdbus/Test/things/b"}) {
    ASSERT_TRUE(found[path].count("org.opdbus.Thing1")) << path;
  }
  const ObjectInfo* thing = nullptr;
  for (const auto& object : *objects)
    if (object.path == "/org/opdbus/Test/things/a") thing = &object;
  ASSERT_NE(thing, nullptr);
  for (const auto& interface : thing->interfaces) {
    if (interface.name != "org.opdbus.Thing1") continue;
    auto described = interface_json(interface);
    EXPECT_EQ(described["properties"]["Mtu"], (Json{{"type", "u"}, {"access", "readwrite"}}));
    EXPECT_EQ(described["properties"]["Name"]["access"], "read");
  }
  auto limited =
      walk_service(*client_, "org.opdbus.Test",
                   WalkLimits{2, std::chrono::milliseconds(2000), std::chrono::milliseconds(5000)});
  EXPECT_FALSE(limited) << "the object limit stops the walk";
}

TEST_F(PrivateBus, DiscoveryIndexesEveryServiceAndReportsChanges) {
  auto services = dbusplugin::discover(*client_, {});
  ASSERT_TRUE(services) << services.error().describe();
  auto test_service = std::find_if(services->begin(), services->end(),
                                   [](const auto& s) { return s.name == "org.opdbus.Test"; });
  ASSERT_NE(test_service, services->end());
  EXPECT_TRUE(test_service->running);
  EXPECT_TRUE(test_service->error.empty()) << test_service->error;

  auto database = dir_ / ("index-" + std::to_string(::getpid()) + ".sqlite");
  auto first = dbusplugin::replace_index(database, *services);
  ASSERT_TRUE(first) << first.error().describe();
  std::string thing = "org.opdbus.Test /org/opdbus/Test/things/a org.opdbus.Thing1";
  EXPECT_NE(std::find(first->appeared.begin(), first->appeared.end(), thing),
            first->appeared.end());
  auto again = dbusplugin::replace_index(database, *services);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->appeared.empty() && again->vanished.empty());

  {
    auto db = *Database::open(database);
    auto query = *db.prepare(
        "SELECT signature, access FROM members WHERE service = 'org.opdbus.Test' AND name = "
        "'Mtu' AND path = '/org/opdbus/Test/things/a'");
    ASSERT_TRUE(*query.step());
    EXPECT_EQ(query.text(0), "u");
    EXPECT_EQ(query.text(1), "readwrite");
  }

  services->erase(test_service);
  auto gone = dbusplugin::replace_index(database, *services);
  ASSERT_TRUE(gone);
  EXPECT_NE(std::find(gone->vanished.begin(), gone->vanished.end(), thing), gone->vanished.end());
}

}  // namespace
}  // namespace opdbus::dbus
