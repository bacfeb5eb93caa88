// op-dbus's MCP tools: generated from the plugin descriptors and the engine's operations; see
// host.h. Write tools show their plan and act only when confirmed.
#include <algorithm>
#include <functional>

#include "base/fs.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "engine/render.h"
#include "engine/state_file.h"
#include "ledger/verify.h"
#include "mcp/host.h"
#include "plugins/dbus/discovery.h"
#include "proto/dbus/introspect.h"

namespace opdbus::mcp {
namespace {

constexpr size_t kMaxToolName = 128;

const Json kConfirm = {{"type", "boolean"},
                       {"description",
                        "true: go ahead; otherwise the plan is shown (or the client "
                        "is asked) and nothing changes"}};

// A plugin schema placed inside a tool's schema: its "definitions" move to the tool schema's
// root under "PLUGIN." names and its "$ref"s follow them, so references still resolve there.
Json embedded_schema(Json schema, const std::string& plugin, Json& root_definitions) {
  const std::string local = "#/definitions/";
  auto definitions = schema.value("definitions", Json::object());
  for (auto& [name, definition] : definitions.items())
    root_definitions[plugin + "." + name] = definition;
  schema.erase("definitions");
  schema.erase("$schema");
  std::function<void(Json&)> rewrite = [&](Json& node) {
    if (node.is_object() && node.contains("$ref") && node["$ref"].is_string()) {
      auto ref = node["$ref"].get<std::string>();
      if (ref.rfind(local, 0) == 0) node["$ref"] = local + plugin + "." + ref.substr(local.size());
    }
    if (node.is_structured())
      for (auto& child : node) rewrite(child);
  };
  rewrite(schema);
  for (auto& [name, definition] : root_definitions.items())
    if (name.rfind(plugin + ".", 0) == 0) rewrite(definition);
  return schema;
}

// {"type": "object", "properties": {KEY: SCHEMA}} for a plugin's own schema under KEY.
Json plugin_state_schema(const Plugin& plugin, const std::string& key) {
  Json definitions = Json::object();
  auto state = embedded_schema(plugin.descriptor().schema, plugin.descriptor().name, definitions);
  auto schema = object_schema({{key, state}}, {key});
  schema["definitions"] = definitions;
  return schema;
}

// A state document {"version": 1, "plugins": {...}} under "state", with every plugin's schema.
Json state_document_schema(const Registry& registry) {
  Json plugins = Json::object(), definitions = Json::object();
  for (auto* plugin : registry.ordered())
    plugins[plugin->descriptor().name] =
        embedded_schema(plugin->descriptor().schema, plugin->descriptor().name, definitions);
  auto schema = object_schema(
      {{"version", {{"const", 1}}},
       {"plugins", {{"type", "object"}, {"properties", plugins}, {"additionalProperties", false}}}},
      {"version", "plugins"});
  return {{"schema", schema}, {"definitions", definitions}};
}

// A tool's input schema holding a state document under "state", plus `extra` properties.
Json state_input_schema(const Registry& registry, Json extra) {
  auto document = state_document_schema(registry);
  extra["state"] = document["schema"];
  auto schema = object_schema(std::move(extra), {"state"});
  schema["definitions"] = document["definitions"];
  return schema;
}

Result<StateDocument> desired_document(const Json& state, const Registry& registry,
                                       const std::string& tool) {
  auto document = TRY(parse_state_text("mcp:" + tool, state.dump(2)));
  TRY(validate_state_document(document, registry));
  return document;
}

// Whether the caller agreed to `summary`: confirm: true, or a yes to an elicitation when the
// client can be asked.
bool confirmed(Call& call, const std::string& summary) {
  if (call.arguments.value("confirm", false)) return true;
  if (!call.session.client_supports("elicitation")) return false;
  auto answer = call.ask(
      "elicitation/create",
      {{"message", summary},
       {"requestedSchema",
        {{"type", "object"},
         {"properties",
          {{"confirm",
            {{"type", "boolean"}, {"title", "Go ahead"}, {"description", "make this change"}}}}},
         {"required", {"confirm"}}}}});
  return answer && answer->value("action", "") == "accept" &&
         answer->value("content", Json::object()).value("confirm", false);
}

ToolOutput not_confirmed(const std::string& tool, const std::string& summary, Json plan) {
  auto output = ToolOutput::error(summary + "\nNothing was changed. Call " + tool +
                                  " again with confirm: true to go ahead.");
  output.structured = {{"outcome", "needs_confirmation"}, {"plan", std::move(plan)}};
  return output;
}

// An apply's or rollback's result: an error for the agent when it was rolled back.
ToolOutput apply_output(Json rendered) {
  auto outcome = rendered.value("outcome", "");
  if (outcome != "rolled_back" && outcome != "rollback_failed") return ToolOutput::of(rendered);
  auto output = ToolOutput::error("the change failed and " +
                                  std::string(outcome == "rolled_back"
                                                  ? "was rolled back; the host is as it was: "
                                                  : "the rollback failed too; inspect the host: ") +
                                  rendered.value("error", ""));
  output.structured = std::move(rendered);
  return output;
}

void report_progress(ApplyOptions& options, Call& call) {
  options.on_progress = [&call](const std::string& step, size_t done, size_t total) {
    call.progress(static_cast<double>(done), static_cast<double>(total), step);
  };
  options.should_stop = [&call] { return call.cancelled(); };
}

std::string tool_name_for(const std::string& interface, const std::string& method) {
  auto name = "dbus." + interface + "." + method;
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return name.substr(0, kMaxToolName);
}

}  // namespace

void Host::add_plugin_tools(Catalogue& catalogue) {
  for (auto* plugin : context_.registry.ordered()) {
    const auto& descriptor = plugin->descriptor();
    const auto name = descriptor.name;
    catalogue.tools.push_back({.name = "query_" + name,
                               .title = "Query " + name,
                               .description = "The current state of the host's " + name + " (" +
                                              descriptor.description +
                                              "), in the state file's layout.",
                               .input_schema = object_schema(Json::object()),
                               .output_schema = plugin_state_schema(*plugin, "state"),
                               .run = [this, name](Call& call) -> Result<ToolOutput> {
                                 return on_engine(call, [&](Engine& engine) -> Result<Json> {
                                   auto host = TRY(engine.query(name));
                                   return Json{{"state", host.document["plugins"][name]}};
                                 });
                               }});
  }
  catalogue.tools.push_back(
      {.name = "diff",
       .title = "Plan a desired state",
       .description = "What applying a desired state would change, without changing anything "
                      "(like terraform plan).",
       .input_schema = state_input_schema(context_.registry, Json::object()),
       .output_schema = {{"type", "object"}},
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto document =
             TRY(desired_document(call.arguments.at("state"), context_.registry, "diff"));
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           return render_plan_json(TRY(engine.plan(document, std::nullopt)));
         });
       }});
}

