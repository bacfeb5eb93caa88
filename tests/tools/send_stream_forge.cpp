// opdbus-send-forge, a test tool: writes an op-dbus replication stream whose one BTRFS send
// stream creates a subvolume and then a file at PATH (for example "../../escaped" or an
// absolute path), the way a hostile sender would try to write outside the replica.
// Usage: opdbus-send-forge PATH > stream
#include <cstdint>
#include <cstdio>
#include <string>

#include <btrfs/send.h>

namespace {

// CRC-32C as the send stream uses it: reflected polynomial 0x82F63B78, seed 0, no final xor.
uint32_t crc32c(const std::string& bytes) {
  uint32_t crc = 0;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

std::string attribute(uint16_t type, const std::string& value) {
  std::string out;
  put_le(out, type, 2);
  put_le(out, value.size(), 2);
  return out + value;
}

std::string command(uint16_t type, const std::string& attributes) {
  std::string out;
  put_le(out, attributes.size(), 4);
  put_le(out, type, 2);
  put_le(out, 0, 4);
  out += attributes;
  uint32_t crc = crc32c(out);
  for (int i = 0; i < 4; ++i) out[6 + i] = static_cast<char>(crc >> (8 * i));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PATH > stream\n", argv[0]);
    return 2;
  }
  std::string stream = "opdbus-send 1 state 20260101T000000Z -\n";
  stream += std::string(BTRFS_SEND_STREAM_MAGIC) + '\0';
  put_le(stream, 1, 4);
  std::string ctransid;
  put_le(ctransid, 7, 8);
  stream += command(BTRFS_SEND_C_SUBVOL, attribute(BTRFS_SEND_A_PATH, "20260101T000000Z") +
                                             attribute(BTRFS_SEND_A_UUID, std::string(16, '\x42')) +
                                             attribute(BTRFS_SEND_A_CTRANSID, ctransid));
  stream += command(BTRFS_SEND_C_MKFILE, attribute(BTRFS_SEND_A_PATH, argv[1]));
  stream += command(BTRFS_SEND_C_END, "");
  stream += "opdbus-send end\n";
  std::fwrite(stream.data(), 1, stream.size(), stdout);
  return 0;
}
