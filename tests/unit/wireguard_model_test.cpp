// The wireguard plugin's pure model: normalising devices, validation with JSON pointers, and the
// diff (convergence, complete peer sets, keys named by file or fingerprint, never by value).
#include <gtest/gtest.h>

#include "plugins/wireguard/model.h"

namespace opdbus::wg {
namespace {

using wireguard::Key;

Key key_of(uint8_t fill) {
  Key key;
  key.bytes.fill(fill);
  return key;
}

// Key files as the diff sees them: path -> key; any other path does not exist.
KeyFileReader files(std::map<std::string, Key> keys) {
  return [keys](const std::string& path) -> Result<std::optional<Key>> {
    auto found = keys.find(path);
    if (found == keys.end()) return std::optional<Key>();
    return std::optional<Key>(found->second);
  };
}

InterfaceState sample_state() {
  InterfaceState state;
  state.implementation = "userspace";
  state.device.private_key = key_of(1);
  state.device.listen_port = 51820;
  wireguard::Peer peer;
  peer.public_key = key_of(2);
  peer.endpoint = *wireguard::Endpoint::parse("192.0.2.1:51820");
  peer.allowed_ips = {*netlink::Prefix::parse("10.77.0.9/32"),
                      *netlink::Prefix::parse("10.77.0.2/32")};
  peer.preshared_key = key_of(4);
  peer.rx_bytes = 100;
  state.device.peers.push_back(peer);
  state.addresses = {"10.77.0.1/24"};
  return state;
}

Json desired(Json interface) {
  return {{"interfaces", {{"wg0", std::move(interface)}}}};
}

TEST(WireguardModel, NormalisesWithoutSecrets) {
  auto current = normalise({{"wg0", sample_state()}});
  const auto& wg0 = current["interfaces"]["wg0"];
  EXPECT_EQ(wg0["public_key"], key_of(1).public_key()->base64());
  EXPECT_EQ(wg0["peers"][0]["allowed_ips"], Json({"10.77.0.2/32", "10.77.0.9/32"}));
  EXPECT_EQ(wg0["peers"][0]["preshared_key_sha256"], key_of(4).fingerprint());
  auto text = current.dump();
  EXPECT_EQ(text.find(key_of(1).base64()), std::string::npos);
  EXPECT_EQ(text.find(key_of(4).base64()), std::string::npos);
}

TEST(WireguardModel, AQueryFedBackIsANoOp) {
  auto current = normalise({{"wg0", sample_state()}});
  auto changes = plan_interfaces(current, exact_interfaces(current, current), files({}));
  ASSERT_TRUE(changes) << changes.error().describe();
  EXPECT_TRUE(changes->empty()) << changes->front().to_json().dump();
}

TEST(WireguardModel, ConvergesOnEquivalentSpellings) {
  auto current = normalise({{"wg0", sample_state()}});
  auto changes = plan_interfaces(current,
                                 desired({{"private_key_file", "/k/wg0"},
                                          {"listen_port", 51820},
                                          {"addresses", {"10.77.0.1/24"}},
                                          {"peers",
                                           {{{"public_key", key_of(2).base64()},
                                             {"endpoint", "192.0.2.1:51820"},
                                             {"allowed_ips", {"10.77.0.9/32", "10.77.0.2"}},
                                             {"preshared_key_file", "/k/psk"}}}}}),
                                 files({{"/k/wg0", key_of(1)}, {"/k/psk", key_of(4)}}));
  ASSERT_TRUE(changes) << changes.error().describe();
  EXPECT_TRUE(changes->empty()) << changes->front().to_json().dump();
}

TEST(WireguardModel, PlansKeysPeersAndRemovals) {
  auto current = normalise({{"wg0", sample_state()}});
  auto changes = plan_interfaces(
      current,
      desired(
          {{"private_key_file", "/k/new"},
           {"peers", {{{"public_key", key_of(3).base64()}, {"allowed_ips", {"10.77.0.3/32"}}}}}}),
      files({}));
  ASSERT_TRUE(changes) << changes.error().describe();
  ASSERT_EQ(changes->size(), 3U);
  const auto& key = (*changes)[0];
  EXPECT_EQ(key.kind, "interface");
  EXPECT_EQ(key.after["private_key_file"], "/k/new");
  EXPECT_EQ(key.before.dump().find(key_of(1).base64()), std::string::npos);
  EXPECT_EQ((*changes)[1].op, ChangeOp::create);
  EXPECT_EQ((*changes)[1].after["interface"], "wg0");
  EXPECT_EQ((*changes)[1].pointer, "/interfaces/wg0/peers/0");
  EXPECT_EQ((*changes)[2].op, ChangeOp::remove);
  EXPECT_EQ((*changes)[2].id, "wg0 peer " + key_of(2).base64());
}

TEST(WireguardModel, ChangedPresharedKeyIsNamedByFingerprint) {
  auto current = normalise({{"wg0", sample_state()}});
  auto changes = plan_interfaces(
      current,
      desired(
          {{"peers", {{{"public_key", key_of(2).base64()}, {"preshared_key_file", "/k/other"}}}}}),
      files({{"/k/other", key_of(5)}}));
  ASSERT_TRUE(changes) << changes.error().describe();
  ASSERT_EQ(changes->size(), 1U);
  const auto& change = changes->front();
  EXPECT_EQ(change.op, ChangeOp::modify);
  EXPECT_EQ(change.after["preshared_key_file"], "/k/other");
  EXPECT_NE(change.before["preshared_key_file"].get<std::string>().find(key_of(4).fingerprint()),
            std::string::npos);
  EXPECT_FALSE(change.after.contains("allowed_ips"));
  auto missing = plan_interfaces(
      current,
      desired(
          {{"peers", {{{"public_key", key_of(2).base64()}, {"preshared_key_file", "/k/absent"}}}}}),
      files({}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/k/absent"), std::string::npos);
}

TEST(WireguardModel, ChangingImplementationRecreates) {
  auto current = normalise({{"wg0", sample_state()}});
  auto changes = plan_interfaces(current, desired({{"implementation", "kernel"}}), files({}));
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 2U);
  EXPECT_EQ((*changes)[0].op, ChangeOp::remove);
  EXPECT_EQ((*changes)[1].op, ChangeOp::create);
}

TEST(WireguardModel, AbsentAndObserve) {
  auto current = normalise({{"wg0", sample_state()}});
  auto gone =
      plan_interfaces(current, desired({{"state", "absent"}, {"mode", "observe"}}), files({}));
  ASSERT_TRUE(gone);
  ASSERT_EQ(gone->size(), 1U);
  EXPECT_EQ(gone->front().op, ChangeOp::remove);
  EXPECT_TRUE(gone->front().observe);
  auto nothing = plan_interfaces(Json::object(), desired({{"state", "absent"}}), files({}));
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
}

TEST(WireguardModel, ValidationPointsAtTheBadItem) {
  Json section = {{"interfaces",
                   {{"wg0",
                     {{"private_key_file", "relative.key"},
                      {"listen_port", 51820},
                      {"addresses", {"10.77.0.1/24", "10.77.0.1/24", "10.77.0.1"}},
                      {"peers",
                       {{{"public_key", "not-base64"}, {"allowed_ips", {"10.77.0.5/24"}}},
                        {{"public_key", key_of(2).base64()}, {"endpoint", "192.0.2.1"}},
                        {{"public_key", key_of(2).base64()}}}}}},
                    {"wg1", {{"listen_port", 51820}}}}}};
  std::set<std::string> pointers;
  for (const auto& problem : validate_interfaces(section, "/plugins/wireguard"))
    pointers.insert(problem.pointer);
  for (const auto* expected : {"/plugins/wireguard/interfaces/wg0/private_key_file",
                               "/plugins/wireguard/interfaces/wg0/addresses/1",
                               "/plugins/wireguard/interfaces/wg0/addresses/2",
                               "/plugins/wireguard/interfaces/wg0/peers/0/public_key",
                               "/plugins/wireguard/interfaces/wg0/peers/0/allowed_ips/0",
                               "/plugins/wireguard/interfaces/wg0/peers/1/endpoint",
                               "/plugins/wireguard/interfaces/wg0/peers/2/public_key",
                               "/plugins/wireguard/interfaces/wg1/listen_port"})
    EXPECT_TRUE(pointers.count(expected)) << expected;
  EXPECT_EQ(pointers.size(), 8U);
}

TEST(WireguardModel, CheckpointsAndExactTargetsDropReadOnlyFields) {
  auto current = normalise({{"wg0", sample_state()}});
  Change change;
  change.kind = "peer";
  change.after = {{"interface", "wg0"}, {"public_key", key_of(3).base64()}};
  Change other;
  other.kind = "interface";
  other.id = "wg9";
  auto data = checkpoint_interfaces(current, {change, other});
  EXPECT_FALSE(data["interfaces"]["wg0"].contains("public_key"));
  EXPECT_FALSE(data["interfaces"]["wg0"]["peers"][0].contains("rx_bytes"));
  EXPECT_EQ(data["interfaces"]["wg9"], Json({{"state", "absent"}}));
  auto exact = exact_interfaces(Json::object(), current);
  EXPECT_EQ(exact["interfaces"]["wg0"], Json({{"state", "absent"}}));
}

}  // namespace
}  // namespace opdbus::wg