void Host::add_write_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(
      {.name = "apply",
       .title = "Apply a desired state",
       .description =
           "Makes the host match a desired state (only the plugins and objects it names): "
           "checkpoint, apply, verify, and roll back automatically on failure; recorded in the "
           "ledger. dry_run only plans. Needs confirm: true (or the client's confirmation).",
       .input_schema = state_input_schema(
           context_.registry,
           {{"dry_run", {{"type", "boolean"}}},
            {"no_commit",
             {{"type", "boolean"},
              {"description", "keep the change only if commit is called before the timeout"}}},
            {"timeout", {{"type", "integer"}, {"minimum", 1}, {"maximum", 86400}}},
            {"confirm", kConfirm}}),
       .output_schema = {{"type", "object"}},
       .read_only = false,
       .destructive = true,
       .idempotent = true,
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto document =
             TRY(desired_document(call.arguments.at("state"), context_.registry, "apply"));
         ApplyOptions options;
         options.dry_run = call.arguments.value("dry_run", false);
         options.no_commit = call.arguments.value("no_commit", false);
         options.timeout_seconds = call.arguments.value("timeout", options.no_commit ? 60 : 0);
         if (!options.dry_run) {
           auto plan = TRY(exclusive(call.session, [&]() -> Result<Json> {
             Engine engine(context_);
             auto planned = TRY(engine.plan(document, std::nullopt));
             return Json{{"json", render_plan_json(planned)},
                         {"text", render_plan_text(planned, false)},
                         {"changes", planned.enforce_count()}};
           }));
           auto summary = "apply will make " + std::to_string(plan["changes"].get<size_t>()) +
                          " change(s):\n" + plan["text"].get<std::string>();
           if (plan["changes"] != 0 && !confirmed(call, summary))
             return not_confirmed("apply", summary, plan["json"]);
         }
         report_progress(options, call);
         return apply_output(TRY(exclusive(call.session, [&]() -> Result<Json> {
           Engine engine(context_);
           return render_apply_json(TRY(engine.apply(document, options)));
         })));
       }});
  catalogue.tools.push_back(
      {.name = "rollback",
       .title = "Roll back",
       .description = "Restores the host as it was before the last apply, or (with 'to') the "
                      "state recorded at a ledger height or in a snapshot, exactly. Recorded. "
                      "Needs confirm: true (or the client's confirmation).",
       .input_schema = object_schema(
           {{"to",
             {{"type", "string"},
              {"description", "a ledger height or a snapshot name; empty: the last apply"}}},
            {"confirm", kConfirm}}),
       .output_schema = {{"type", "object"}},
       .read_only = false,
       .destructive = true,
       .idempotent = false,
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto target = call.arguments.value("to", "");
         std::string summary = "roll back the last apply";
         Json plan = Json::object();
         if (!target.empty()) {
           ApplyOptions dry;
           dry.dry_run = true;
           auto planned = TRY(exclusive(call.session, [&]() -> Result<Json> {
             Engine engine(context_);
             auto result = TRY(engine.rollback_to(target, dry));
             return Json{{"json", render_plan_json(result.plan)},
                         {"text", render_plan_text(result.plan, false)}};
           }));
           summary = "roll back to " + target + ":\n" + planned["text"].get<std::string>();
           plan = planned["json"];
         }
         if (!confirmed(call, summary)) return not_confirmed("rollback", summary, plan);
         return apply_output(TRY(exclusive(call.session, [&]() -> Result<Json> {
           Engine engine(context_);
           if (target.empty()) {
             auto result = TRY(engine.rollback());
             return Json{{"outcome", "rolled_back_to_checkpoint"},
                         {"rolled_back", result.checkpoint_id},
                         {"writes", result.writes}};
           }
           ApplyOptions options;
           report_progress(options, call);
           return render_apply_json(TRY(engine.rollback_to(target, options)));
         })));
       }});
  catalogue.tools.push_back(
      {.name = "commit",
       .title = "Commit a pending change",
       .description = "Keeps a change applied with no_commit (otherwise it is rolled back at its "
                      "deadline).",
       .input_schema = object_schema(Json::object()),
       .output_schema = object_schema({{"committed", {{"type", "string"}}}}, {"committed"}),
       .read_only = false,
       .destructive = false,
       .idempotent = false,
       .run = [this](Call& call) -> Result<ToolOutput> {
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           return Json{{"committed", TRY(engine.commit()).id}};
         });
       }});
}

