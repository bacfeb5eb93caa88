// `op-dbus mesh show|enroll|leave|export|join`: WireGuard meshes for people and for LXC hooks.
// enroll and leave are what a mesh container's start-host and post-stop hooks run (LXC appends
// the container's name, "lxc" and the hook type; LXC_NAME and LXC_PID say which container);
// export prints this host's side of a mesh as a signed description and join adds another host's.
// Every change is recorded in the ledger (mesh.enroll, mesh.leave, mesh.join).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.h"

namespace opdbus::cli {

struct MeshArgs {
  std::string mesh;
  std::vector<std::string> rest;  // [CONTAINER] and what LXC appends, or FILE for join
  std::optional<std::string> verifier;
  bool release = false;
};

struct MeshCommands {
  CLI::App* show = nullptr;
  CLI::App* enroll = nullptr;
  CLI::App* leave = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* join = nullptr;
};

MeshCommands add_mesh_commands(CLI::App& app, MeshArgs& args);
int run_mesh(Context& context, const Output& output, const MeshCommands& commands,
             const MeshArgs& args);

}  // namespace opdbus::cli
