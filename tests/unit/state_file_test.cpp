// Unit tests for desired-state documents: JSON and YAML parsing, syntax errors located by
// file:line:column, and validation against the built-in plugins' schemas, with every problem
// reported at once with its location and JSON pointer.
#include <gtest/gtest.h>

#include <string>

#include "engine/state_file.h"
#include "plugins/builtin.h"

namespace opdbus {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto status = register_builtin_plugins(registry_, {});
    ASSERT_TRUE(status.has_value()) << status.error().describe();
  }

  // The validation error for `text`, or an empty message when it parsed and validated.
  Error validation_error(const std::string& path, const std::string& text) {
    auto document = parse_state_text(path, text);
    EXPECT_TRUE(document.has_value()) << document.error().describe();
    if (!document) return document.error();
    auto status = validate_state_document(*document, registry_);
    return status ? Error{} : status.error();
  }

  Registry registry_;
};

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

TEST_F(StateFileTest, ValidJsonPasses) {
  const std::string text = R"({"version": 1, "plugins": {"net": {
      "interfaces": [{"name": "br0", "type": "bridge",
                      "ipv4": {"address": [{"ip": "10.0.0.1", "prefix": 24}]}}],
      "routes": [{"destination": "default", "gateway": "10.0.0.254"}]}}})";
  auto document = parse_state_text("state.json", text);
  ASSERT_TRUE(document.has_value()) << document.error().describe();
  EXPECT_EQ(document->path, "state.json");
  EXPECT_EQ(document->plugins()["net"]["interfaces"][0]["name"], "br0");
  auto status = validate_state_document(*document, registry_);
  EXPECT_TRUE(status.has_value()) << status.error().describe();
}

TEST_F(StateFileTest, JsonSyntaxErrorIsLocated) {
  const std::string text = "{\n  \"version\": 1,\n  \"plugins\": {,}\n}\n";
  auto document = parse_state_text("state.json", text);
  ASSERT_FALSE(document.has_value());
  EXPECT_EQ(document.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(document.error().message.rfind("state.json:3:15: invalid JSON: syntax error", 0), 0u)
      << document.error().message;
}

TEST_F(StateFileTest, JsonSyntaxErrorOnTheFirstLine) {
  auto document = parse_state_text("s.json", "{\"version\" 1}");
  ASSERT_FALSE(document.has_value());
  EXPECT_EQ(document.error().message.rfind("s.json:1:12: invalid JSON", 0), 0u)
      << document.error().message;
}

TEST_F(StateFileTest, YamlSyntaxErrorIsLocated) {
  const std::string text = "version: 1\nplugins:\n  net:\n    interfaces: [eth0\n";
  auto document = parse_state_text("state.yaml", text);
  ASSERT_FALSE(document.has_value());
  EXPECT_EQ(document.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(document.error().message.rfind("state.yaml:5:1: invalid YAML: ", 0), 0u)
      << document.error().message;
}

TEST_F(StateFileTest, YamlBadIndentationIsLocated) {
  const std::string text = "version: 1\nplugins:\n  net: {}\n bad: 2\n";
  auto document = parse_state_text("state.yml", text);
  ASSERT_FALSE(document.has_value());
  EXPECT_EQ(document.error().message.rfind("state.yml:4:2: invalid YAML: ", 0), 0u)
      << document.error().message;
}

TEST_F(StateFileTest, UnknownPluginListsTheKnownOnes) {
  auto error = validation_error("state.json", R"({"version": 1, "plugins": {"xyz": {}}})");
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_TRUE(contains(error.message, "state.json: 1 problem in the desired state"))
      << error.message;
  EXPECT_TRUE(contains(error.message,
                       "state.json:1:28: /plugins/xyz: unknown plugin 'xyz' (known plugins: "))
      << error.message;
}

TEST_F(StateFileTest, WrongTypeIsLocatedAtTheKey) {
  const std::string text = R"({
  "version": 1,
  "plugins": {
    "net": {
      "interfaces": [
        {"name": "eth0", "mtu": "big"}
      ]
    }
  }
}
)";
  auto error = validation_error("state.json", text);
  EXPECT_EQ(error.code, ErrorCode::invalid_input);
  EXPECT_TRUE(contains(
      error.message,
      "\n  state.json:6:26: /plugins/net/interfaces/0/mtu: expected integer, got string \"big\""))
      << error.message;
}

TEST_F(StateFileTest, WrongTypeInYaml) {
  const std::string text =
      "version: 1\n"
      "plugins:\n"
      "  net:\n"
      "    interfaces:\n"
      "      - name: eth0\n"
      "        mtu: big\n";
  auto error = validation_error("state.yaml", text);
  EXPECT_TRUE(contains(
      error.message, "state.yaml:6:9: /plugins/net/interfaces/0/mtu: expected integer, got string"))
      << error.message;
}

TEST_F(StateFileTest, UnknownFieldNamesTheAllowedOnes) {
  auto error = validation_error(
      "state.json",
      R"({"version": 1, "plugins": {"net": {"interfaces": [{"name": "eth0", "speed": 100}]}}})");
  EXPECT_TRUE(contains(
      error.message,
      "state.json:1:68: /plugins/net/interfaces/0/speed: unknown field 'speed' (expected one of: "))
      << error.message;
  for (const char* allowed :
       {"altnames", "bridge", "ipv4", "mac_address", "mtu", "name", "type", "vxlan"})
    EXPECT_TRUE(contains(error.message, allowed)) << allowed << " missing from " << error.message;
}