void Host::add_ledger_tools(Catalogue& catalogue) {
  const auto& state_dir = context_.config.state_dir;
  catalogue.tools.push_back(
      {.name = "ledger_log",
       .title = "Recent ledger blocks",
       .description = "The newest blocks of the tamper-evident ledger (applies, drift, "
                      "rollbacks, snapshots, ...), optionally only those touching one plugin.",
       .input_schema = object_schema(
           {{"count", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 20}}},
            {"plugin", {{"type", "string"}}}}),
       .output_schema = object_schema({{"blocks", {{"type", "array"}}}}, {"blocks"}),
       .run = [state_dir](Call& call) -> Result<ToolOutput> {
         auto data = TRY(ledger::load_local_ledger(state_dir));
         auto plugin = call.arguments.value("plugin", "");
         auto blocks = TRY(ledger::newest_blocks(
             data, call.arguments.value("count", 20), [&plugin](const Json& block) {
               if (plugin.empty()) return true;
               const auto plugins = block.value("plugins", Json::array());
               return std::find(plugins.begin(), plugins.end(), plugin) != plugins.end();
             }));
         return ToolOutput::of({{"blocks", blocks}});
       }});
  catalogue.tools.push_back(
      {.name = "ledger_show",
       .title = "One ledger block",
       .description = "The block at a height: action, actor, diff, before and after, result.",
       .input_schema =
           object_schema({{"height", {{"type", "integer"}, {"minimum", 0}}}}, {"height"}),
       .output_schema = {{"type", "object"}},
       .run = [state_dir](Call& call) -> Result<ToolOutput> {
         auto data = TRY(ledger::load_local_ledger(state_dir));
         auto line = TRY(ledger::block_at(ledger::index_blocks(data),
                                          call.arguments.at("height").get<uint64_t>()));
         return ToolOutput::of(TRY(ledger::parse_block(line)));
       }});
  catalogue.tools.push_back(
      {.name = "ledger_verify",
       .title = "Verify the ledger",
       .description = "Checks every block's hash, the chain, the Merkle root and the signed "
                      "checkpoint of the ledger.",
       .input_schema = object_schema(Json::object()),
       .output_schema = object_schema({{"ok", {{"type", "boolean"}}}}, {"ok"}),
       .run = [state_dir](Call&) -> Result<ToolOutput> {
         return ToolOutput::of(TRY(ledger::verify_summary(state_dir)));
       }});
  catalogue.tools.push_back(
      {.name = "ledger_proof",
       .title = "Prove a block or the ledger's history",
       .description = "With height: an inclusion proof that the block is in the ledger. With "
                      "old_size: a consistency proof that the ledger of that size is a prefix of "
                      "today's (nothing removed or rewritten). Checked offline with "
                      "'op-dbus ledger verify-proof'.",
       .input_schema = object_schema({{"height", {{"type", "integer"}, {"minimum", 0}}},
                                      {"old_size", {{"type", "integer"}, {"minimum", 1}}}}),
       .output_schema = {{"type", "object"}},
       .run = [state_dir](Call& call) -> Result<ToolOutput> {
         auto data = TRY(ledger::load_local_ledger(state_dir));
         if (call.arguments.contains("height"))
           return ToolOutput::of(TRY(ledger::inclusion_proof_json(
               data, call.arguments["height"].get<uint64_t>(), std::nullopt)));
         if (call.arguments.contains("old_size"))
           return ToolOutput::of(TRY(ledger::consistency_proof_json(
               data, call.arguments["old_size"].get<uint64_t>(), std::nullopt)));
         return ToolOutput::error("ledger_proof needs height or old_size");
       }});
}

