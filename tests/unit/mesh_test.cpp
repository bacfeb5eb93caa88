// The mesh's pure parts: configuration checks, address allocation (sticky, no duplicates, the
// host's own address never given out, exhaustion reported), member state across reopen, and
// signed descriptions (tampering, a pinned key, a foreign mesh refused).
#include <gtest/gtest.h>
#include <unistd.h>

#include "mesh/join.h"
#include "mesh/mesh.h"
#include "proto/wireguard/key.h"

namespace opdbus::mesh {
namespace {

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("mesh-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

MeshConfig corp() {
  return *parse_config(
      "corp",
      {{"cidr", "10.77.0.0/16"}, {"prefix", "10.77.1.0/24"}, {"endpoint", "192.0.2.1:51820"}});
}

TEST(MeshConfigTest, DefaultsAndErrorsNameTheField) {
  auto config = corp();
  EXPECT_EQ(config.interface, "wg-corp");
  EXPECT_EQ(config.listen_port, 51820);
  EXPECT_EQ(host_address(config.prefix).to_string(), "10.77.1.1");
  EXPECT_FALSE(parse_config("corp", {{"cidr", "10.77.0.0/16"}, {"prefix", "10.78.0.0/24"}}));
  EXPECT_FALSE(parse_config("corp", {{"cidr", "fd00::/64"}}));
  EXPECT_FALSE(parse_config("a name with spaces", {{"cidr", "10.77.0.0/16"}}));
  auto missing = parse_config("corp", Json::object());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cidr"), std::string::npos);
  EXPECT_FALSE(parse_config("corp", {{"cidr", "10.77.0.0/16"}, {"endpoint", "nowhere"}}));
}

TEST(MeshAddresses, NextFreeSkipsTheHostAndTakenAddresses) {
  auto prefix = *netlink::Prefix::parse("10.77.1.0/29");
  EXPECT_EQ(next_free(prefix, {})->to_string(), "10.77.1.2");
  EXPECT_EQ(next_free(prefix, {"10.77.1.2", "10.77.1.3"})->to_string(), "10.77.1.4");
  EXPECT_FALSE(
      next_free(prefix, {"10.77.1.2", "10.77.1.3", "10.77.1.4", "10.77.1.5", "10.77.1.6"}));
}

TEST(MeshAddresses, AssignmentsStickAcrossReopenAndReleaseFreesThem) {
  TempDir dir;
  {
    auto state = MeshState::open(dir.path(), corp());
    ASSERT_TRUE(state) << state.error().describe();
    EXPECT_EQ(state->assign("web1")->address, "10.77.1.2");
    EXPECT_EQ(state->assign("web2")->address, "10.77.1.3");
    EXPECT_EQ(state->assign("web1")->address, "10.77.1.2");
    state->set_enrolled("web1", true);
    ASSERT_TRUE(state->save());
  }
  auto state = MeshState::open(dir.path(), corp());
  ASSERT_TRUE(state);
  EXPECT_EQ(state->members().at("web2").address, "10.77.1.3");
  EXPECT_TRUE(state->members().at("web1").enrolled);
  EXPECT_EQ(state->assign("web3")->address, "10.77.1.4");
  state->release("web1");
  EXPECT_FALSE(std::filesystem::exists(state->member_key_file("web1")));
  EXPECT_EQ(state->assign("web4")->address, "10.77.1.2");
  ASSERT_TRUE(state->save());
  auto members = read_file(state->directory() / "members.json");
  auto private_key = wireguard::read_key_file(state->member_key_file("web2"));
  ASSERT_TRUE(members && private_key);
  EXPECT_EQ(members->find(private_key->base64()), std::string::npos);
}

TEST(MeshJoin, SignedDescriptionsVerifyAndTamperingIsCaught) {
  TempDir dir;
  auto key = ledger::SigningKey::load_or_create(dir.path() / "ledger.key", "op-dbus/b");
  ASSERT_TRUE(key);
  auto other = ledger::SigningKey::load_or_create(dir.path() / "other.key", "op-dbus/c");
  ASSERT_TRUE(other);
  auto remote = corp();
  remote.prefix = *netlink::Prefix::parse("10.77.2.0/24");
  remote.endpoint = "192.0.2.2:51820";
  auto public_key = wireguard::Key::generate_private()->public_key()->base64();
  auto description = describe_host(remote, "b", public_key);
  ASSERT_TRUE(description);
  auto document = sign_description(*description, *key);
  ASSERT_TRUE(document);
  auto host = read_description(*document, corp(), key->verifier().text());
  ASSERT_TRUE(host) << host.error().describe();
  EXPECT_EQ(host->public_key, public_key);
  EXPECT_EQ(host->allowed_ips, std::vector<std::string>{"10.77.2.0/24"});
  EXPECT_FALSE(read_description(*document, corp(), other->verifier().text()));
  auto tampered = Json::parse(*document);
  auto note = tampered["note"].get<std::string>();
  note.replace(note.find("10.77.2.0/24"), 12, "10.77.0.0/16");
  tampered["note"] = note;
  EXPECT_FALSE(read_description(tampered.dump(), corp(), std::nullopt));
  auto foreign = corp();
  foreign.name = "other";
  EXPECT_FALSE(read_description(*document, foreign, std::nullopt));
  auto outside = remote;
  outside.prefix = *netlink::Prefix::parse("10.99.0.0/24");
  outside.cidr = *netlink::Prefix::parse("10.99.0.0/16");
  auto far = sign_description(*describe_host(outside, "c", public_key), *key);
  EXPECT_FALSE(read_description(*far, corp(), std::nullopt));
}

}  // namespace
}  // namespace opdbus::mesh
