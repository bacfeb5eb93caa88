// Compliance reports and their offline verification; see report.h.
#include "compliance/report.h"

#include <map>
#include <set>

#include <fmt/ranges.h>

#include "ledger/canonical_json.h"
#include "ledger/checkpoint.h"
#include "ledger/digest.h"
#include "ledger/merkle.h"

namespace opdbus::compliance {
namespace {

constexpr const char* kSignedHeading = "op-dbus compliance report";
constexpr std::string_view kHtmlScriptOpen =
    R"(<script type="application/json" id="op-dbus-report">)";
constexpr const char* kOscalResourceFile = "op-dbus-report.json";

ControlStatus combined_status(const std::vector<Finding>& findings) {
  bool any_pass = false;
  for (const auto& finding : findings) {
    if (finding.status == ControlStatus::fail) return ControlStatus::fail;
    any_pass = any_pass || finding.status == ControlStatus::pass;
  }
  return any_pass ? ControlStatus::pass : ControlStatus::not_applicable;
}

Json finding_json(const Finding& finding) {
  return {{"kind", evidence_kind_name(finding.kind)},
          {"status", status_name(finding.status)},
          {"reason", finding.reason},
          {"details", finding.details},
          {"blocks", finding.blocks}};
}

Json control_json(const Control& control, const std::vector<Finding>& findings) {
  auto status = combined_status(findings);
  std::vector<std::string> reasons;
  Json evidence = Json::array();
  for (const auto& finding : findings) {
    if (status != ControlStatus::fail || finding.status == ControlStatus::fail)
      reasons.push_back(finding.reason);
    evidence.push_back(finding_json(finding));
  }
  return {{"id", control.id},
          {"oscal_id", control.oscal_id},
          {"title", control.title},
          {"status", status_name(status)},
          {"reason", fmt::format("{}", fmt::join(reasons, "; "))},
          {"evidence", evidence}};
}

Json cited_blocks(const std::vector<Record>& records, uint64_t first_height,
                  const std::set<uint64_t>& heights) {
  Json out = Json::array();
  for (auto height : heights) {
    const auto& record = records.at(height - first_height);
    const auto& actor = record.block["actor"];
    Json entry = {
        {"height", height},
        {"hash", record.hash},
        {"time", record.block.value("time", "")},
        {"action", record.block.value("action", "")},
        {"kind", record.kind},
        {"actor", actor.is_object() ? actor : Json::object()},
        {"plugins", record.block.value("plugins", Json::array())},
        {"outcome",
         record.block["result"].is_object() ? record.block["result"].value("outcome", "") : ""}};
    out.push_back(std::move(entry));
  }
  return out;
}

// The multi-leaf inclusion proof of the cited blocks under the signed checkpoint; none when
// older segments were archived (the tree cannot be rebuilt) or no cited block is under it.
Result<std::optional<Json>> cited_proof(const ledger::LedgerData& data,
                                        const std::set<uint64_t>& heights,
                                        const ledger::Checkpoint& checkpoint) {
  auto index = ledger::index_blocks(data);
  std::vector<uint64_t> proven(heights.begin(), heights.lower_bound(checkpoint.size));
  if (index.first != 0 || proven.empty()) return std::nullopt;
  auto tree = TRY(ledger::build_tree(index));
  Json hashes = Json::array();
  for (const auto& digest : TRY(tree.multi_inclusion_proof(proven, checkpoint.size)))
    hashes.push_back(ledger::to_hex(digest));
  return hashes;
}

std::string optional_time(const std::optional<TimePoint>& time) {
  return time ? format_rfc3339(*time, false) : std::string();
}

Json summary_json(const Json& controls) {
  std::map<std::string, size_t> counts{{"pass", 0}, {"fail", 0}, {"not_applicable", 0}};
  for (const auto& control : controls) ++counts[control["status"].get<std::string>()];
  Json summary = counts;
  summary["result"] = counts["fail"] ? "fail" : "pass";
  return summary;
}

std::string signed_text(const std::string& digest) {
  return fmt::format("{}\n{}\n", kSignedHeading, digest);
}

Status fails(bool condition, std::string message) {
  if (condition) return fail(ErrorCode::verify_failed, std::move(message));
  return ok();
}

Result<Json> report_from_html(std::string_view text) {
  auto start = text.find(kHtmlScriptOpen);
  if (start == std::string_view::npos)
    return fail(ErrorCode::invalid_input,
                "not a compliance report: no JSON, OSCAL or HTML report with an embedded "
                "op-dbus-report");
  start += kHtmlScriptOpen.size();
  auto end = text.find("</script>", start);
  auto json = Json::parse(text.substr(start, end - start), nullptr, false);
  if (!json.is_object())
    return fail(ErrorCode::invalid_input, "the HTML report's embedded report is not JSON");
  return json;
}

Result<Json> report_from_oscal(const Json& oscal) {
  const auto& resources = oscal["assessment-results"]
                              .value("back-matter", Json::object())
                              .value("resources", Json::array());
  for (const auto& resource : resources) {
    const auto& base64 = resource.value("base64", Json::object());
    if (base64.value("filename", "") != kOscalResourceFile) continue;
    auto bytes = ledger::base64_decode(base64.value("value", ""));
    if (!bytes) return fail(ErrorCode::invalid_input, "the OSCAL report's resource is not base64");
    auto json = Json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (json.is_object()) return json;
  }
  return fail(ErrorCode::invalid_input,
              "the OSCAL document carries no op-dbus report "
              "(back-matter resource {})",
              kOscalResourceFile);
}

// `digest`: the report's own (report_digest).
Status check_signature(const Json& report, const std::string& digest,
                       const ledger::VerifierKey& key) {
  if (!report.contains("signature") || !report["signature"].is_string())
    return fail(ErrorCode::verify_failed, "the report is not signed");
  auto text = key.open(report["signature"].get<std::string>());
  if (!text)
    return fail(ErrorCode::verify_failed, "the report's signature is not by key {}: {}", key.name(),
                text.error().message);
  return fails(*text != signed_text(digest),
               "the report was changed after it was signed (its digest differs from the signed "
               "one)");
}

// The cited block is the export's block at that height; returns its hash.
Result<ledger::Digest> check_block(const Json& cited, const ledger::BlockIndex& index) {
  auto height = cited.at("height").get<uint64_t>();
  auto line = TRY(with_context(ledger::block_at(index, height), "the cited block"));
  auto hash = ledger::sha256(line);
  TRY(fails(ledger::to_hex(hash) != cited.at("hash").get<std::string>(),
            fmt::format("block {} in the export is not the block the report cites (hash {} vs {})",
                        height, ledger::to_hex(hash), cited.at("hash").get<std::string>())));
  auto block = TRY(ledger::parse_block(line));
  TRY(fails(block.value("action", "") != cited.value("action", "") ||
                block.value("time", "") != cited.value("time", ""),
            fmt::format("block {}: the report misstates its action or time", height)));
  return hash;
}

// Every cited block is in the export; with the report's proof, also under its checkpoint.
Result<std::string> check_cited_blocks(const Json& report, const ledger::BlockIndex& index,
                                       const ledger::Checkpoint& checkpoint) {
  std::vector<ledger::IndexedLeaf> proven;
  for (const auto& cited : report.at("blocks")) {
    auto hash = TRY(check_block(cited, index));
    auto height = cited.at("height").get<uint64_t>();
    if (height < checkpoint.size) proven.emplace_back(height, ledger::leaf_hash(hash));
  }
  auto in_export = fmt::format("{} cited blocks are in the export", report.at("blocks").size());
  if (!report.at("ledger").contains("proof")) return in_export;
  std::vector<ledger::Digest> proof;
  for (const auto& hex : report.at("ledger").at("proof")) {
    auto digest = ledger::digest_from_hex(hex.get<std::string>());
    TRY(fails(!digest, "an entry of the report's inclusion proof is not a hash"));
    proof.push_back(*digest);
  }
  TRY(with_context(ledger::verify_multi_inclusion(proven, checkpoint.size, proof, checkpoint.root),
                   "the cited blocks' inclusion proof"));
  return fmt::format("{}, and their inclusion proof ({} {}) leads to the checkpoint's root",
                     in_export, proof.size(), proof.size() == 1 ? "hash" : "hashes");
}

// The block recording the report (by digest), and that the file is the one recorded.
Result<uint64_t> check_recorded(const ledger::BlockIndex& index, uint64_t from,
                                const std::string& digest, std::string_view file_text) {
  auto file_hash = ledger::to_hex(ledger::sha256(file_text));
  std::vector<std::string> recorded_files;
  for (uint64_t height = std::max(from, index.first); height < index.first + index.lines.size();
       ++height) {
    auto block = TRY(ledger::parse_block(index.lines[height - index.first]));
    if (block.value("action", "") != kReportAction) continue;
    const auto& after = block["after"];
    if (!after.is_object() || after.value("report_sha256", "") != digest) continue;
    if (after.value("file_sha256", "") == file_hash) return height;
    recorded_files.push_back(
        fmt::format("block {} records SHA-256 {}", height, after.value("file_sha256", "")));
  }
  TRY(fails(!recorded_files.empty(),
            fmt::format("the report file was changed after it was written: {}; the file has {}",
                        fmt::join(recorded_files, ", "), file_hash)));
  return fail(ErrorCode::verify_failed,
              "the ledger export does not record this report (export the ledger after "
              "producing the report)");
}

}  // namespace

Result<Json> build_report(const ledger::LedgerData& ledger, const HostFacts& facts,
                          const ReportRequest& request) {
  const auto& framework = framework_info(request.framework);
  auto records = TRY(read_records(ledger));
  auto key = TRY(ledger::VerifierKey::parse(ledger.public_key));
  auto checkpoint = TRY(ledger::open_checkpoint(ledger.checkpoint, key));
  EvidenceInputs inputs{records,
                        {request.since, request.until.value_or(request.generated)},
                        facts,
                        ledger::verify_summary(ledger)};
  std::map<EvidenceKind, Finding> decided;
  std::set<uint64_t> cited;
  Json controls = Json::array();
  for (const auto& control : framework.controls) {
    std::vector<Finding> findings;
    for (auto kind : control.evidence) {
      if (!decided.contains(kind)) decided[kind] = decide(kind, inputs);
      findings.push_back(decided[kind]);
      cited.insert(decided[kind].blocks.begin(), decided[kind].blocks.end());
    }
    if (auto checks = decide_policy_checks(inputs, framework.id, control.id)) {
      cited.insert(checks->blocks.begin(), checks->blocks.end());
      findings.push_back(std::move(*checks));
    }
    controls.push_back(control_json(control, findings));
  }
  auto first_height = ledger::first_height(ledger);
  Json ledger_json = {{"origin", checkpoint.origin},     {"key", key.text()},
                      {"size", checkpoint.size},         {"first_height", first_height},
                      {"checkpoint", ledger.checkpoint}, {"root", ledger::to_hex(checkpoint.root)},
                      {"verify", inputs.verify}};
  if (auto proof = TRY(cited_proof(ledger, cited, checkpoint))) ledger_json["proof"] = *proof;
  return Json{{"schema", kReportSchema},
              {"framework", {{"id", framework.id}, {"title", framework.title}}},
              {"generated", format_rfc3339(request.generated, false)},
              {"period",
               {{"since", optional_time(request.since)},
                {"until", format_rfc3339(inputs.period.until, false)}}},
              {"ledger", ledger_json},
              {"summary", summary_json(controls)},
              {"controls", controls},
              {"blocks", cited_blocks(records, first_height, cited)}};
}

Result<std::string> report_digest(const Json& report) {
  if (!report.contains("signature"))
    return ledger::to_hex(ledger::sha256(TRY(ledger::canonical_json(report))));
  Json unsigned_report = report;
  unsigned_report.erase("signature");
  return report_digest(unsigned_report);
}

Result<Json> sign_report(Json report, const ledger::SigningKey& key) {
  report["signature"] = TRY(key.sign(signed_text(TRY(report_digest(report)))));
  return report;
}

bool report_passed(const Json& report) {
  return report["summary"].value("result", "fail") == "pass";
}

Result<Json> extract_report(std::string_view file_text) {
  auto first = file_text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || file_text[first] != '{')
    return report_from_html(file_text);
  auto json = Json::parse(file_text, nullptr, false);
  if (!json.is_object()) return fail(ErrorCode::invalid_input, "the report is not valid JSON");
  if (json.contains("assessment-results")) return report_from_oscal(json);
  if (json.value("schema", "") != kReportSchema)
    return fail(ErrorCode::invalid_input, "not an op-dbus compliance report (schema is not {})",
                kReportSchema);
  return json;
}

