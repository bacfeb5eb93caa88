// Compliance reports from a fixed ledger: a fixed key, a stepping clock and fixed host facts give
// byte-identical reports, compared with the golden files in data/compliance (rewrite them with
// OPDBUS_UPDATE_GOLDEN=1 and review the diff); each control's failure cases; and the offline
// verification an auditor runs, including every way a report or ledger can be tampered with.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdlib>
#include <fstream>

#include "base/fs.h"
#include "compliance/checks.h"
#include "compliance/render.h"
#include "compliance/report.h"
#include "ledger/digest.h"
#include "ledger/ledger.h"

namespace opdbus::compliance {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(OPDBUS_TEST_DATA) / "compliance";

TimePoint at(const char* text) {
  return *parse_rfc3339(text);
}

ledger::Actor actor(uint32_t uid, const char* user, const char* interface) {
  return {uid, user, "op-dbus", 100, interface};
}

ledger::BlockDraft draft(const char* action, ledger::Actor who, Json result, Json refs = {}) {
  ledger::BlockDraft block;
  block.action = action;
  block.actor = std::move(who);
  block.plugins = {"net"};
  block.result = std::move(result);
  block.refs = refs.is_null() ? Json::object() : std::move(refs);
  return block;
}

// A day of a host: the daemon starts, root applies, a refused D-Bus caller, drift restored by
// the daemon, an anomaly, an MCP apply that rolled back, a refused MCP read token, a replication.
std::vector<ledger::BlockDraft> day_of_changes() {
  auto root = actor(0, "root", "cli");
  auto daemon = actor(0, "root", "daemon");
  auto apply = draft("apply", root, {{"outcome", "applied"}, {"writes", 2}},
                     {{"snapshot", "2026-01-05T10-02-00Z"}});
  apply.diff = Json::array({{{"op", "create"}, {"id", "link br0"}}});
  return {draft("daemon.start", daemon, {{"outcome", "no_changes"}}),
          apply,
          draft("Apply.denied", actor(65534, "nobody", "dbus"),
                {{"outcome", "denied"}, {"reason", "org.opdbus.apply is not authorised"}}),
          draft("drift", {0, "unknown", "unknown", 0, "external"},
                {{"outcome", "detected"}, {"enforce", 1}, {"observe", 0}}),
          draft("reconcile", daemon, {{"outcome", "applied"}, {"writes", 1}}),
          draft("anomaly", daemon, {{"outcome", "detected"}}),
          draft("apply", actor(0, "token:ops", "mcp"),
                {{"outcome", "rolled_back"}, {"failure", "verify: br1 is down"}}),
          draft("mcp.apply_net.denied", actor(0, "token:reader", "mcp"),
                {{"outcome", "denied"}, {"reason", "apply_net changes the host"}}),
          draft("snapshot.send", root, {{"outcome", "done"}},
                {{"to", "/mnt/replica"}, {"sent", Json::array()}})};
}

// A recorded run of the operator's checks: bridges-up (mapped to SOC 2 CC8.1) with `status`, and
// a failing check mapped to nothing.
ledger::BlockDraft check_run(const char* status, const char* reason) {
  auto block = draft(kCheckAction, actor(0, "root", "daemon"), {{"outcome", "done"}});
  Json mapped = {{"id", "bridges-up"},
                 {"status", status},
                 {"reason", reason},
                 {"controls", {{"soc2", Json::array({"CC8.1"})}}}};
  Json unmapped = {
      {"id", "unmapped"}, {"status", "fail"}, {"reason", "x"}, {"controls", Json::object()}};
  block.after = {{"results", Json::array({mapped, unmapped})}};
  return block;
}

HostFacts healthy_facts() {
  HostFacts facts;
  facts.snapshots = {{"available", true},
                     {"items",
                      {{{"name", "2026-01-05T10-02-00Z"},
                        {"time", "2026-01-05T10:02:00Z"},
                        {"kept_by", {"hourly", "daily", "weekly", "quarterly"}}}}}};
  facts.retention = {{"hourly", 5}, {"daily", 5}, {"weekly", 5}, {"quarterly", 5}};
  auto action = [](const char* id) {
    return Json{{"id", id},
                {"allow_any", "no"},
                {"allow_inactive", "no"},
                {"allow_active", "auth_admin_keep"}};
  };
  facts.access = {
      {"cli", {{"writes", "root"}, {"group", "opdbus"}}},
      {"dbus",
       {{"available", true},
        {"actions", {action("org.opdbus.apply"), action("org.opdbus.rollback")}}}},
      {"mcp",
       {{"configured", true},
        {"tokens",
         {{{"name", "ops"}, {"access", "write"}, {"tools", Json::array({"apply_*", "query_*"})}},
          {{"name", "reader"}, {"access", "read"}, {"tools", Json::array()}}}}}}};
  return facts;
}

class Compliance : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("compliance-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ledger::LedgerFiles files(dir_);
    fs::create_directories(files.dir);
    fs::copy_file(kData / "ledger.key", files.private_key);
    fs::permissions(files.private_key, fs::perms::owner_read | fs::perms::owner_write);
    key_ = *ledger::SigningKey::load(files.private_key, "op-dbus/golden");
    ASSERT_TRUE(write_file_atomic(files.public_key, key_->verifier().text() + "\n"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(std::vector<ledger::BlockDraft> drafts) {
    auto ledger =
        ledger::Ledger::open(dir_, "cli", [this] { return now_ += std::chrono::minutes(1); });
    ASSERT_TRUE(ledger) << ledger.error().describe();
    for (auto& block : drafts) ASSERT_TRUE((*ledger)->append(std::move(block)));
  }

  Json report(Framework framework, const HostFacts& facts = healthy_facts()) {
    auto data = ledger::load_local_ledger(dir_);
    EXPECT_TRUE(data) << data.error().describe();
    ReportRequest request{framework, at("2026-01-05T00:00:00Z"), at("2026-01-06T00:00:00Z"),
                          at("2026-01-06T00:00:00Z")};
    auto built = build_report(*data, facts, request);
    EXPECT_TRUE(built) << built.error().describe();
    auto signed_report = sign_report(*built, *key_);
    EXPECT_TRUE(signed_report) << signed_report.error().describe();
    return *signed_report;
  }

  Json control(const Json& report, const std::string& id) {
    for (const auto& control : report["controls"])
      if (control["id"] == id) return control;
    ADD_FAILURE() << "no control " << id;
    return Json::object();
  }

  // Records the report as `compliance report` does, exports the ledger and verifies offline.
  Result<std::vector<std::string>> record_and_verify(const Json& report, const std::string& text,
                                                     const std::string& recorded_text = {}) {
    const auto& hashed = recorded_text.empty() ? text : recorded_text;
    ledger::BlockDraft block = draft(kReportAction, actor(0, "root", "cli"), {{"outcome", "done"}});
    block.after = {{"report_sha256", *report_digest(report)},
                   {"file_sha256", ledger::to_hex(ledger::sha256(hashed))}};
    append({block});
    return verify_export(text);
  }

  Result<std::vector<std::string>> verify_export(const std::string& text) {
    auto exported = export_ledger();
    auto data = TRY(ledger::load_export(exported));
    return verify_report(text, data, key_->verifier());
  }

  fs::path export_ledger() {
    auto data = ledger::load_local_ledger(dir_);
    EXPECT_TRUE(data);
    auto file = dir_ / "export.jsonl";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_TRUE(ledger::write_export(*data, fd));
    ::close(fd);
    return file;
  }

  void edit_block_line(const std::string& from, const std::string& to) {
    auto path = ledger::LedgerFiles(dir_).blocks;
    auto text = *read_file(path);
    auto at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }

  fs::path dir_;
  TimePoint now_ = at("2026-01-05T10:00:00Z");
  std::optional<ledger::SigningKey> key_;
};

void expect_golden(const std::string& name, const std::string& text) {
  auto file = kData / name;
  if (std::getenv("OPDBUS_UPDATE_GOLDEN")) {
    std::ofstream(file, std::ios::trunc) << text;
    return;
  }
  auto golden = read_file(file);
  ASSERT_TRUE(golden) << golden.error().describe();
  EXPECT_EQ(*golden, text) << "differs from " << file
                           << " (OPDBUS_UPDATE_GOLDEN=1 rewrites it; review the diff)";
}

TEST_F(Compliance, GoldenReportsInEveryForm) {
  append(day_of_changes());
  for (auto framework :
       {Framework::soc2, Framework::hipaa, Framework::pci_dss, Framework::pci_dss_4}) {
    auto signed_report = report(framework);
    auto id = framework_info(framework).id;
    expect_golden(id + ".json", signed_report.dump(2) + "\n");
    EXPECT_EQ(signed_report["summary"]["result"], "pass") << id;
  }
  auto soc2 = report(Framework::soc2);
  expect_golden("soc2.oscal.json", render_oscal(soc2)->dump(2) + "\n");
  expect_golden("soc2.html", *render_html(soc2));
}

TEST_F(Compliance, HealthyDayPassesWithEvidenceCited) {
  append(day_of_changes());
  auto soc2 = report(Framework::soc2);
  EXPECT_TRUE(report_passed(soc2));
  auto change = control(soc2, "CC8.1");
  EXPECT_EQ(change["status"], "pass");
  EXPECT_EQ(change["evidence"][0]["blocks"], Json({1, 4, 6})) << change.dump(2);
  auto response = control(soc2, "CC7.2")["evidence"][0];
  EXPECT_EQ(response["details"]["events"][0]["handled"], "restored by block 4 (applied)");
  EXPECT_EQ(control(soc2, "CC6.1")["evidence"][1]["blocks"], Json({2, 7}));
  EXPECT_TRUE(soc2["ledger"]["proof"].is_array()) << soc2["ledger"].dump();
}

TEST_F(Compliance, CheckResultsAreEvidenceForTheControlsTheyMapTo) {
  auto drafts = day_of_changes();
  drafts.push_back(check_run("fail", "odt-c0: state is down (expected equals up)"));
  drafts.push_back(check_run("pass", ""));
  append(drafts);
  auto soc2 = report(Framework::soc2);
  EXPECT_TRUE(report_passed(soc2)) << soc2["summary"];
  auto checks = control(soc2, "CC8.1")["evidence"].back();
  EXPECT_EQ(checks["kind"], "policy_checks");
  EXPECT_EQ(checks["status"], "pass");
  EXPECT_EQ(checks["reason"],
            "1 check mapped to this control passes on its latest run in the period (bridges-up); "
            "1 earlier run failed");
  EXPECT_EQ(checks["blocks"], Json({9, 10}));
  EXPECT_EQ(checks["details"]["checks"][0]["runs"], 2);
  for (const auto& other : soc2["controls"])
    if (other["id"] != "CC8.1") {
      EXPECT_NE(other["evidence"].back()["kind"], "policy_checks") << other["id"];
    }
  ASSERT_TRUE(record_and_verify(soc2, soc2.dump()));

  append({check_run("error", "query net: the netlink socket was refused")});
  auto failed = control(report(Framework::soc2), "CC8.1");
  EXPECT_EQ(failed["status"], "fail");
  EXPECT_EQ(failed["evidence"].back()["reason"],
            "check bridges-up could not run on its latest run (block 12): query net: the netlink "
            "socket was refused");
}

TEST_F(Compliance, ArchivedSegmentsLeaveTheRestProvable) {
  append(day_of_changes());
  {
    auto ledger = ledger::Ledger::open(dir_, "cli", [this] { return now_; });
    ASSERT_TRUE(ledger);
    auto segment = (*ledger)->seal();
    ASSERT_TRUE(segment) << segment.error().describe();
    fs::rename(ledger::LedgerFiles(dir_).segments / *segment, dir_ / *segment);
  }
  append(day_of_changes());
  auto soc2 = report(Framework::soc2);
  EXPECT_GT(soc2["ledger"]["first_height"], 0);
  EXPECT_FALSE(soc2["ledger"].contains("proof"));
  for (const auto& block : soc2["blocks"])
    EXPECT_GE(block["height"], soc2["ledger"]["first_height"]) << block.dump();
  EXPECT_EQ(control(soc2, "CC8.1")["status"], "pass") << control(soc2, "CC8.1").dump(2);
  auto checked = record_and_verify(soc2, soc2.dump());
  ASSERT_TRUE(checked) << checked.error().describe();
  EXPECT_NE(std::find(checked->begin(), checked->end(),
                      fmt::format("{} cited blocks are in the export", soc2["blocks"].size())),
            checked->end());
}

TEST_F(Compliance, QuietPeriodHasNothingToRespondTo) {
  append({draft("daemon.start", actor(0, "root", "daemon"), {{"outcome", "no_changes"}})});
  auto soc2 = report(Framework::soc2);
  EXPECT_EQ(control(soc2, "CC7.2")["status"], "not_applicable");
  EXPECT_EQ(control(soc2, "CC8.1")["evidence"][0]["reason"],
            "no change was made to the host in the period (1 apply found nothing to change)");
}

TEST_F(Compliance, FailedRollbackFailsChangeManagement) {
  auto drafts = day_of_changes();
  drafts.push_back(draft("apply", actor(0, "root", "cli"), {{"outcome", "rollback_failed"}}));
  append(drafts);
  auto soc2 = report(Framework::soc2);
  EXPECT_FALSE(report_passed(soc2));
  auto change = control(soc2, "CC8.1");
  EXPECT_EQ(change["status"], "fail");
  EXPECT_NE(change["reason"].get<std::string>().find("block 9 (apply by root@cli) failed and its "
                                                     "rollback failed too"),
            std::string::npos)
      << change["reason"];
}

TEST_F(Compliance, DriftNotRestoredFailsDetectionResponse) {
  append({draft("daemon.start", actor(0, "root", "daemon"), {{"outcome", "no_changes"}}),
          draft("drift", {0, "unknown", "unknown", 0, "external"},
                {{"outcome", "detected"}, {"enforce", 2}}),
          draft("reconcile", actor(0, "root", "daemon"), {{"outcome", "rolled_back"}})});
  auto pci = report(Framework::pci_dss);
  auto detection = control(pci, "11.5");
  EXPECT_EQ(detection["status"], "fail");
  EXPECT_EQ(detection["reason"], "drift at block 1 was restore failed in block 2 (rolled_back)");
}

TEST_F(Compliance, NoDetectorMeansNoDetection) {
  append({draft("apply", actor(0, "root", "cli"), {{"outcome", "applied"}})});
  auto soc2 = report(Framework::soc2);
  EXPECT_EQ(control(soc2, "CC7.1")["status"], "fail");
}

TEST_F(Compliance, AccessControlFailures) {
  append({draft("apply", actor(1000, "alice", "cli"), {{"outcome", "applied"}}),
          draft("apply", actor(0, "token:intruder", "mcp"), {{"outcome", "applied"}})});
  auto facts = healthy_facts();
  facts.access["dbus"]["actions"][0]["allow_any"] = "yes";
  auto reason = control(report(Framework::soc2, facts), "CC6.1")["reason"].get<std::string>();
  EXPECT_NE(reason.find("polkit allows org.opdbus.apply to every any caller"), std::string::npos)
      << reason;
  EXPECT_NE(reason.find("block 0: uid 1000 changed the host through the CLI"), std::string::npos);
  EXPECT_NE(reason.find("block 1: token:intruder is not a write token"), std::string::npos);
}

TEST_F(Compliance, SnapshotRemovedOutsideThePolicyFails) {
  append(day_of_changes());
  auto facts = healthy_facts();
  facts.snapshots["items"] = Json::array();
  EXPECT_EQ(control(report(Framework::soc2, facts), "A1.2")["status"], "fail");
  facts.snapshots["items"] = {
      {{"name", "other"}, {"time", "2026-01-05T11:00:00Z"}, {"kept_by", {"hourly"}}}};
  auto backup = control(report(Framework::hipaa, facts), "164.308(a)(7)(ii)(A)");
  EXPECT_EQ(backup["reason"],
            "snapshots were removed without a recorded prune: 2026-01-05T10-02-00Z (taken at "
            "block 1)");
}

TEST_F(Compliance, PeriodSelectsRecords) {
  append(day_of_changes());
  auto data = ledger::load_local_ledger(dir_);
  ReportRequest request{Framework::soc2, at("2026-01-05T10:09:00Z"), at("2026-01-05T10:11:00Z"),
                        at("2026-01-06T00:00:00Z")};
  auto built = build_report(*data, healthy_facts(), request);
  ASSERT_TRUE(built);
  EXPECT_EQ(control(*built, "CC8.1")["evidence"][0]["blocks"], Json({4}));
}

TEST_F(Compliance, EveryFormVerifiesOffline) {
  append(day_of_changes());
  auto signed_report = report(Framework::pci_dss);
  auto json = signed_report.dump(2) + "\n";
  auto checked = record_and_verify(signed_report, json);
  ASSERT_TRUE(checked) << checked.error().describe();
  EXPECT_EQ(checked->back(), "the report and this file's SHA-256 are recorded in block 9");
  for (auto html : {true, false}) {
    auto text = html ? *render_html(signed_report) : render_oscal(signed_report)->dump(2);
    auto verified = record_and_verify(signed_report, text);
    EXPECT_TRUE(verified) << verified.error().describe();
  }
}

TEST_F(Compliance, TamperingIsDetected) {
  append(day_of_changes());
  auto signed_report = report(Framework::soc2);
  auto text = signed_report.dump(2) + "\n";
  ASSERT_TRUE(record_and_verify(signed_report, text));

  auto edited = signed_report;
  edited["controls"][0]["status"] = "pass";
  edited["summary"]["fail"] = 0;
  edited["blocks"][0]["outcome"] = "applied!";
  auto forged = verify_export(edited.dump(2));
  ASSERT_FALSE(forged);
  EXPECT_NE(forged.error().message.find("changed after it was signed"), std::string::npos);

  auto html = *render_html(signed_report);
  auto page = html;
  page.replace(page.find("All controls pass"), 17, "Everything is OK");
  auto verified_page = record_and_verify(signed_report, page, html);
  ASSERT_FALSE(verified_page);
  EXPECT_NE(verified_page.error().message.find("changed after it was written"), std::string::npos);

  auto misproved = signed_report;
  misproved["ledger"]["proof"].push_back(misproved["ledger"]["root"]);
  misproved = *sign_report(misproved, *key_);
  auto disproved = record_and_verify(misproved, misproved.dump());
  ASSERT_FALSE(disproved);
  EXPECT_NE(disproved.error().describe().find("the cited blocks' inclusion proof"),
            std::string::npos)
      << disproved.error().describe();

  edit_block_line("\"user\":\"nobody\"", "\"user\":\"nobodx\"");
  auto after_edit = verify_export(text);
  ASSERT_FALSE(after_edit);
  EXPECT_EQ(after_edit.error().code, ErrorCode::verify_failed);
}

TEST_F(Compliance, UnrecordedOrForeignReportsFail) {
  append(day_of_changes());
  auto signed_report = report(Framework::hipaa);
  auto text = signed_report.dump();
  auto unrecorded = verify_export(text);
  ASSERT_FALSE(unrecorded);
  EXPECT_NE(unrecorded.error().message.find("does not record this report"), std::string::npos);

  auto other = ledger::SigningKey::load_or_create(dir_ / "other.key", "op-dbus/golden");
  auto export_data = ledger::load_export(export_ledger());
  auto foreign = verify_report(text, *export_data, other->verifier());
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("signature is not by key"), std::string::npos);

  EXPECT_FALSE(extract_report("<html>nothing here</html>"));
  EXPECT_FALSE(extract_report(R"({"schema": "something/else"})"));
}

}  // namespace
}  // namespace opdbus::compliance