void Host::add_store_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(
      {.name = "snapshot_list",
       .title = "State snapshots",
       .description = "The state snapshots kept (BTRFS read-only snapshots where available), "
                      "which retention tiers keep each, and the policy.",
       .input_schema = object_schema(Json::object()),
       .output_schema = object_schema({{"snapshots", {{"type", "array"}}}}, {"snapshots"}),
       .run = [this](Call& call) -> Result<ToolOutput> {
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           auto statuses = TRY(engine.snapshot_status());
           auto policy = TRY(engine.retention());
           auto* store = TRY(open_store(context_));
           return render_snapshots_json(statuses, policy, store->on_btrfs());
         });
       }});
  catalogue.tools.push_back(
      {.name = "snapshot_create",
       .title = "Take a state snapshot",
       .description = "Records the current state of every plugin as a snapshot now (recorded).",
       .input_schema = object_schema(Json::object()),
       .output_schema = object_schema({{"snapshot", {{"type", "string"}}}}, {"snapshot"}),
       .read_only = false,
       .destructive = false,
       .idempotent = false,
       .run = [this](Call& call) -> Result<ToolOutput> {
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           return Json{{"snapshot", TRY(engine.create_snapshot())}};
         });
       }});
  catalogue.tools.push_back(
      {.name = "retention_show",
       .title = "Snapshot retention policy",
       .description = "How many hourly, daily, weekly and quarterly snapshots are kept.",
       .input_schema = object_schema(Json::object()),
       .output_schema = {{"type", "object"}},
       .run = [this](Call& call) -> Result<ToolOutput> {
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           return TRY(engine.retention()).to_json();
         });
       }});
  const Json count = {{"type", "integer"}, {"minimum", 0}, {"maximum", 10000}};
  catalogue.tools.push_back(
      {.name = "retention_set",
       .title = "Change the retention policy",
       .description = "Sets how many hourly, daily, weekly and quarterly snapshots are kept "
                      "(lower numbers let the next prune delete snapshots). Recorded. Needs "
                      "confirm: true (or the client's confirmation).",
       .input_schema = object_schema({{"hourly", count},
                                      {"daily", count},
                                      {"weekly", count},
                                      {"quarterly", count},
                                      {"confirm", kConfirm}}),
       .output_schema = {{"type", "object"}},
       .read_only = false,
       .destructive = true,
       .idempotent = true,
       .run = [this](Call& call) -> Result<ToolOutput> {
         std::vector<std::string> assignments;
         for (const char* tier : {"hourly", "daily", "weekly", "quarterly"})
           if (call.arguments.contains(tier))
             assignments.push_back(fmt::format("{}={}", tier, call.arguments[tier].dump()));
         if (assignments.empty())
           return ToolOutput::error("name at least one of hourly, daily, weekly, quarterly");
         auto before = TRY(exclusive(call.session, [&]() -> Result<Json> {
           Engine engine(context_);
           return TRY(engine.retention()).to_json();
         }));
         auto summary = fmt::format("change the snapshot retention from {} by {}", before.dump(),
                                    fmt::join(assignments, ", "));
         if (!confirmed(call, summary))
           return not_confirmed("retention_set", summary, {{"retention", before}});
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           TRY(engine.set_retention(assignments));
           return Json{{"before", before}, {"after", TRY(engine.retention()).to_json()}};
         });
       }});
}

