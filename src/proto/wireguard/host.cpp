// WireGuard interfaces on a host; see host.h.
#include "proto/wireguard/host.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "proto/wireguard/genl.h"
#include "proto/wireguard/uapi.h"

namespace opdbus::wireguard {
namespace {

using namespace std::chrono_literals;

Status execute(netlink::Socket& socket, std::vector<netlink::Request> requests) {
  auto failures = TRY(socket.execute(requests));
  if (!failures.empty()) return fail(ErrorCode::kernel, "{}", failures.front().describe());
  return ok();
}

std::string text_of(const netlink::Address& address) {
  return address.ip.to_string() + "/" + std::to_string(address.prefix);
}

Result<UniqueFd> open_namespace(pid_t pid) {
  auto path = pid == 0 ? std::string("/proc/self/ns/net") : fmt::format("/proc/{}/ns/net", pid);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return fail(ErrorCode::not_found, "no network namespace at {}: {}", path, errno_text(errno));
  return fd;
}

// In the forked child: when `netns` is given, enter that network namespace and a mount namespace
// of our own in which `directory` is the program's socket directory; then stdin from /dev/null,
// stdout and stderr to `log`, and exec. Async-signal-safe calls only; a failure before exec ends
// the child with status 126.
[[noreturn]] void exec_program(const char* netns, const char* directory, const char* log,
                               char* const argv[]) {
  if (netns) {
    int target = ::open(netns, O_RDONLY | O_CLOEXEC);
    if (target < 0 || ::setns(target, CLONE_NEWNET) != 0 || ::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
      ::_exit(126);
    ::mkdir(kUapiDirectory, 0755);
    if (::mount(directory, kUapiDirectory, nullptr, MS_BIND, nullptr) != 0) ::_exit(126);
  }
  int null = ::open("/dev/null", O_RDONLY);
  int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (null < 0 || out < 0) ::_exit(126);
  ::dup2(null, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(out, STDERR_FILENO);
  ::execv(argv[0], argv);
  ::_exit(127);
}

// A netlink socket in the network namespace `netns` (an open namespace file).
Result<netlink::Socket> open_socket_at(int netns, int protocol) {
  auto ours = TRY(open_namespace(0));
  if (::setns(netns, CLONE_NEWNET) != 0)
    return fail(ErrorCode::unavailable, "enter a network namespace: {}", errno_text(errno));
  auto socket = netlink::Socket::open(0, protocol);
  if (::setns(ours.get(), CLONE_NEWNET) != 0)
    return fail(ErrorCode::internal, "return to our network namespace: {}", errno_text(errno));
  return socket;
}

// Deletes link `name` in the network namespace `netns`; a link that is gone already is no error.
Status delete_link_at(int netns, const std::string& name) {
  auto socket = TRY(open_socket_at(netns, NETLINK_ROUTE));
  auto table = TRY(LinkTable::read(socket));
  const auto* link = table.find(name);
  if (!link) return ok();
  std::vector<netlink::Request> requests;
  requests.push_back({netlink::build_link_delete(link->index), "WireGuard interface " + name});
  return execute(socket, std::move(requests));
}

// Whether something serves a UAPI socket (a connection is accepted).
bool served(const std::filesystem::path& socket) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.native().size() >= sizeof(address.sun_path)) return false;
  std::strcpy(address.sun_path, socket.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

}  // namespace

Result<LinkTable> LinkTable::read(netlink::Socket& socket) {
  LinkTable table;
  TRY(socket.dump(netlink::build_link_dump(), [&](const nlmsghdr& message) -> Status {
    table.links.push_back(TRY(netlink::parse_link(message)));
    return ok();
  }));
  TRY(socket.dump(netlink::build_address_dump(), [&](const nlmsghdr& message) -> Status {
    table.addresses.push_back(TRY(netlink::parse_address(message)));
    return ok();
  }));
  return table;
}

const netlink::Link* LinkTable::find(const std::string& name) const {
  for (const auto& link : links)
    if (link.name == name) return &link;
  return nullptr;
}

Result<const netlink::Link*> LinkTable::require(const std::string& name) const {
  if (const auto* link = find(name)) return link;
  return fail(ErrorCode::not_found,
              "WireGuard interface {}: its link is not in this network namespace", name);
}

std::vector<std::string> LinkTable::addresses_of(const std::string& name) const {
  std::vector<std::string> out;
  const auto* link = find(name);
  for (const auto& address : addresses)
    if (link && address.index == link->index && !address.ip.is_ipv6_link_local())
      out.push_back(text_of(address));
  return out;
}

Result<netlink::Socket> open_socket_in(pid_t pid, int protocol) {
  if (pid == 0) return netlink::Socket::open(0, protocol);
  auto theirs = TRY(open_namespace(pid));
  return open_socket_at(theirs.get(), protocol);
}

Host::Host(HostSettings settings) : settings_(std::move(settings)) {
  if (settings_.log_directory.empty())
    settings_.log_directory = std::filesystem::temp_directory_path() / "op-dbus";
}

std::filesystem::path Host::socket_of(const std::string& name) const {
  return settings_.uapi_directory / (name + ".sock");
}

std::filesystem::path Host::userspace_program() const {
  const std::string& program = settings_.userspace_program;
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  while (!dirs.empty()) {
    auto dir = dirs.substr(0, dirs.find(':'));
    dirs.remove_prefix(std::min(dirs.size(), dir.size() + 1));
    auto candidate = std::filesystem::path(dir) / program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

Result<std::optional<uint16_t>> Host::kernel_family() const {
  return KernelDevice::family();
}

Result<std::vector<std::pair<std::string, std::string>>> Host::interfaces() const {
  std::vector<std::pair<std::string, std::string>> out;
  auto route = TRY(open_socket_in(settings_.namespace_of));
  auto table = TRY(LinkTable::read(route));
  if (TRY(kernel_family()))
    for (const auto& link : table.links)
      if (link.kind == "wireguard") out.emplace_back(link.name, "kernel");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(settings_.uapi_directory, error)) {
    auto name = entry.path().stem().string();
    if (entry.path().extension() != ".sock") continue;
    if (std::find_if(out.begin(), out.end(),
                     [&](const auto& item) { return item.first == name; }) == out.end())
      out.emplace_back(name, "userspace");
  }
  return out;
}

Result<std::unique_ptr<DeviceControl>> Host::control(const std::string& name) const {
  if (served(socket_of(name)))
    return std::unique_ptr<DeviceControl>(std::make_unique<UapiClient>(socket_of(name)));
  auto family = TRY(kernel_family());
  if (!family)
    return fail(ErrorCode::not_found,
                "WireGuard interface {}: no UAPI socket {} and no kernel WireGuard", name,
                socket_of(name).string());
  auto socket = TRY(open_socket_in(settings_.namespace_of, NETLINK_GENERIC));
  return std::unique_ptr<DeviceControl>(
      std::make_unique<KernelDevice>(KernelDevice::over(std::move(socket), *family, name)));
}

Status Host::create(const std::string& name, const std::string& implementation) const {
  auto family = TRY(kernel_family());
  if (implementation == "kernel" && !family)
    return fail(ErrorCode::unavailable,
                "WireGuard interface {}: the kernel has no WireGuard (module not loaded)", name);
  if (family && implementation != "userspace") {
    auto socket = TRY(open_socket_in(settings_.namespace_of));
    netlink::LinkCreate link;
    link.name = name;
    link.kind = "wireguard";
    std::vector<netlink::Request> requests;
    requests.push_back({netlink::build_link_create(link), "WireGuard interface " + name});
    return execute(socket, std::move(requests));
  }
  return start_userspace(name);
}

// Starts the userspace implementation, which daemonizes once its tun device and UAPI socket
// exist. In another namespace it is forked there with its socket directory mounted privately.
// This is op-dbus's one process launch: the program is the WireGuard implementation itself, whose
// UAPI op-dbus then speaks (a kernel without WireGuard has no protocol that creates a userspace
// interface; wg-quick starts it the same way), never a configuration command.
Status Host::start_userspace(const std::string& name) const {
  auto program = userspace_program();
  if (program.empty())
    return fail(ErrorCode::unavailable,
                "WireGuard interface {}: the kernel has no WireGuard and {} is not installed", name,
                settings_.userspace_program);
  TRY(ensure_directory(settings_.log_directory, 0700));
  TRY(ensure_directory(settings_.uapi_directory, 0700));
  auto log = (settings_.log_directory / (name + ".log")).string();
  auto netns = fmt::format("/proc/{}/ns/net", settings_.namespace_of);
  auto program_text = program.string();
  auto directory = settings_.uapi_directory.string();
  std::vector<char*> argv = {program_text.data(), const_cast<char*>(name.c_str()), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return fail(ErrorCode::io, "fork: {}", errno_text(errno));
  if (pid == 0)
    exec_program(settings_.namespace_of ? netns.c_str() : nullptr, directory.c_str(), log.c_str(),
                 argv.data());
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(ErrorCode::io, "{} {} failed (status {}); see {}", program_text, name,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
  if (wait_for_socket(name, true)) return settings_.namespace_of ? pin_namespace(name) : ok();
  return fail(ErrorCode::io,
              "{} {} started but no UAPI socket appeared at {} (is {} the directory it uses?)",
              program_text, name, socket_of(name).string(), directory);
}

std::string Host::where() const {
  return settings_.namespace_of
             ? fmt::format("in the network namespace of process {}", settings_.namespace_of)
             : std::string("in this network namespace");
}

bool Host::wait_for_socket(const std::string& name, bool present) const {
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
    if (served(socket_of(name)) == present) return true;
  }
  return false;
}

// A userspace interface started in another namespace is removed there through the namespace's
// pinned handle (that namespace may have no process of its container left); others in ours.
Status Host::remove(const std::string& name) const {
  auto pin = pin_of(name);
  std::error_code error;
  if (std::filesystem::exists(pin, error)) {
    UniqueFd netns(::open(pin.c_str(), O_RDONLY | O_CLOEXEC));
    if (netns) TRY(delete_link_at(netns.get(), name));
    ::umount2(pin.c_str(), MNT_DETACH);
    std::filesystem::remove(pin, error);
    wait_for_socket(name, false);
    return ok();
  }
  auto socket = TRY(open_socket_in(settings_.namespace_of));
  auto table = TRY(LinkTable::read(socket));
  const auto* link = TRY(with_context(table.require(name), where()));
  std::vector<netlink::Request> requests;
  requests.push_back({netlink::build_link_delete(link->index), "WireGuard interface " + name});
  TRY(execute(socket, std::move(requests)));
  wait_for_socket(name, false);  // a userspace implementation is gone before anything reuses it
  return ok();
}

std::filesystem::path Host::pin_of(const std::string& name) const {
  return settings_.uapi_directory / (name + ".netns");
}

// Keeps the namespace a userspace interface was started in reachable through a file (a bind
// mount of /proc/PID/ns/net, as `ip netns add` does), for remove().
Status Host::pin_namespace(const std::string& name) const {
  auto pin = pin_of(name);
  UniqueFd file(::open(pin.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!file) return fail(ErrorCode::io, "create {}: {}", pin.string(), errno_text(errno));
  auto source = fmt::format("/proc/{}/ns/net", settings_.namespace_of);
  if (::mount(source.c_str(), pin.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return fail(ErrorCode::io, "pin {} at {}: {}", source, pin.string(), errno_text(errno));
  return ok();
}

Result<size_t> Host::configure_link(const std::string& name,
                                    const std::vector<std::string>* addresses) const {
  auto socket = TRY(open_socket_in(settings_.namespace_of));
  auto table = TRY(LinkTable::read(socket));
  const auto* link = TRY(with_context(table.require(name), where()));
  std::vector<netlink::Request> requests;
  if (addresses) {
    auto have = table.addresses_of(name);
    for (const auto& address : table.addresses)
      if (address.index == link->index && !address.ip.is_ipv6_link_local() &&
          std::find(addresses->begin(), addresses->end(), text_of(address)) == addresses->end())
        requests.push_back({netlink::build_address_delete(address), name});
    for (const auto& text : *addresses) {
      if (std::find(have.begin(), have.end(), text) != have.end()) continue;
      netlink::Address address;
      address.index = link->index;
      address.ip = TRY(netlink::IpAddress::parse(text.substr(0, text.find('/'))));
      address.prefix = TRY(netlink::Prefix::parse(text)).length;
      requests.push_back({netlink::build_address_add(address), name + " " + text});
    }
  }
  if (!link->up()) {
    netlink::LinkUpdate update;
    update.up = true;
    requests.push_back({netlink::build_link_update(link->index, update), name});
  }
  auto count = requests.size();
  TRY(execute(socket, std::move(requests)));
  return count;
}

}  // namespace opdbus::wireguard