TEST_F(StateFileTest, UnknownTopLevelField) {
  auto error = validation_error("state.json", R"({"version": 1, "plugins": {}, "extra": true})");
  EXPECT_TRUE(
      contains(error.message, "/extra: unknown field 'extra' (expected one of: version, plugins)"))
      << error.message;
}

TEST_F(StateFileTest, MissingVersion) {
  auto error = validation_error("state.json", R"({"plugins": {}})");
  EXPECT_TRUE(contains(error.message, "1 problem in")) << error.message;
  EXPECT_TRUE(
      contains(error.message, "\n  state.json: /: missing required field 'version' (use 1)"))
      << error.message;
}

TEST_F(StateFileTest, UnsupportedVersion) {
  auto error = validation_error("state.json", "{\"version\": 2,\n \"plugins\": {}}");
  EXPECT_TRUE(
      contains(error.message,
               "state.json:1:2: /version: unsupported version 2 (this op-dbus reads version 1)"))
      << error.message;
}

TEST_F(StateFileTest, SeveralProblemsAreReportedTogether) {
  const std::string text =
      "version: 3\n"
      "plugins:\n"
      "  xyz: {}\n"
      "  net:\n"
      "    interfaces:\n"
      "      - name: eth0\n"
      "        mtu: big\n"
      "        state: sideways\n";
  auto error = validation_error("state.yaml", text);
  EXPECT_TRUE(contains(error.message, "state.yaml: 4 problems in the desired state"))
      << error.message;
  EXPECT_TRUE(contains(error.message, "state.yaml:1:1: /version: unsupported version 3"))
      << error.message;
  EXPECT_TRUE(contains(error.message, "state.yaml:3:3: /plugins/xyz: unknown plugin"))
      << error.message;
  EXPECT_TRUE(
      contains(error.message, "state.yaml:7:9: /plugins/net/interfaces/0/mtu: expected integer"))
      << error.message;
  EXPECT_TRUE(contains(
      error.message,
      "state.yaml:8:9: /plugins/net/interfaces/0/state: expected one of: up, down, absent; got "
      "\"sideways\""))
      << error.message;
}

TEST_F(StateFileTest, SemanticProblemsComeFromThePlugin) {
  const std::string text =
      "version: 1\n"
      "plugins:\n"
      "  net:\n"
      "    routes:\n"
      "      - destination: 10.1.2.3/8\n"
      "        dev: eth0\n";
  auto error = validation_error("state.yaml", text);
  EXPECT_TRUE(
      contains(error.message,
               "state.yaml:5:9: /plugins/net/routes/0/destination: '10.1.2.3/8' has host bits"))
      << error.message;
}

TEST_F(StateFileTest, YamlScalarsFollowTheCoreSchema) {
  const std::string text =
      "version: 1\n"
      "plugins:\n"
      "  net:\n"
      "    interfaces:\n"
      "      - name: \"123\"\n"
      "        mtu: 1500\n"
      "        master: ~\n"
      "        bridge: {stp: false}\n"
      "      - name: '0x10'\n"
      "        bridge: {stp: True}\n"
      "        altnames: [yes, 42, -7, 1.5, 0x10, null]\n";
  auto document = parse_state_text("state.yaml", text);
  ASSERT_TRUE(document.has_value()) << document.error().describe();
  const Json& interfaces = document->plugins()["net"]["interfaces"];
  EXPECT_EQ(document->root["version"], Json(1));
  EXPECT_EQ(interfaces[0]["name"], Json("123"));
  EXPECT_EQ(interfaces[0]["mtu"], Json(1500));
  EXPECT_TRUE(interfaces[0]["master"].is_null());
  EXPECT_EQ(interfaces[0]["bridge"]["stp"], Json(false));
  EXPECT_EQ(interfaces[1]["name"], Json("0x10"));
  EXPECT_EQ(interfaces[1]["bridge"]["stp"], Json(true));
  EXPECT_EQ(interfaces[1]["altnames"], Json::parse(R"(["yes", 42, -7, 1.5, 16, null])"));
  EXPECT_TRUE(interfaces[0]["mtu"].is_number_integer());
}

TEST_F(StateFileTest, YamlWithoutSuffixIsDetectedByContent) {
  auto document = parse_state_text("state", "version: 1\nplugins: {}\n");
  ASSERT_TRUE(document.has_value()) << document.error().describe();
  EXPECT_EQ(document->root, Json::parse(R"({"version": 1, "plugins": {}})"));
  EXPECT_TRUE(validate_state_document(*document, registry_).has_value());
}

TEST_F(StateFileTest, LocateFallsBackToTheNearestAncestor) {
  const std::string text =
      "version: 1\n"
      "plugins:\n"
      "  net:\n"
      "    interfaces:\n"
      "      - name: eth0\n"
      "        mtu: 1500\n";
  auto document = parse_state_text("state.yaml", text);
  ASSERT_TRUE(document.has_value());
  EXPECT_EQ(document->locate("/plugins/net/interfaces/0/mtu"), "state.yaml:6:9");
  EXPECT_EQ(document->locate("/plugins/net/interfaces/0"), "state.yaml:5:9");
  EXPECT_EQ(document->locate("/plugins/net/interfaces/0/ipv4/address/0"), "state.yaml:5:9");
  EXPECT_EQ(document->locate("/plugins/net/routes/3"), "state.yaml:3:3");
  EXPECT_EQ(document->locate("/nowhere"), "state.yaml");
  EXPECT_EQ(document->locate(""), "state.yaml");
}

}  // namespace
}  // namespace opdbus