Result<std::vector<std::string>> verify_report(std::string_view file_text,
                                               const ledger::LedgerData& ledger,
                                               const ledger::VerifierKey& key) {
  auto report = TRY(extract_report(file_text));
  std::vector<std::string> checked;
  try {
    auto digest = TRY(report_digest(report));
    TRY(check_signature(report, digest, key));
    checked.push_back(fmt::format("the report is signed by {}", key.name()));
    const auto& note = report.at("ledger").at("checkpoint").get<std::string>();
    auto checkpoint =
        TRY(with_context(ledger::open_checkpoint(note, key), "the report's checkpoint"));
    ledger::VerifyOptions options;
    options.trusted_key = key;
    options.known_checkpoints.push_back(note);
    auto verified = TRY(ledger::verify_ledger(ledger, options));
    checked.push_back(
        fmt::format("the ledger export verifies ({} blocks) and still holds the "
                    "report's checkpoint (size {})",
                    verified.blocks, checkpoint.size));
    auto index = ledger::index_blocks(ledger);
    checked.push_back(TRY(check_cited_blocks(report, index, checkpoint)));
    auto height = TRY(check_recorded(index, checkpoint.size, digest, file_text));
    checked.push_back(
        fmt::format("the report and this file's SHA-256 are recorded in block {}", height));
  } catch (const Json::exception& error) {
    return fail(ErrorCode::verify_failed, "the report is malformed: {}", error.what());
  }
  return checked;
}

}  // namespace opdbus::compliance
