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
    if (change.op == ChangeOp::create)
      out += fmt::format("      {:<18} {}\n", field.path, value_text(field.to));
    else
      out += fmt::format("      {:<18} {} -> {}\n", field.path, value_text(field.from),
                         value_text(field.to));
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

}  // namespace opdbus
