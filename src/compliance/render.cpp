// HTML and OSCAL forms of a report; see render.h.
#include "compliance/render.h"

#include <algorithm>
#include <map>

#include <fmt/ranges.h>

#include "base/clock.h"
#include "compliance/report.h"
#include "ledger/digest.h"

namespace opdbus::compliance {
namespace {

constexpr const char* kOscalVersion = "1.0.4";
constexpr const char* kTimelineKinds[] = {"change", "drift", "anomaly", "denied", "snapshot"};

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string status_label(const std::string& status) {
  return status == "not_applicable" ? "n/a" : status;
}

std::string badge(const std::string& status) {
  return fmt::format(R"(<span class="badge {}">{}</span>)", status, status_label(status));
}

std::string block_links(const Json& heights) {
  std::vector<std::string> links;
  for (const auto& height : heights)
    links.push_back(fmt::format(R"(<a href="#block-{0}">{0}</a>)", height.get<uint64_t>()));
  return links.empty() ? "&ndash;" : fmt::format("{}", fmt::join(links, " "));
}

const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d5dae3}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.2em}
th,td{border:1px solid #d5dae3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6}code{font-size:.92em;word-break:break-all}.meta{color:#4b5568}
.badge{display:inline-block;min-width:3.2em;text-align:center;border-radius:3px;padding:0 6px;
color:#fff;font-weight:600;text-transform:uppercase;font-size:.85em}
.pass{background:#1f7a3f}.fail{background:#b42318}.not_applicable{background:#6b7280}
.result{font-size:1.4em;padding:.3em .8em;display:inline-block;border-radius:4px;color:#fff}
.counts span{margin-right:1.5em}svg text{font-size:11px;fill:#1d2330}
.dot-ok{fill:#1f7a3f}.dot-bad{fill:#b42318}.dot-info{fill:#2459b3}
)";

std::string html_head(const Json& report) {
  const auto& framework = report["framework"];
  const auto& period = report["period"];
  auto since = period.value("since", "");
  return fmt::format(
      R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{0} compliance report: {1}</title><style>{2}</style></head><body>
<header><h1>{0} compliance report</h1>
<p class="meta">Host ledger <code>{1}</code> &middot; period {3} to {4} &middot; generated {5}</p></header>
)",
      escape(framework.value("title", "")), escape(report["ledger"].value("origin", "")), kStyle,
      since.empty() ? "the first record" : escape(since), escape(period.value("until", "")),
      escape(report.value("generated", "")));
}

std::string html_summary(const Json& report) {
  const auto& summary = report["summary"];
  const auto& ledger = report["ledger"];
  const auto& verify = ledger["verify"];
  auto result = summary.value("result", "fail");
  return fmt::format(
      R"(<section id="summary"><h2>Summary</h2>
<p><span class="result {0}">{1}</span></p>
<p class="counts"><span>{2} passed</span><span>{3} failed</span><span>{4} not applicable</span></p>
<p>Ledger: {5} blocks, {6}; evidence is proven against the signed checkpoint of size {7} (root <code>{8}</code>).</p>
</section>
)",
      result, result == "pass" ? "All controls pass" : "Some controls fail",
      summary.value("pass", 0), summary.value("fail", 0), summary.value("not_applicable", 0),
      ledger.value("size", 0),
      verify.value("ok", false) ? "verified"
                                : "verification FAILED: " + escape(verify.value("error", "")),
      ledger.value("size", 0), escape(ledger.value("root", "")));
}

const char* dot_class(const Json& block) {
  auto outcome = block.value("outcome", "");
  if (block.value("kind", "") == "denied" || outcome == "rolled_back" ||
      outcome == "rollback_failed")
    return "dot-bad";
  if (block.value("kind", "") == "change") return "dot-ok";
  return "dot-info";
}

// The period's cited blocks on a time axis, one row per kind.
std::string html_timeline(const Json& report) {
  const auto& blocks = report["blocks"];
  auto until = parse_rfc3339(report["period"].value("until", ""));
  auto since = parse_rfc3339(report["period"].value("since", ""));
  TimePoint end = until ? *until : TimePoint{};
  TimePoint start = since ? *since : end;
  for (const auto& block : blocks)
    if (auto time = parse_rfc3339(block.value("time", ""))) start = std::min(start, *time);
  double span = std::max<double>(1, std::chrono::duration<double>(end - start).count());
  constexpr int kLeft = 90, kWidth = 840, kRow = 28;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 960 {}" role="img" aria-label="timeline">)",
      kRow * std::size(kTimelineKinds) + 40);
  for (size_t row = 0; row < std::size(kTimelineKinds); ++row) {
    auto y = kRow * row + 20;
    svg += fmt::format(
        R"(<text x="0" y="{}">{}</text><line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d5dae3"/>)",
        y + 4, kTimelineKinds[row], kLeft, kLeft + kWidth, y, y);
  }
  for (const auto& block : blocks) {
    auto kind = block.value("kind", "");
    auto row = std::find(std::begin(kTimelineKinds), std::end(kTimelineKinds), kind);
    auto time = parse_rfc3339(block.value("time", ""));
    if (row == std::end(kTimelineKinds) || !time) continue;
    double x = kLeft + kWidth * std::chrono::duration<double>(*time - start).count() / span;
    svg += fmt::format(
        R"(<a href="#block-{0}"><circle cx="{1:.1f}" cy="{2}" r="5" class="{3}"><title>block {0}: {4} {5} by {6} at {7}</title></circle></a>)",
        block.value("height", 0), x, kRow * (row - std::begin(kTimelineKinds)) + 20,
        dot_class(block), escape(block.value("action", "")), escape(block.value("outcome", "")),
        escape(block["actor"].value("user", "?")), escape(block.value("time", "")));
  }
  auto axis_y = kRow * std::size(kTimelineKinds) + 20;
  svg += fmt::format(
      R"(<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>)",
      kLeft, axis_y, escape(format_rfc3339(start, false)), kLeft + kWidth, axis_y,
      escape(format_rfc3339(end, false)));
  return R"(<section id="timeline"><h2>Timeline</h2>
<p class="meta">Changes, drift, anomalies, refused attempts and snapshot sends cited as evidence; red: refused or rolled back.</p>
)" + svg +
         "</section>\n";
}

std::string html_controls(const Json& report) {
  std::string overview =
      "<section id=\"controls\"><h2>Controls</h2>\n<table><tr><th>Control</th><th>Title</th>"
      "<th>Status</th><th>Reason</th></tr>\n";
  std::string details;
  for (const auto& control : report["controls"]) {
    auto id = escape(control.value("id", ""));
    auto anchor = escape(control.value("oscal_id", ""));
    overview +=
        fmt::format(R"(<tr><td><a href="#{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>)",
                    anchor, id, escape(control.value("title", "")),
                    badge(control.value("status", "")), escape(control.value("reason", "")));
    overview += "\n";
    details += fmt::format(
        "<h3 id=\"{}\">{} {} {}</h3>\n<table><tr><th>Evidence</th><th>Status</th><th>Reason</th>"
        "<th>Blocks</th></tr>\n",
        anchor, id, escape(control.value("title", "")), badge(control.value("status", "")));
    for (const auto& evidence : control["evidence"])
      details +=
          fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                      escape(evidence.value("kind", "")), badge(evidence.value("status", "")),
                      escape(evidence.value("reason", "")), block_links(evidence["blocks"]));
    details += "</table>\n";
  }
  return overview + "</table>\n" + details + "</section>\n";
}

std::string html_blocks(const Json& report) {
  std::string out =
      "<section id=\"blocks\"><h2>Cited blocks</h2>\n<table><tr><th>Height</th><th>Time</th>"
      "<th>Action</th><th>Actor</th><th>Plugins</th><th>Outcome</th><th>SHA-256</th></tr>\n";
  for (const auto& block : report["blocks"]) {
    const auto& actor = block["actor"];
    std::vector<std::string> plugins;
    for (const auto& plugin : block["plugins"]) plugins.push_back(plugin.get<std::string>());
    out += fmt::format(
        R"(<tr id="block-{0}"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}@{4} (uid {5})</td><td>{6}</td><td>{7}</td><td><code>{8}</code></td></tr>)",
        block.value("height", 0), escape(block.value("time", "")),
        escape(block.value("action", "")), escape(actor.value("user", "?")),
        escape(actor.value("interface", "?")), actor.value("uid", 0),
        escape(fmt::format("{}", fmt::join(plugins, ", "))), escape(block.value("outcome", "")),
        escape(block.value("hash", "")));
    out += "\n";
  }
  return out + "</table></section>\n";
}

std::string html_footer(const Json& report) {
  auto embedded = report.dump();
  for (size_t at = embedded.find("</"); at != std::string::npos; at = embedded.find("</", at))
    embedded.replace(at, 2, "<\\/");
  return fmt::format(
      R"(<footer><p class="meta">Signed with the ledger key <code>{}</code>. An auditor checks this report offline with
<code>op-dbus compliance verify REPORT --export LEDGER_EXPORT --pubkey KEY</code>.</p></footer>
<script type="application/json" id="op-dbus-report">{}</script>
</body></html>
)",
      escape(report["ledger"].value("key", "")), embedded);
}