void Host::add_dbus_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(
      {.name = "discover",
       .title = "Discover D-Bus services",
       .description = "Walks every running service on the bus (objects, interfaces, methods, "
                      "properties, signals) and updates the discovery index. With service: that "
                      "service's full description with JSON Schemas for its methods.",
       .input_schema = object_schema({{"service", {{"type", "string"}}}}),
       .output_schema = object_schema({{"services", {{"type", "array"}}}}, {"services"}),
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto only = call.arguments.value("service", "");
         return ToolOutput::of(TRY(exclusive(call.session, [&]() -> Result<Json> {
           auto bus = TRY(dbus::Bus::open(context_.config.bus_address));
           auto services = TRY(dbusplugin::discover(bus, {}));
           TRY(ensure_directory(context_.config.state_dir, kStateDirectoryMode));
           auto changes = TRY(
               dbusplugin::replace_index(context_.config.state_dir / "discovery.sqlite", services));
           Json list = Json::array();
           for (const auto& each : dbusplugin::discovery_json(services)) {
             if (!only.empty() && each.value("name", "") != only) continue;
             if (!only.empty()) {
               list.push_back(each);
               continue;
             }
             list.push_back({{"name", each.value("name", "")},
                             {"running", each.value("running", false)},
                             {"activatable", each.value("activatable", false)},
                             {"objects", each.value("objects", Json::array()).size()}});
           }
           return Json{
               {"services", list}, {"appeared", changes.appeared}, {"vanished", changes.vanished}};
         })));
       }});
  if (options_.dbus_methods.empty()) return;
  auto bus = dbus::Bus::open(context_.config.bus_address);
  if (!bus) return;
  std::map<std::string, Tool> tools;
  for (const auto& exposure : options_.dbus_methods) {
    auto objects = dbus::walk_service(*bus, exposure.service, {});
    if (!objects) continue;
    for (const auto& object : *objects)
      for (const auto& interface : object.interfaces) {
        if (!exposure.interface.empty() && interface.name != exposure.interface) continue;
        auto described = dbus::interface_json(interface);
        for (const auto& method : interface.methods)
          add_dbus_method_tool(tools, exposure.service, object.path, interface.name, method,
                               described["methods"][method.name]);
      }
  }
  for (auto& [name, tool] : tools) catalogue.tools.push_back(std::move(tool));
}

