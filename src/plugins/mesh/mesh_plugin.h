// The mesh plugin: declared WireGuard meshes (src/mesh). Applying one brings the host's mesh
// interface to it and enrolls the running containers that declare the mesh but are not enrolled
// yet (their LXC hooks normally do it as they start), and takes out members whose containers no
// longer run.
#pragma once

#include <filesystem>
#include <memory>

#include "plugin/plugin.h"
#include "proto/wireguard/host.h"

namespace opdbus::meshplugin {

struct MeshSettings {
  std::filesystem::path state_directory;
  std::filesystem::path lxc_path;  // empty: LXC's default
  wireguard::HostSettings host;    // the host's WireGuard (uapi directory, userspace program)
};

const PluginDescriptor& mesh_descriptor();
std::unique_ptr<Plugin> make_mesh_plugin(MeshSettings settings);

// The mesh configuration last applied on this host (STATE/mesh/NAME/config.json).
Result<Json> applied_config(const std::filesystem::path& state_directory, const std::string& mesh);

}  // namespace opdbus::meshplugin
