// op-dbus's MCP tools for the machine and its history of states: topology (NUMA, L3, devices,
// placement) and anomalies (scan, history). See host.h.
#include "engine/anomalies.h"
#include "engine/engine.h"
#include "mcp/host.h"
#include "topology/placement.h"

namespace opdbus::mcp {

void Host::add_insight_tools(Catalogue& catalogue) {
  catalogue.tools.push_back(
      {.name = "topology",
       .title = "Machine topology",
       .description = "Packages, NUMA nodes (CPUs, memory, distances), L3 cache domains, GPUs and "
                      "NICs with their local node, and where op-dbus would place its work "
                      "(policy auto, off or node:N, optionally near a device).",
       .input_schema = object_schema({{"policy", {{"type", "string"}, {"default", "auto"}}},
                                      {"device", {{"type", "string"}}}}),
       .output_schema = {{"type", "object"}},
       .run = [](Call& call) -> Result<ToolOutput> {
         auto hwloc = TRY(topology::Hwloc::this_machine());
         auto described = hwloc.describe();
         auto policy = TRY(topology::PlacementPolicy::parse(call.arguments.value("policy", "auto"),
                                                            call.arguments.value("device", "")));
         auto out = described.to_json();
         out["placement"] = TRY(topology::decide(described, policy)).to_json();
         return ToolOutput::of(out);
       }});
  catalogue.tools.push_back(
      {.name = "anomaly_scan",
       .title = "Scan for anomalies",
       .description = "Embeds the current state of every plugin (or one) and compares each "
                      "resource with the states seen before; anomalies (similarity below the "
                      "threshold) are recorded in the ledger. The first scan defines the baseline.",
       .input_schema =
           object_schema({{"plugin", {{"type", "string"}}},
                          {"threshold",
                           {{"type", "number"},
                            {"minimum", 0},
                            {"maximum", 1},
                            {"description",
                             "similarity below which a state is an anomaly (default: the "
                             "daemon config's, 0.85 unless set)"}}}}),
       .output_schema = {{"type", "object"}},
       .read_only = true,
       .idempotent = false,
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto config = options_.anomaly;
         config.threshold = call.arguments.value("threshold", config.threshold);
         auto plugin = call.arguments.value("plugin", "");
         return on_engine(call, [&](Engine& engine) -> Result<Json> {
           auto anomalies = TRY(Anomalies::open(context_, config));
           auto states = TRY(engine.query(plugin.empty() ? std::nullopt : std::optional(plugin)))
                             .document["plugins"];
           Json found = Json::array();
           for (const auto& verdict : TRY(anomalies->observe(states, "scan")))
             found.push_back(verdict.to_json());
           return Json{{"anomalies", found}, {"plugins", states.size()}};
         });
       }});
  catalogue.tools.push_back(
      {.name = "anomaly_history",
       .title = "Recorded anomalies",
       .description = "The anomaly blocks of the ledger, newest first: plugin, resource, score, "
                      "the most similar normal state, and when.",
       .input_schema = object_schema(
           {{"count", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 20}}}}),
       .output_schema = {{"type", "object"}},
       .run = [this](Call& call) -> Result<ToolOutput> {
         auto blocks = TRY(Anomalies::history(context_, call.arguments.value("count", 20)));
         return ToolOutput::of({{"blocks", blocks}});
       }});
}

}  // namespace opdbus::mcp
