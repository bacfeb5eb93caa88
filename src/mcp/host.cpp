// op-dbus's MCP catalogue: the Host, its executor and its resources and prompts; the tools are in
// host_tools.cpp. See host.h.
#include "mcp/host.h"

#include <sys/stat.h>

#include "engine/engine.h"
#include "engine/record.h"
#include "ledger/verify.h"

namespace opdbus::mcp {
namespace {

constexpr const char* kStatePrefix = "opdbus://state/";
constexpr const char* kLedgerPrefix = "opdbus://ledger/";
constexpr const char* kCheckpointUri = "opdbus://ledger/checkpoint";

Json json_contents(const std::string& uri, const Json& value) {
  return Json::array({{{"uri", uri}, {"mimeType", "application/json"}, {"text", value.dump(2)}}});
}

Json text_message(const std::string& text) {
  return {{"role", "user"}, {"content", {{"type", "text"}, {"text", text}}}};
}

// The ledger's files change on every append; their sizes and times say whether to look.
std::string ledger_stamp(const std::filesystem::path& state_dir) {
  ledger::LedgerFiles files(state_dir);
  std::string stamp;
  for (const auto& path : {files.blocks, files.checkpoint}) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0)
      stamp += fmt::format("{}:{}.{};", info.st_size, info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
  }
  return stamp;
}

}  // namespace

Host::Host(Context& context, HostOptions options, Executor executor)
    : context_(context), options_(std::move(options)), executor_(std::move(executor)) {
  if (!executor_)
    executor_ = [this](const std::function<void()>& operation) {
      std::lock_guard lock(mutex_);
      operation();
    };
}

Result<Json> Host::exclusive(const Session& session,
                             const std::function<Result<Json>()>& operation) {
  Result<Json> result = fail(ErrorCode::unavailable, "op-dbus is stopping");
  executor_([&] {
    auto interface = "mcp:" + session.client_name();
    auto actor = ledger::current_actor(interface);
    if (session.principal().name != "local") actor.user = "token:" + session.principal().name;
    auto saved_interface = std::exchange(context_.interface, interface);
    auto saved_caller = std::exchange(context_.caller, actor);
    result = operation();
    context_.interface = saved_interface;
    context_.caller = saved_caller;
  });
  return result;
}

Result<ToolOutput> Host::on_engine(Call& call,
                                   const std::function<Result<Json>(Engine&)>& operation) {
  return ToolOutput::of(TRY(exclusive(call.session, [&]() -> Result<Json> {
    Engine engine(context_);
    return operation(engine);
  })));
}

Catalogue Host::catalogue() {
  Catalogue catalogue;
  catalogue.instructions =
      "op-dbus keeps this host in a declared state and records every change in a "
      "tamper-evident ledger. query_* tools read the current state per subsystem; diff plans a "
      "desired state; apply makes it so (verified, rolled back on failure) and needs confirm: "
      "true; ledger_* tools answer what changed, when and by whom.";
  add_plugin_tools(catalogue);
  add_write_tools(catalogue);
  add_ledger_tools(catalogue);
  add_store_tools(catalogue);
  add_dbus_tools(catalogue);
  add_insight_tools(catalogue);
  add_resources(catalogue);
  add_prompts(catalogue);
  catalogue.on_denied = [this](const Session& session, const Tool& tool,
                               const std::string& reason) { record_denial(session, tool, reason); };
  catalogue.on_refused = [this](const std::string& reason, const std::string& peer) {
    record_refusal(reason, peer);
  };
  catalogue.poll_changes = [this] { return poll_changes(); };
  seen_height_ = ledger::load_local_ledger(context_.config.state_dir)
                     .map([](const ledger::LedgerData& data) {
                       auto index = ledger::index_blocks(data);
                       return index.first + index.lines.size();
                     })
                     .value_or(0);
  return catalogue;
}

void Host::record_denial(const Session& session, const Tool& tool, const std::string& reason) {
  (void)exclusive(session, [&]() -> Result<Json> {
    auto* ledger = TRY(open_ledger(context_));
    TRY(ledger->append(denied_record(context_, "mcp." + tool.name, reason)));
    return Json();
  });
}

// A request refused before it had a session: the caller has no local identity, so the actor is
// uid 65534 ("unauthenticated") with the peer address as its process.
void Host::record_refusal(const std::string& reason, const std::string& peer) {
  executor_([&] {
    ledger::Actor actor{65534, "unauthenticated", "peer " + peer, 0, "mcp:http"};
    auto saved_caller = std::exchange(context_.caller, actor);
    if (auto ledger = open_ledger(context_); ledger)
      (void)(*ledger)->append(denied_record(context_, "mcp.http", reason));
    context_.caller = saved_caller;
  });
}

// New blocks since the last poll: the blocks themselves, the checkpoint, and the state of every
// plugin they touched.
std::vector<std::string> Host::poll_changes() {
  auto stamp = ledger_stamp(context_.config.state_dir);
  if (stamp == seen_stamp_) return {};
  seen_stamp_ = stamp;
  auto data = ledger::load_local_ledger(context_.config.state_dir);
  if (!data) return {};
  auto index = ledger::index_blocks(*data);
  uint64_t size = index.first + index.lines.size();
  std::vector<std::string> changed;
  for (uint64_t height = std::max(seen_height_, index.first); height < size; ++height) {
    changed.push_back(kLedgerPrefix + std::to_string(height));
    auto block = ledger::parse_block(index.lines[height - index.first]);
    if (!block) continue;
    for (const auto& plugin : block->value("plugins", Json::array()))
      if (plugin.is_string()) changed.push_back(kStatePrefix + plugin.get<std::string>());
  }
  if (size != seen_height_) changed.push_back(kCheckpointUri);
  seen_height_ = size;
  return changed;
}

