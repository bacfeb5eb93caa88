// Container metadata beside LXC's config; see metadata.h.
#include "proto/lxc/metadata.h"

#include "base/fs.h"

namespace opdbus::lxc {
namespace {

constexpr const char* kFile = "op-dbus.json";

}  // namespace

Json read_metadata(const std::filesystem::path& container_directory) {
  auto text = read_file(container_directory / kFile);
  if (!text) return Json::object();
  auto json = Json::parse(*text, nullptr, false);
  return json.is_object() ? json : Json::object();
}

Status write_metadata(const std::filesystem::path& container_directory, const Json& metadata) {
  return write_file_atomic(container_directory / kFile, metadata.dump(2) + "\n", 0600);
}

}  // namespace opdbus::lxc
