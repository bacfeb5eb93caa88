// Compliance checks run against this host; see compliance_checks.h.
#include "daemon/compliance_checks.h"

#include <set>

#include "base/fs.h"
#include "compliance/checks.h"
#include "engine/engine.h"
#include "engine/record.h"
#include "engine/state_file.h"
#include "ledger/digest.h"
#include "ledger/verify.h"

namespace opdbus::daemon {
namespace {

// The ledger as a check source: verified now (then last verified now), else when a recorded
// check run last verified it.
Json ledger_facts(const Context& context) {
  Json facts = {{"verified", false}, {"last_verified", nullptr}};
  auto data = ledger::load_local_ledger(context.config.state_dir);
  if (!data) return facts;
  facts.update(ledger::verify_summary(*data));
  facts["verified"] = facts["ok"];
  facts.erase("ok");
  if (facts["verified"].get<bool>()) {
    facts["last_verified"] = format_rfc3339(context.clock(), false);
    return facts;
  }
  auto last = ledger::newest_blocks(*data, 1, [](const Json& block) {
    return block.value("action", "") == compliance::kCheckAction &&
           block["after"].value("ledger_verified", false);
  });
  if (last && !last->empty()) facts["last_verified"] = (*last)[0].value("time", "");
  return facts;
}

Result<compliance::Sources> gather_sources(Context& context,
                                           const std::vector<compliance::Check>& checks) {
  std::set<std::string> plugins;
  for (const auto& check : checks) plugins.insert(check.query);
  compliance::Sources sources{{"ledger", ledger_facts(context)}};
  plugins.erase("ledger");
  Engine engine(context);
  for (const auto& plugin : plugins) {
    auto host = TRY(with_context(engine.query(plugin), "query " + plugin));
    if (host.document["plugins"].contains(plugin))
      sources[plugin] = host.document["plugins"][plugin];
  }
  return sources;
}

Json summary_of(const std::vector<compliance::CheckResult>& results) {
  Json summary = {{"pass", 0}, {"fail", 0}, {"error", 0}};
  for (const auto& result : results) summary[result.status] = summary[result.status].get<int>() + 1;
  return summary;
}

}  // namespace

Result<Json> run_compliance_checks(Context& context, const std::filesystem::path& policy_file) {
  auto text = TRY(read_file(policy_file));
  auto document = TRY(parse_state_text(policy_file.string(), text));
  auto checks = TRY(compliance::parse_checks(
      document.root, [&](const std::string& pointer) { return document.locate(pointer); }));
  auto sources = TRY(gather_sources(context, checks));
  auto results = compliance::run_checks(checks, sources, context.clock());
  bool verified = sources["ledger"].value("verified", false);
  Json run = {{"policy", policy_file.string()},
              {"policy_sha256", ledger::to_hex(ledger::sha256(text))},
              {"results", compliance::results_json(results)},
              {"summary", summary_of(results)},
              {"ledger_verified", verified}};
  auto* ledger = TRY(open_ledger(context));
  TRY(ledger->append(
      store_record(context, compliance::kCheckAction, Json::object(), run, Json::object())));
  return run;
}

}  // namespace opdbus::daemon
