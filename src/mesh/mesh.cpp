// A mesh's configuration and its state on this host; see mesh.h.
#include "mesh/mesh.h"

#include <sys/socket.h>

#include <regex>

#include "proto/wireguard/key.h"

namespace opdbus::mesh {
namespace {

Result<netlink::Prefix> ipv4_prefix(const Json& item, const char* field, const std::string& mesh) {
  if (!item.contains(field) || !item[field].is_string())
    return fail(ErrorCode::invalid_input, "mesh {}: {} (an IPv4 ADDRESS/LENGTH) is required", mesh,
                field);
  auto prefix = netlink::Prefix::parse(item[field].get<std::string>());
  if (!prefix || prefix->address.length() != 4 || prefix->length > 30)
    return fail(ErrorCode::invalid_input, "mesh {}: {} '{}' is not an IPv4 network of /30 or more",
                mesh, field, item[field].get<std::string>());
  return prefix;
}

uint32_t to_number(const netlink::IpAddress& address) {
  return uint32_t{address.bytes[0]} << 24 | uint32_t{address.bytes[1]} << 16 |
         uint32_t{address.bytes[2]} << 8 | address.bytes[3];
}

netlink::IpAddress from_number(uint32_t value) {
  netlink::IpAddress address;
  address.family = AF_INET;
  for (int i = 0; i < 4; ++i) address.bytes[i] = static_cast<uint8_t>(value >> (24 - 8 * i));
  return address;
}

bool contains(const netlink::Prefix& outer, const netlink::Prefix& inner) {
  if (inner.length < outer.length) return false;
  uint32_t mask = outer.length == 0 ? 0 : ~uint32_t{0} << (32 - outer.length);
  return (to_number(inner.address) & mask) == to_number(outer.address);
}

Json member_json(const Member& member) {
  return {{"address", member.address},
          {"public_key", member.public_key},
          {"enrolled", member.enrolled}};
}

Json host_json(const RemoteHost& host) {
  return {{"host", host.host},
          {"public_key", host.public_key},
          {"endpoint", host.endpoint},
          {"allowed_ips", host.allowed_ips},
          {"verifier", host.verifier}};
}

}  // namespace

Result<MeshConfig> parse_config(const std::string& name, const Json& item) {
  static const std::regex valid_name("^[A-Za-z0-9_-]{1,12}$");
  if (!std::regex_match(name, valid_name))
    return fail(ErrorCode::invalid_input,
                "mesh name '{}' must be 1-12 letters, digits, '-' or '_' (it names interfaces)",
                name);
  MeshConfig config;
  config.name = name;
  config.cidr = TRY(ipv4_prefix(item, "cidr", name));
  config.prefix = item.contains("prefix") ? TRY(ipv4_prefix(item, "prefix", name)) : config.cidr;
  if (!contains(config.cidr, config.prefix))
    return fail(ErrorCode::invalid_input, "mesh {}: prefix {} is not inside cidr {}", name,
                config.prefix.to_string(), config.cidr.to_string());
  config.interface = item.value("interface", "wg-" + name);
  if (config.interface.empty() || config.interface.size() > 15)
    return fail(ErrorCode::invalid_input, "mesh {}: interface '{}' is not 1-15 characters", name,
                config.interface);
  config.listen_port = item.value("listen_port", uint16_t{51820});
  config.endpoint = item.value("endpoint", "");
  config.container_endpoint = item.value("container_endpoint", "");
  config.implementation = item.value("implementation", "auto");
  for (const auto* field : {"endpoint", "container_endpoint"})
    if (item.contains(field))
      if (auto endpoint = wireguard::Endpoint::parse(item[field].get<std::string>()); !endpoint)
        return fail(ErrorCode::invalid_input, "mesh {}: {}: {}", name, field,
                    endpoint.error().message);
  return config;
}

netlink::IpAddress host_address(const netlink::Prefix& prefix) {
  return from_number(to_number(prefix.address) + 1);
}

Result<netlink::IpAddress> next_free(const netlink::Prefix& prefix,
                                     const std::set<std::string>& taken) {
  const uint32_t first = to_number(prefix.address) + 2;  // after the network and the host
  const uint32_t size = prefix.length == 32 ? 1 : uint32_t{1} << (32 - prefix.length);
  const uint32_t last = to_number(prefix.address) + size - 2;  // before the broadcast address
  for (uint32_t value = first; value <= last; ++value) {
    auto address = from_number(value);
    if (!taken.count(address.to_string())) return address;
  }
  return fail(ErrorCode::conflict, "mesh prefix {} has no free address left", prefix.to_string());
}

std::filesystem::path MeshState::directory_of(const std::filesystem::path& state_dir,
                                              const std::string& mesh) {
  return state_dir / "mesh" / mesh;
}

Result<MeshState> MeshState::open(const std::filesystem::path& state_dir,
                                  const MeshConfig& config) {
  auto directory = directory_of(state_dir, config.name);
  TRY(ensure_directory(directory / "keys", 0700));
  auto lock = TRY(FileLock::acquire(directory / "lock", true));
  MeshState state(config, directory, std::move(lock));
  TRY(state.load());
  return state;
}

Status MeshState::load() {
  for (const auto& [file, target] : {std::pair{"members.json", 0}, std::pair{"hosts.json", 1}}) {
    auto text = read_file(directory_ / file);
    if (!text) continue;  // none yet
    auto json = Json::parse(*text, nullptr, false);
    if (!json.is_object())
      return fail(ErrorCode::invalid_input, "{} is not a JSON object",
                  (directory_ / file).string());
    for (const auto& [key, value] : json.items()) {
      if (target == 0)
        members_[key] = {value.value("address", ""), value.value("public_key", ""),
                         value.value("enrolled", false)};
      else
        hosts_[key] = {value.value("host", ""), key, value.value("endpoint", ""),
                       value.value("allowed_ips", std::vector<std::string>{}),
                       value.value("verifier", "")};
    }
  }
  return ok();
}

std::filesystem::path MeshState::member_key_file(const std::string& member) const {
  return directory_ / "keys" / (member + ".key");
}

std::filesystem::path MeshState::member_run_directory(const std::string& member) const {
  return directory_ / "run" / member;
}

Result<Member> MeshState::assign(const std::string& member) {
  auto key = TRY(wireguard::load_or_create_private_key(member_key_file(member)));
  auto& entry = members_[member];
  entry.public_key = TRY(key.public_key()).base64();
  if (entry.address.empty()) {
    std::set<std::string> taken;
    for (const auto& [name, other] : members_) taken.insert(other.address);
    entry.address = TRY(next_free(config_.prefix, taken)).to_string();
  }
  return entry;
}

void MeshState::set_enrolled(const std::string& member, bool enrolled) {
  members_[member].enrolled = enrolled;
}

void MeshState::release(const std::string& member) {
  members_.erase(member);
  std::error_code error;
  std::filesystem::remove(member_key_file(member), error);
}

void MeshState::add_host(RemoteHost host) {
  auto key = host.public_key;
  hosts_[key] = std::move(host);
}

void MeshState::remove_host(const std::string& public_key) {
  hosts_.erase(public_key);
}

Status MeshState::save() const {
  Json members = Json::object(), hosts = Json::object();
  for (const auto& [name, member] : members_) members[name] = member_json(member);
  for (const auto& [key, host] : hosts_) hosts[key] = host_json(host);
  TRY(write_if_changed(directory_ / "members.json", members.dump(2) + "\n"));
  return write_if_changed(directory_ / "hosts.json", hosts.dump(2) + "\n");
}

// Each durable replacement costs two fsyncs: a file that would not change is left alone.
Status MeshState::write_if_changed(const std::filesystem::path& file, const std::string& text) {
  if (read_file(file).value_or("") == text) return ok();
  return write_file_atomic(file, text, 0600);
}

}  // namespace opdbus::mesh