// A name-based UUID (version 5 layout, SHA-256) under the report's digest.
std::string uuid_for(const std::string& digest, const std::string& name) {
  auto hash = ledger::to_hex(ledger::sha256(digest + ":" + name));
  hash[12] = '5';
  hash[16] = "89ab"[std::stoi(hash.substr(16, 1), nullptr, 16) & 3];
  return fmt::format("{}-{}-{}-{}-{}", hash.substr(0, 8), hash.substr(8, 4), hash.substr(12, 4),
                     hash.substr(16, 4), hash.substr(20, 12));
}

Json oscal_observations(const Json& report, const std::string& digest) {
  Json observations = Json::array();
  std::map<std::string, bool> seen;
  for (const auto& control : report["controls"])
    for (const auto& evidence : control["evidence"]) {
      auto kind = evidence.value("kind", "");
      if (seen[kind]) continue;
      seen[kind] = true;
      std::vector<std::string> heights;
      for (const auto& height : evidence["blocks"])
        heights.push_back(std::to_string(height.get<uint64_t>()));
      observations.push_back(
          {{"uuid", uuid_for(digest, "observation:" + kind)},
           {"title", kind},
           {"description", evidence.value("reason", "")},
           {"methods", {"TEST"}},
           {"props", {{{"name", "op-dbus-status"}, {"value", evidence.value("status", "")}}}},
           {"collected", report.value("generated", "")},
           {"relevant-evidence",
            {{{"description", heights.empty()
                                  ? std::string("the ledger and the host's configuration")
                                  : fmt::format("ledger blocks {} (their inclusion proof is in the "
                                                "embedded op-dbus report)",
                                                fmt::join(heights, ", "))}}}}});
    }
  return observations;
}