void Host::add_dbus_method_tool(std::map<std::string, Tool>& tools, const std::string& service,
                                const std::string& path, const std::string& interface,
                                const dbus::Method& method, const Json& described) {
  auto name = tool_name_for(interface, method.name);
  if (auto found = tools.find(name); found != tools.end()) {
    found->second.input_schema["properties"]["object_path"]["enum"].push_back(path);
    return;
  }
  std::string signature;
  std::vector<std::string> in_names, out_names;
  for (size_t i = 0; i < method.in.size(); ++i) {
    signature += method.in[i].type;
    in_names.push_back(method.in[i].name.empty() ? fmt::format("arg{}", i) : method.in[i].name);
  }
  for (size_t i = 0; i < method.out.size(); ++i)
    out_names.push_back(method.out[i].name.empty() ? fmt::format("arg{}", i) : method.out[i].name);
  Tool tool{
      .name = name,
      .title = interface + "." + method.name,
      .description = "Calls the D-Bus method " + interface + "." + method.name + " of " + service +
                     " (enabled in the MCP config). Its effect is the service's; the call is "
                     "recorded in the ledger. Needs confirm: true (or the client's confirmation).",
      .input_schema =
          object_schema({{"object_path", {{"type", "string"}, {"enum", Json::array({path})}}},
                         {"arguments", described.value("input_schema", Json::object())},
                         {"confirm", kConfirm}},
                        {"object_path"}),
      .output_schema = described.value("output_schema", Json()),
      .read_only = false,
      .destructive = true,
      .idempotent = false,
      .open_world = true,
      .run = {}};
  tool.run = [this, service, interface, member = method.name, signature, in_names,
              out_names](Call& call) -> Result<ToolOutput> {
    auto object_path = call.arguments.at("object_path").get<std::string>();
    auto given = call.arguments.value("arguments", Json::object());
    Json arguments = Json::array();
    for (const auto& in : in_names) arguments.push_back(given.value(in, Json()));
    auto summary = fmt::format("call {}.{} on {} {} with {}", interface, member, service,
                               object_path, given.dump());
    if (!confirmed(call, summary)) return not_confirmed(interface + "." + member, summary, given);
    return ToolOutput::of(TRY(exclusive(call.session, [&]() -> Result<Json> {
      auto bus = TRY(dbus::Bus::open(context_.config.bus_address));
      auto reply = TRY(bus.call({service, object_path, interface, member, signature, arguments}));
      Json out = Json::object();
      for (size_t i = 0; i < out_names.size() && i < reply.size(); ++i)
        out[out_names[i]] = reply[i];
      auto* ledger = TRY(open_ledger(context_));
      TRY(ledger->append(store_record(context_, "dbus.call", Json::object(), out,
                                      {{"service", service},
                                       {"path", object_path},
                                       {"interface", interface},
                                       {"method", member},
                                       {"arguments", given}})));
      return out;
    })));
  };
  tools.emplace(name, std::move(tool));
}

}  // namespace opdbus::mcp
