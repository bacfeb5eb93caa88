// Declarative compliance checks; see checks.h.
#include "compliance/checks.h"

#include <algorithm>
#include <regex>

#include <fmt/ranges.h>

namespace opdbus::compliance {
namespace {

const std::vector<std::string> kOperators = {"equals", "not_equals", "in",           "matches",
                                             "exists", "less_than",  "greater_than", "within"};

tl::unexpected<Error> bad(const Locate& locate, const std::string& pointer,
                          const std::string& message) {
  return fail(ErrorCode::invalid_input, "{}: {}: {}", locate(pointer), pointer, message);
}

Status only_keys(const Json& object, std::initializer_list<const char*> known,
                 const std::string& pointer, const Locate& locate) {
  if (!object.is_object()) return bad(locate, pointer, "expected an object");
  for (const auto& item : object.items())
    if (std::none_of(known.begin(), known.end(),
                     [&](const char* key) { return item.key() == key; }))
      return bad(locate, pointer_append(pointer, item.key()), "unknown key");
  return ok();
}

Result<std::chrono::seconds> parse_duration(const Json& value) {
  static const std::regex kDuration("^([0-9]+)([smhd])$");
  std::smatch match;
  std::string text = value.is_string() ? value.get<std::string>() : "";
  if (!std::regex_match(text, match, kDuration))
    return fail(ErrorCode::invalid_input, "expected a duration such as \"30m\", \"24h\", \"7d\"");
  static const std::map<std::string, int64_t> kUnit = {
      {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  return std::chrono::seconds(std::stoll(match[1]) * kUnit.at(match[2]));
}

Status check_operand(const std::string& op, const Json& operand) {
  if (op == "in" && !operand.is_array()) return fail(ErrorCode::invalid_input, "expected a list");
  if (op == "exists" && !operand.is_boolean())
    return fail(ErrorCode::invalid_input, "expected true or false");
  if ((op == "less_than" || op == "greater_than") && !operand.is_number())
    return fail(ErrorCode::invalid_input, "expected a number");
  if (op == "within") return parse_duration(operand).map([](auto) {});
  if (op == "matches") {
    if (!operand.is_string()) return fail(ErrorCode::invalid_input, "expected a regex");
    try {
      std::regex(operand.get<std::string>(), std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      return fail(ErrorCode::invalid_input, "not a valid regex: {}", error.what());
    }
  }
  return ok();
}

Result<std::vector<Condition>> parse_conditions(const Json& json, const std::string& pointer,
                                                const Locate& locate) {
  if (!json.is_object() || json.empty())
    return bad(locate, pointer, "expected an object of field: {operator: value}");
  std::vector<Condition> out;
  for (const auto& [field, test] : json.items()) {
    auto at = pointer_append(pointer, field);
    if (!test.is_object() || test.size() != 1)
      return bad(locate, at, "expected one {operator: value}");
    const std::string op = test.begin().key();
    const Json& operand = test.begin().value();
    if (std::find(kOperators.begin(), kOperators.end(), op) == kOperators.end())
      return bad(locate, pointer_append(at, op),
                 fmt::format("unknown operator; expected one of {}", fmt::join(kOperators, ", ")));
    if (auto valid = check_operand(op, operand); !valid)
      return bad(locate, pointer_append(at, op), valid.error().message);
    out.push_back({field, op, operand});
  }
  return out;
}

Result<Check> parse_check(const Json& json, const std::string& pointer, const Locate& locate) {
  TRY(only_keys(json,
                {"id", "title", "controls", "query", "select", "where", "expect", "expect_none"},
                pointer, locate));
  Check check;
  for (const char* key : {"id", "query"})
    if (!json.contains(key) || !json[key].is_string() || json[key].get<std::string>().empty())
      return bad(locate, pointer_append(pointer, key), "expected a non-empty string");
  check.id = json["id"].get<std::string>();
  check.query = json["query"].get<std::string>();
  check.title = json.value("title", check.id);
  check.select = json.value("select", "");
  if (!check.select.empty() && check.select[0] != '/')
    return bad(locate, pointer_append(pointer, "select"), "expected a JSON pointer (\"/units\")");
  check.controls = json.value("controls", Json::object());
  if (!check.controls.is_object())
    return bad(locate, pointer_append(pointer, "controls"), "expected {framework: [control ids]}");
  if (json.contains("where"))
    check.where = TRY(parse_conditions(json["where"], pointer_append(pointer, "where"), locate));
  check.expect_none = json.value("expect_none", false);
  if (json.contains("expect"))
    check.expect = TRY(parse_conditions(json["expect"], pointer_append(pointer, "expect"), locate));
  if (check.expect.empty() == !check.expect_none)
    return bad(locate, pointer, "expected exactly one of \"expect\" and \"expect_none\": true");
  return check;
}

// The value a condition tests, if the member has it.
std::optional<Json> field_of(const Json& member, const Json& key, const std::string& field) {
  if (field == "key") return key;
  auto pointer = field[0] == '/' ? field : "/" + field;
  try {
    Json::json_pointer json_pointer(pointer);
    if (member.contains(json_pointer)) return member.at(json_pointer);
  } catch (const Json::exception&) {
  }
  return std::nullopt;
}

bool holds(const Condition& condition, const std::optional<Json>& value, TimePoint now) {
  const auto& operand = condition.operand;
  if (condition.op == "exists") return value.has_value() == operand.get<bool>();
  if (!value) return condition.op == "not_equals";
  if (condition.op == "equals") return *value == operand;
  if (condition.op == "not_equals") return *value != operand;
  if (condition.op == "in")
    return std::find(operand.begin(), operand.end(), *value) != operand.end();
  if (condition.op == "matches")
    return value->is_string() &&
           std::regex_search(value->get<std::string>(), std::regex(operand.get<std::string>()));
  if (condition.op == "less_than") return value->is_number() && *value < operand;
  if (condition.op == "greater_than") return value->is_number() && *value > operand;
  auto time = value->is_string() ? parse_rfc3339(value->get<std::string>())
                                 : Result<TimePoint>(fail(ErrorCode::invalid_input, "not a time"));
  return time && now - *time <= *parse_duration(operand);
}

std::string describe(const Condition& condition, const std::optional<Json>& value) {
  return fmt::format("{} is {} (expected {} {})", condition.field,
                     value ? value->dump() : std::string("absent"), condition.op,
                     condition.operand.dump());
}

struct Member {
  Json key;
  const Json* value;
};

std::vector<Member> members_of(const Json& collection, bool whole) {
  std::vector<Member> out;
  if (whole || !(collection.is_object() || collection.is_array())) {
    out.push_back({Json(nullptr), &collection});
  } else if (collection.is_object()) {
    for (const auto& [key, value] : collection.items()) out.push_back({Json(key), &value});
  } else {
    for (size_t i = 0; i < collection.size(); ++i) out.push_back({Json(i), &collection[i]});
  }
  return out;
}

std::string member_name(const Member& member) {
  if (member.key.is_string()) return member.key.get<std::string>();
  if (member.value->is_object() && member.value->contains("name"))
    if (const auto& name = (*member.value)["name"]; name.is_string())
      return name.get<std::string>();
  return member.key.dump();
}

CheckResult evaluate(const Check& check, const Sources& sources, TimePoint now) {
  CheckResult result{check.id, "pass", "", check.controls};
  auto source = sources.find(check.query);
  if (source == sources.end())
    return {check.id, "error", "no state from " + check.query, check.controls};
  Json::json_pointer pointer(check.select);
  if (!check.select.empty() && !source->second.contains(pointer))
    return {check.id, "error", fmt::format("{} has nothing at {}", check.query, check.select),
            check.controls};
  const auto& collection = check.select.empty() ? source->second : source->second.at(pointer);
  std::vector<std::string> problems;
  size_t selected = 0;
  for (const auto& member : members_of(collection, check.select.empty())) {
    bool meant = std::all_of(check.where.begin(), check.where.end(), [&](const auto& condition) {
      return holds(condition, field_of(*member.value, member.key, condition.field), now);
    });
    if (!meant) continue;
    ++selected;
    if (check.expect_none) {
      problems.push_back(fmt::format("{} matches", member_name(member)));
      continue;
    }
    for (const auto& condition : check.expect)
      if (auto value = field_of(*member.value, member.key, condition.field);
          !holds(condition, value, now))
        problems.push_back(fmt::format("{}: {}", member_name(member), describe(condition, value)));
  }
  if (!problems.empty()) {
    result.status = "fail";
    result.reason = fmt::format("{}", fmt::join(problems, "; "));
  } else {
    result.reason = check.expect_none ? "nothing matches"
                                      : fmt::format("{} checked, all as expected", selected);
  }
  return result;
}

}  // namespace

Result<std::vector<Check>> parse_checks(const Json& policy, const Locate& locate) {
  TRY(only_keys(policy, {"checks"}, "", locate));
  const auto& list = policy.value("checks", Json());
  if (!list.is_array() || list.empty()) return bad(locate, "/checks", "expected a list of checks");
  std::vector<Check> checks;
  for (size_t i = 0; i < list.size(); ++i) {
    auto pointer = pointer_append("/checks", i);
    auto check = TRY(parse_check(list[i], pointer, locate));
    if (std::any_of(checks.begin(), checks.end(),
                    [&](const Check& other) { return other.id == check.id; }))
      return bad(locate, pointer_append(pointer, "id"), "duplicate id '" + check.id + "'");
    checks.push_back(std::move(check));
  }
  return checks;
}

std::vector<CheckResult> run_checks(const std::vector<Check>& checks, const Sources& sources,
                                    TimePoint now) {
  std::vector<CheckResult> results;
  for (const auto& check : checks) results.push_back(evaluate(check, sources, now));
  return results;
}

Json results_json(const std::vector<CheckResult>& results) {
  Json out = Json::array();
  for (const auto& result : results)
    out.push_back({{"id", result.id},
                   {"status", result.status},
                   {"reason", result.reason},
                   {"controls", result.controls}});
  return out;
}

}  // namespace opdbus::compliance
