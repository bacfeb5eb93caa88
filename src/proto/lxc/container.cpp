// The liblxc seam; see container.h.
#include "proto/lxc/container.h"

#include <lxc/lxccontainer.h>

#include <algorithm>
#include <fstream>

namespace opdbus::lxc {
namespace {

// The last few lines of a log file, for an error message.
std::string log_tail(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find("ERROR") != std::string::npos) lines.push_back(line);
  if (lines.size() > 3) lines.erase(lines.begin(), lines.end() - 3);
  std::string out;
  for (const auto& line : lines) out += "\n    " + line;
  return out;
}

}  // namespace

std::filesystem::path default_path() {
  return lxc_get_global_config_item("lxc.lxcpath");
}

Result<std::vector<std::string>> defined_containers(const std::filesystem::path& path) {
  char** names = nullptr;
  int count = list_defined_containers(path.c_str(), &names, nullptr);
  if (count < 0)
    return fail(ErrorCode::io, "liblxc cannot list the containers in {}", path.string());
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    out.emplace_back(names[i]);
    std::free(names[i]);
  }
  std::free(names);
  std::sort(out.begin(), out.end());
  return out;
}

void Container::Put::operator()(lxc_container* container) const noexcept {
  lxc_container_put(container);
}

Result<Container> Container::open(const std::string& name, const std::filesystem::path& path) {
  lxc_container* handle = lxc_container_new(name.c_str(), path.c_str());
  if (!handle)
    return fail(ErrorCode::io, "liblxc cannot open container {} in {}", name, path.string());
  return Container(name, std::unique_ptr<lxc_container, Put>(handle));
}

Error Container::failure(const std::string& what) const {
  std::string detail;
  if (handle_->error_string && *handle_->error_string)
    detail = ": " + std::string(handle_->error_string);
  if (!log_.empty()) detail += log_tail(log_) + "\n    (log: " + log_.string() + ")";
  return Error{ErrorCode::io, fmt::format("container {}: {} failed{}", name_, what, detail), {}};
}

bool Container::defined() const {
  return handle_->is_defined(handle_.get());
}

bool Container::running() const {
  return handle_->is_running(handle_.get());
}

std::string Container::state() const {
  const char* state = handle_->state(handle_.get());
  return state ? state : "UNKNOWN";
}

pid_t Container::init_pid() const {
  return handle_->init_pid(handle_.get());
}

std::filesystem::path Container::directory() const {
  return std::filesystem::path(handle_->get_config_path(handle_.get())) / name_;
}

std::optional<std::string> Container::config_item(const std::string& key) const {
  int length = handle_->get_config_item(handle_.get(), key.c_str(), nullptr, 0);
  if (length <= 0) return std::nullopt;
  std::string value(static_cast<size_t>(length) + 1, '\0');
  handle_->get_config_item(handle_.get(), key.c_str(), value.data(), length + 1);
  value.resize(static_cast<size_t>(length));
  while (!value.empty() && value.back() == '\n') value.pop_back();  // lists end with a newline
  return value;
}

Status Container::set_config_item(const std::string& key, const std::string& value) {
  if (!handle_->set_config_item(handle_.get(), key.c_str(), value.c_str()))
    return make_failure(failure(fmt::format("setting {} = {}", key, value)));
  return ok();
}

Status Container::clear_config_item(const std::string& key) {
  if (!handle_->clear_config_item(handle_.get(), key.c_str()))
    return make_failure(failure("clearing " + key));
  return ok();
}

Status Container::save_config() {
  if (!handle_->save_config(handle_.get(), nullptr))
    return make_failure(failure("saving its config"));
  return ok();
}

Status Container::set_cgroup_item(const std::string& subsystem, const std::string& value) {
  if (!handle_->set_cgroup_item(handle_.get(), subsystem.c_str(), value.c_str()))
    return make_failure(failure(fmt::format("setting cgroup {} = {}", subsystem, value)));
  return ok();
}

Status Container::log_to(const std::filesystem::path& file) {
  TRY(set_config_item("lxc.log.file", file.string()));
  TRY(set_config_item("lxc.log.level", "WARN"));
  log_ = file;
  return ok();
}

Status Container::create(const std::string& template_name,
                         const std::vector<std::string>& arguments, const std::string& backing) {
  std::vector<char*> argv;
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  if (!handle_->create(handle_.get(), template_name.c_str(),
                       backing.empty() ? nullptr : backing.c_str(), nullptr, LXC_CREATE_QUIET,
                       argv.data()))
    return make_failure(failure(fmt::format("creating it from template {}", template_name)));
  return ok();
}

Result<Container> Container::clone(const std::string& new_name, bool snapshot) const {
  lxc_container* copy =
      handle_->clone(handle_.get(), new_name.c_str(), nullptr, snapshot ? LXC_CLONE_SNAPSHOT : 0,
                     nullptr, nullptr, 0, nullptr);
  if (!copy) return make_failure(failure(fmt::format("cloning it as {}", new_name)));
  return Container(new_name, std::unique_ptr<lxc_container, Put>(copy));
}

Status Container::start() {
  handle_->want_daemonize(handle_.get(), true);
  if (!handle_->start(handle_.get(), 0, nullptr)) return make_failure(failure("starting it"));
  return ok();
}

Status Container::stop(std::chrono::seconds timeout) {
  if (!running()) return ok();
  if (handle_->shutdown(handle_.get(), static_cast<int>(timeout.count()))) return ok();
  if (!handle_->stop(handle_.get())) return make_failure(failure("stopping it"));
  return ok();
}

Status Container::destroy() {
  if (!handle_->destroy(handle_.get())) return make_failure(failure("destroying it"));
  return ok();
}

}  // namespace opdbus::lxc
