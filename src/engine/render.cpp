// Plan rendering; see render.h.
#include "engine/render.h"

#include <algorithm>

namespace opdbus {
namespace {

struct Style {
  bool colour;
  std::string paint(const char* code, const std::string& text) const {
    return colour ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
  }
};

std::string value_text(const Json& value) {
  if (value.is_null()) return "(none)";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array() && !value.empty() && value[0].is_object() && value[0].contains("ip")) {
    std::string out;
    for (const auto& address : value) {
      if (!out.empty()) out.append(", ");
      out.append(
          fmt::format("{}/{}", address["ip"].get<std::string>(), address["prefix"].get<int>()));
    }
    return "[" + out + "]";
  }
  return value.dump();
}

bool is_multiline(const Json& value) {
  return value.is_string() && value.get<std::string>().find('\n') != std::string::npos;
}

std::vector<std::string> split_lines(const Json& value) {
  std::vector<std::string> lines;
  if (!value.is_string()) return lines;
  const auto text = value.get<std::string>();
  for (size_t start = 0; start < text.size();) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A line diff (longest common subsequence) of two texts, as "- old" / "+ new" / "  same" lines.
std::string render_text_diff(const Json& from, const Json& to) {
  const auto a = split_lines(from), b = split_lines(to);
  std::vector<std::vector<size_t>> common(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = a.size(); i-- > 0;)
    for (size_t j = b.size(); j-- > 0;)
      common[i][j] =
          a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "          " + a[i++] + "\n";
      ++j;
    } else if (j < b.size() && (i == a.size() || common[i][j + 1] >= common[i + 1][j])) {
      out += "        + " + b[j++] + "\n";
    } else {
      out += "        - " + a[i++] + "\n";
    }
  }
  return out;
}

std::string render_field(const Change& change, const FieldChange& field) {
  if (is_multiline(field.from) || is_multiline(field.to))
    return fmt::format("      {}\n", field.path) + render_text_diff(field.from, field.to);
  if (change.op == ChangeOp::create)
    return fmt::format("      {:<18} {}\n", field.path, value_text(field.to));
  return fmt::format("      {:<18} {} -> {}\n", field.path, value_text(field.from),
                     value_text(field.to));
}

std::string render_change(const Change& change, const Style& style) {
  std::string marker, title_colour;
  switch (change.op) {
    case ChangeOp::create:
      marker = "+";
      title_colour = "32";
      break;
    case ChangeOp::modify:
      marker = "~";
      title_colour = "33";
      break;
    case ChangeOp::remove:
      marker = "-";
      title_colour = "31";
      break;
  }
  if (change.observe) {
    marker = "!";
    title_colour = "35";
  }
  std::string title = fmt::format("{} {} {} {}", marker, change.plugin, change.kind, change.id);
  if (change.observe)
    title += " (observe: drift reported, not changed)";
  else if (change.op != ChangeOp::modify)
    title += fmt::format(" ({})", change_op_name(change.op));
  std::string out = "  " + style.paint(title_colour.c_str(), title) + "\n";
  if (change.op == ChangeOp::remove) return out;
  for (const auto& field : field_changes(change.before, change.after)) {
    auto& identity = change.identity_fields;
    if (std::find(identity.begin(), identity.end(), field.path) != identity.end()) continue;
    out += render_field(change, field);
  }
  return out;
}

}  // namespace

std::string render_plan_text(const Plan& plan, bool colour) {
  Style style{colour};
  std::string out;
  for (const auto& change : plan.all()) out += render_change(change, style);
  if (plan.enforce_count() == 0) {
    out += "No changes. The host matches the desired state.\n";
  } else {
    out += fmt::format("\nPlan: {} to create, {} to change, {} to remove.\n",
                       plan.count(ChangeOp::create), plan.count(ChangeOp::modify),
                       plan.count(ChangeOp::remove));
  }
  if (plan.observe_count() > 0)
    out += fmt::format("Drift observed on {} observe-mode item(s).\n", plan.observe_count());
  return out;
}

Json render_plan_json(const Plan& plan) {
  Json changes = Json::array();
  for (const auto& change : plan.all()) changes.push_back(change.to_json());
  return {{"changes", changes},
          {"summary",
           {{"create", plan.count(ChangeOp::create)},
            {"modify", plan.count(ChangeOp::modify)},
            {"remove", plan.count(ChangeOp::remove)},
            {"observe", plan.observe_count()}}}};
}

Json render_apply_json(const ApplyResult& result) {
  static constexpr const char* kOutcomes[] = {"no_changes",      "planned",     "applied",
                                              "awaiting_commit", "rolled_back", "rollback_failed"};
  Json out = render_plan_json(result.plan);
  out["outcome"] = kOutcomes[static_cast<int>(result.outcome)];
  out["writes"] = result.writes;
  if (!result.checkpoint_id.empty()) out["checkpoint"] = result.checkpoint_id;
  if (result.deadline) out["deadline"] = rfc3339_utc(result.deadline);
  if (!result.failure.empty()) out["error"] = result.failure;
  return out;
}

Json render_snapshots_json(const std::vector<SnapshotStatus>& statuses,
                           const store::RetentionPolicy& policy, bool on_btrfs) {
  Json list = Json::array();
  for (const auto& status : statuses)
    list.push_back({{"name", status.info.name},
                    {"time", format_rfc3339(status.info.time, false)},
                    {"reason", status.info.meta.value("reason", "")},
                    {"kept_by", status.reasons}});
  return {{"snapshots", list}, {"retention", policy.to_json()}, {"btrfs", on_btrfs}};
}

}  // namespace opdbus