void Host::add_resources(Catalogue& catalogue) {
  for (auto* plugin : context_.registry.ordered()) {
    auto name = plugin->descriptor().name;
    catalogue.resources.push_back({.uri = kStatePrefix + name,
                                   .name = name + " state",
                                   .title = "Current " + name + " state",
                                   .description = "The host's " + plugin->descriptor().description +
                                                  " as op-dbus sees it now (a state file section).",
                                   .mime_type = "application/json",
                                   .read = [this, name](const std::string& uri) -> Result<Json> {
                                     Session local("resource", Principal{});
                                     auto state = TRY(exclusive(local, [&]() -> Result<Json> {
                                       Engine engine(context_);
                                       return TRY(engine.query(name)).document["plugins"][name];
                                     }));
                                     return json_contents(uri, state);
                                   }});
  }
  catalogue.resources.push_back(
      {.uri = kCheckpointUri,
       .name = "ledger checkpoint",
       .title = "Latest signed ledger checkpoint",
       .description = "The signed note (size, Merkle root, time) that proofs are checked against.",
       .mime_type = "text/plain",
       .read = [this](const std::string& uri) -> Result<Json> {
         auto data = TRY(ledger::load_local_ledger(context_.config.state_dir));
         return Json::array(
             {{{"uri", uri}, {"mimeType", "text/plain"}, {"text", data.checkpoint}}});
       }});
  catalogue.templates.push_back(
      {.uri_template = std::string(kLedgerPrefix) + "{height}",
       .name = "ledger block",
       .title = "A ledger block",
       .description = "One block of the ledger by height: who did what, the diff, before and "
                      "after.",
       .mime_type = "application/json",
       .read = [this](const std::string& uri) -> Result<Json> {
         auto height_text = uri.substr(std::string(kLedgerPrefix).size());
         if (height_text.empty() ||
             height_text.find_first_not_of("0123456789") != std::string::npos)
           return fail(ErrorCode::not_found, "not a block height");
         auto data = TRY(ledger::load_local_ledger(context_.config.state_dir));
         auto line = TRY(ledger::block_at(ledger::index_blocks(data), std::stoull(height_text)));
         return json_contents(uri, TRY(ledger::parse_block(line)));
       },
       .complete = {}});
}

void Host::add_prompts(Catalogue& catalogue) {
  auto plugin_names = [this](const std::string&, const std::string&) {
    std::vector<std::string> names;
    for (auto* plugin : context_.registry.ordered()) names.push_back(plugin->descriptor().name);
    return names;
  };
  catalogue.prompts.push_back(
      {.name = "review_drift",
       .title = "Review drift",
       .description = "Find changes made outside op-dbus and say what to do about each.",
       .arguments = Json::array({{{"name", "plugin"},
                                  {"description", "only this subsystem (net, systemd, ...)"},
                                  {"required", false}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         auto plugin = arguments.value("plugin", "");
         auto scope = plugin.empty() ? std::string("every subsystem") : "the " + plugin + " plugin";
         return Json{
             {"description", "Review drift in " + scope},
             {"messages",
              Json::array({text_message(
                  "Use ledger_log" + (plugin.empty() ? "" : " with plugin \"" + plugin + "\"") +
                  " to find recent blocks whose action is \"drift\" or \"reconcile\" in " + scope +
                  ". For each, say what changed, who changed it (the actor), whether op-dbus "
                  "restored it, and whether the declared state should be updated instead. "
                  "Do not apply anything.")})}};
       },
       .complete = plugin_names});
  catalogue.prompts.push_back(
      {.name = "prepare_change",
       .title = "Prepare a change",
       .description = "Turn a request into a state file change, plan it, and apply it only "
                      "after the operator agrees.",
       .arguments = Json::array({{{"name", "request"},
                                  {"description", "what should change, in plain words"},
                                  {"required", true}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         return Json{
             {"description", "Prepare a change"},
             {"messages",
              Json::array({text_message(
                  "The operator asks: " + arguments.value("request", "") +
                  "\nRead the current state with the query_* tools, write the smallest desired "
                  "state that does it, show the plan from diff, and call apply with confirm: true "
                  "only after the operator agrees. Afterwards show the ledger block.")})}};
       },
       .complete = {}});
  catalogue.prompts.push_back(
      {.name = "explain_block",
       .title = "Explain a ledger block",
       .description = "Explain one ledger block in plain words, and prove it is in the ledger.",
       .arguments = Json::array(
           {{{"name", "height"}, {"description", "the block's height"}, {"required", true}}}),
       .get = [](const Json& arguments) -> Result<Json> {
         auto height = arguments.value("height", "");
         return Json{{"description", "Explain ledger block " + height},
                     {"messages",
                      Json::array({text_message(
                          "Read ledger block " + height +
                          " with ledger_show and explain: the "
                          "action, who did it and through which interface, what changed (diff), "
                          "and the outcome. Then get ledger_proof for it and say what the proof "
                          "shows.")})}};
       },
       .complete = {}});
}

}  // namespace opdbus::mcp
