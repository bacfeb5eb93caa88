// bench_mesh_enroll STATE_DIR N: the host side of enrolling N members into a mesh interface,
// mesh::admit as `op-dbus mesh enroll` runs it: each member gets its address (allocated and
// persisted) and key (generated, written 0600), and its peer is added to the host's interface,
// one member at a time as N start hooks would. Prints the total wall time in ms. Run inside a
// namespace whose /var/run/wireguard is private (bench/mesh_enroll.sh).
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "mesh/interface.h"

using namespace opdbus;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s STATE_DIR N\n", argv[0]);
    return 2;
  }
  auto config = mesh::parse_config("bench", {{"cidr", "10.64.0.0/12"}, {"listen_port", 51960}});
  if (!config) return std::fprintf(stderr, "%s\n", config.error().describe().c_str()), 1;
  auto state = mesh::MeshState::open(argv[1], *config);
  if (!state) return std::fprintf(stderr, "%s\n", state.error().describe().c_str()), 1;
  if (auto up = mesh::converge_host_interface(*state, {}); !up)
    return std::fprintf(stderr, "%s\n", up.error().describe().c_str()), 1;
  const int members = std::stoi(argv[2]);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < members; ++i) {
    auto admitted = mesh::admit(*state, fmt::format("m{}", i), {});
    if (!admitted) return std::fprintf(stderr, "%s\n", admitted.error().describe().c_str()), 1;
  }
  auto elapsed =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("%.1f\n", elapsed.count());
  return 0;
}