Json oscal_findings(const Json& report, const std::string& digest) {
  Json findings = Json::array();
  for (const auto& control : report["controls"]) {
    auto status = control.value("status", "");
    Json related = Json::array();
    for (const auto& evidence : control["evidence"])
      related.push_back(
          {{"observation-uuid", uuid_for(digest, "observation:" + evidence.value("kind", ""))}});
    Json target_status = {{"state", status == "fail" ? "not-satisfied" : "satisfied"},
                          {"reason", status == "not_applicable" ? "other" : status}};
    if (status == "not_applicable") target_status["remarks"] = "not applicable";
    findings.push_back({{"uuid", uuid_for(digest, "finding:" + control.value("id", ""))},
                        {"title", control.value("id", "") + " " + control.value("title", "")},
                        {"description", control.value("reason", "")},
                        {"target",
                         {{"type", "objective-id"},
                          {"target-id", control.value("oscal_id", "")},
                          {"status", target_status}}},
                        {"related-observations", related}});
  }
  return findings;
}

Json oscal_result(const Json& report, const std::string& digest) {
  Json controls = Json::array();
  for (const auto& control : report["controls"])
    controls.push_back({{"control-id", control.value("oscal_id", "")}});
  const auto& period = report["period"];
  auto start = period.value("since", "");
  if (start.empty() && !report["blocks"].empty()) start = report["blocks"][0].value("time", "");
  if (start.empty()) start = period.value("until", "");
  return {{"uuid", uuid_for(digest, "result")},
          {"title", report["framework"].value("title", "") + " evidence from the op-dbus ledger"},
          {"description",
           fmt::format("Controls decided from ledger {} (size {}, verified: {}).",
                       report["ledger"].value("origin", ""), report["ledger"].value("size", 0),
                       report["ledger"]["verify"].value("ok", false))},
          {"start", start},
          {"end", period.value("until", "")},
          {"reviewed-controls", {{"control-selections", {{{"include-controls", controls}}}}}},
          {"observations", oscal_observations(report, digest)},
          {"findings", oscal_findings(report, digest)}};
}

}  // namespace

Result<std::string> render_html(const Json& report) {
  try {
    return html_head(report) + html_summary(report) + html_timeline(report) +
           html_controls(report) + html_blocks(report) + html_footer(report);
  } catch (const Json::exception& error) {
    return fail(ErrorCode::invalid_input, "the report is malformed: {}", error.what());
  }
}

Result<Json> render_oscal(const Json& report) {
  auto digest = TRY(report_digest(report));
  try {
    auto embedded = report.dump();
    return Json{{"assessment-results",
                 {{"uuid", uuid_for(digest, "assessment-results")},
                  {"metadata",
                   {{"title", report["framework"].value("title", "") +
                                  " compliance report: " + report["ledger"].value("origin", "")},
                    {"last-modified", report.value("generated", "")},
                    {"version", digest.substr(0, 16)},
                    {"oscal-version", kOscalVersion}}},
                  {"import-ap",
                   {{"href", "urn:op-dbus:compliance:" + report["framework"].value("id", "")}}},
                  {"results", {oscal_result(report, digest)}},
                  {"back-matter",
                   {{"resources",
                     {{{"uuid", uuid_for(digest, "resource")},
                       {"title", "op-dbus signed compliance report"},
                       {"base64",
                        {{"filename", "op-dbus-report.json"},
                         {"media-type", "application/json"},
                         {"value", ledger::base64_encode(ledger::as_bytes(embedded))}}}}}}}}}}};
  } catch (const Json::exception& error) {
    return fail(ErrorCode::invalid_input, "the report is malformed: {}", error.what());
  }
}

}  // namespace opdbus::compliance
