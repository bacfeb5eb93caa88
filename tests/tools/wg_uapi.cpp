// opdbus-wg-uapi, a test tool: drives a WireGuard device over its UAPI socket with op-dbus's
// client (src/proto/wireguard), so a test can compare the result with `wg show` as the oracle.
//   SOCKET get             prints {"listen_port", "peers": [{"public_key", "endpoint",
//                          "allowed_ips", "persistent_keepalive", "rx_bytes", "tx_bytes"}]}
//   SOCKET set FILE.json   {"private_key_file" (created 0600 when missing), "listen_port",
//                          "replace_peers", "peers": [{"public_key", "endpoint", "allowed_ips",
//                          "persistent_keepalive", "remove"}]}; prints {"public_key"} of the device
// Exit 1 with a message on any error (nothing is sent when the request is malformed).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/json_util.h"
#include "proto/wireguard/uapi.h"

using namespace opdbus;
using namespace opdbus::wireguard;

namespace {

Json device_json(const Device& device) {
  Json peers = Json::array();
  for (const auto& peer : device.peers) {
    Json ips = Json::array();
    for (const auto& prefix : peer.allowed_ips) ips.push_back(prefix.to_string());
    peers.push_back({{"public_key", peer.public_key.base64()},
                     {"endpoint", peer.endpoint ? peer.endpoint->to_string() : ""},
                     {"allowed_ips", ips},
                     {"persistent_keepalive", peer.persistent_keepalive},
                     {"rx_bytes", peer.rx_bytes},
                     {"tx_bytes", peer.tx_bytes}});
  }
  return {{"listen_port", device.listen_port}, {"peers", peers}};
}

Result<PeerChange> peer_change(const Json& json) {
  PeerChange change;
  change.peer.public_key = TRY(Key::from_base64(json.value("public_key", "")));
  change.remove = json.value("remove", false);
  if (json.contains("endpoint"))
    change.peer.endpoint = TRY(Endpoint::parse(json["endpoint"].get<std::string>()));
  change.peer.persistent_keepalive = json.value("persistent_keepalive", uint16_t{0});
  for (const auto& ip : json.value("allowed_ips", Json::array()))
    change.peer.allowed_ips.push_back(TRY(netlink::Prefix::parse(ip.get<std::string>())));
  change.replace_allowed_ips = true;
  return change;
}

Result<Json> set(UapiClient& client, const std::string& file) {
  std::ifstream in(file);
  auto json = Json::parse(in, nullptr, false);
  if (!json.is_object()) return fail(ErrorCode::invalid_input, "{}: not a JSON object", file);
  DeviceChange change;
  Json out = Json::object();
  if (json.contains("private_key_file")) {
    change.private_key =
        TRY(load_or_create_private_key(json["private_key_file"].get<std::string>()));
    out["public_key"] = TRY(change.private_key->public_key()).base64();
  }
  if (json.contains("listen_port")) change.listen_port = json["listen_port"].get<uint16_t>();
  change.replace_peers = json.value("replace_peers", false);
  for (const auto& peer : json.value("peers", Json::array()))
    change.peers.push_back(TRY(peer_change(peer)));
  TRY(client.set(change));
  return out;
}

Result<Json> run(int argc, char** argv) {
  if (argc < 3) return fail(ErrorCode::invalid_input, "usage: see the top of wg_uapi.cpp");
  UapiClient client(argv[1]);
  std::string mode = argv[2];
  if (mode == "get") return device_json(TRY(client.get()));
  if (mode == "set" && argc > 3) return set(client, argv[3]);
  return fail(ErrorCode::invalid_input, "unknown mode {}", mode);
}

}  // namespace

int main(int argc, char** argv) {
  auto result = run(argc, argv);
  if (!result) {
    std::fprintf(stderr, "opdbus-wg-uapi: %s\n", result.error().describe().c_str());
    return 1;
  }
  std::cout << result->dump() << '\n';
  return 0;
}
