// The on-disk ledger: appends (single, concurrent, across reopen), torn-tail repair, and the
// tamper cases `ledger verify` must detect: any flipped byte, a deleted, swapped or truncated
// block, an edited payload, a checkpoint re-signed with another key, and a rolled-back ledger
// presented against a later checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <set>
#include <thread>

#include "base/fs.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"

namespace opdbus::ledger {
namespace {

namespace fs = std::filesystem;

class LedgerStore : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid too: two test runs on one machine (a developer's and CI's) must not share it.
    dir_ = fs::path(::testing::TempDir()) /
           ("ledger-" + std::to_string(::getpid()) + "-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Ledger> open() {
    auto ledger = Ledger::open(dir_, "cli", [this] { return now_ += std::chrono::seconds(1); });
    EXPECT_TRUE(ledger) << ledger.error().describe();
    return ledger ? std::move(*ledger) : nullptr;
  }

  static BlockDraft draft(const std::string& action, int n) {
    BlockDraft block;
    block.action = action;
    block.actor = current_actor("cli");
    block.plugins = {"net"};
    block.diff = Json::array({{{"op", "modify"}, {"id", "br" + std::to_string(n)}}});
    block.before = {{"net", {{"mtu", 1500}}}};
    block.after = {{"net", {{"mtu", 1400 + n}}}};
    block.result = {{"outcome", "applied"}};
    return block;
  }

  void append_blocks(int count) {
    auto ledger = open();
    for (int i = 0; i < count; ++i) ASSERT_TRUE(ledger->append(draft("apply", i)));
  }

  Result<VerifyReport> verify(VerifyOptions options = {}) {
    auto data = load_local_ledger(dir_);
    if (!data) return make_failure(data.error());
    return verify_ledger(*data, options);
  }

  std::string read(const fs::path& file) { return *read_file(dir_ / "ledger" / file); }
  void write(const fs::path& file, const std::string& content) {
    std::ofstream(dir_ / "ledger" / file, std::ios::binary | std::ios::trunc) << content;
  }

  std::string failure(VerifyOptions options = {}) {
    auto report = verify(std::move(options));
    EXPECT_FALSE(report) << "verify accepted altered data";
    return report ? "" : report.error().message;
  }

  fs::path dir_;
  TimePoint now_ = TimePoint(std::chrono::seconds(1790000000));
};

TEST_F(LedgerStore, AppendsChainedBlocksThatVerify) {
  append_blocks(5);
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 5u);
  EXPECT_EQ(report->checkpoint.size, 5u);
  auto blocks = read("blocks.jsonl");
  auto lines = block_lines(blocks);
  ASSERT_EQ(lines.size(), 5u);
  auto block = Json::parse(lines[3]);
  EXPECT_EQ(block["height"], 3);
  EXPECT_EQ(block["prev"], to_hex(sha256(lines[2])));
  EXPECT_EQ(block["actor"]["interface"], "cli");
  EXPECT_EQ(block["after"]["net"]["mtu"], 1403);
  EXPECT_EQ(fs::status(dir_ / "ledger.key").permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(LedgerStore, ReopenContinuesTheChain) {
  append_blocks(2);
  append_blocks(3);
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 5u);
}

TEST_F(LedgerStore, ConcurrentAppendersGetDistinctHeights) {
  auto ledger = open();
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> heights(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) heights[t].push_back(*ledger->append(draft("apply", i)));
    });
  auto second = open();  // another "process": its own fds and flock
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(second->append(draft("commit", i)));
  for (auto& thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const auto& list : heights) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), 320u);
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 340u);
}

TEST_F(LedgerStore, TornTailIsMovedAsideAndRecorded) {
  append_blocks(3);
  auto blocks = read("blocks.jsonl");
  write("blocks.jsonl", blocks + R"({"action":"apply","actor":{"interface":"cl)");
  EXPECT_FALSE(verify());
  append_blocks(1);
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 5u);
  auto repaired = read("blocks.jsonl");
  auto repair = Json::parse(block_lines(repaired)[3]);
  EXPECT_EQ(repair["action"], "ledger.repair");
  EXPECT_EQ(repair["result"]["offset"], blocks.size());
  EXPECT_TRUE(fs::exists(dir_ / "ledger" / repair["result"]["saved_to"].get<std::string>()));
}

TEST_F(LedgerStore, LostHeadAndCheckpointAreRebuilt) {
  append_blocks(4);
  fs::remove(dir_ / "ledger" / "head.json");
  write("checkpoint", "");
  append_blocks(1);
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 5u);
}

TEST_F(LedgerStore, DetectsEveryFlippedByte) {
  append_blocks(3);
  for (const char* file : {"blocks.jsonl", "checkpoint", "head.json", "ledger.pub"}) {
    auto original = read(file);
    for (size_t i = 0; i < original.size(); ++i) {
      auto altered = original;
      altered[i] ^= 0x01;
      write(file, altered);
      auto report = verify();
      EXPECT_FALSE(report) << file << " byte " << i << " accepted";
    }
    write(file, original);
  }
  EXPECT_TRUE(verify());
}

TEST_F(LedgerStore, DetectsDeletedSwappedAndTruncatedBlocks) {
  append_blocks(5);
  auto original = read("blocks.jsonl");
  auto lines = block_lines(original);
  auto join = [](const std::vector<std::string_view>& parts) {
    std::string out;
    for (auto part : parts) (out += part) += '\n';
    return out;
  };
  write("blocks.jsonl", join({lines[0], lines[1], lines[3], lines[4]}));
  EXPECT_NE(failure().find("height 2"), std::string::npos);
  write("blocks.jsonl", join({lines[0], lines[2], lines[1], lines[3], lines[4]}));
  EXPECT_NE(failure().find("height 1"), std::string::npos);
  write("blocks.jsonl", join({lines[0], lines[1], lines[2]}));
  EXPECT_NE(failure().find("covers 5"), std::string::npos);
  write("blocks.jsonl", original.substr(0, original.size() - 10));
  EXPECT_NE(failure().find("height 4"), std::string::npos);
  write("blocks.jsonl", original);
  EXPECT_TRUE(verify());
}

TEST_F(LedgerStore, DetectsAnEditedPayloadWithRelinkedChain) {
  append_blocks(4);
  auto original = read("blocks.jsonl");
  auto lines = block_lines(original);
  auto edited = Json::parse(lines[1]);
  edited["after"]["net"]["mtu"] = 9000;
  auto edited_text = edited.dump();
  auto next = Json::parse(lines[2]);
  next["prev"] = to_hex(sha256(edited_text));  // the forger fixes the link to the edited block
  std::string blocks;
  for (auto line : {std::string(lines[0]), edited_text, next.dump(), std::string(lines[3])})
    blocks += line + "\n";
  write("blocks.jsonl", blocks);
  EXPECT_NE(failure().find("block 2 was altered"), std::string::npos) << failure();
  append_blocks(1);  // the O(1) open trusts the signed tail; the forgery stays detectable
  EXPECT_NE(failure().find("block 2 was altered"), std::string::npos) << failure();
}

TEST_F(LedgerStore, DetectsACheckpointResignedWithAnotherKey) {
  append_blocks(3);
  auto trusted = *VerifierKey::parse(read("ledger.pub"));
  auto body = *trusted.open(read("checkpoint"));
  auto intruder = *SigningKey::load_or_create(dir_ / "intruder.key", trusted.name());
  write("checkpoint", *intruder.sign(body));
  write("ledger.pub", intruder.verifier().text() + "\n");
  EXPECT_TRUE(verify()) << "self-consistent when checked against its own (replaced) key";
  VerifyOptions options;
  options.trusted_key = trusted;
  EXPECT_NE(failure(options).find("not signed by"), std::string::npos);
}

TEST_F(LedgerStore, DetectsARolledBackLedgerAgainstALaterCheckpoint) {
  append_blocks(3);
  auto old_blocks = read("blocks.jsonl"), old_checkpoint = read("checkpoint"),
       old_head = read("head.json");
  append_blocks(2);
  auto later_checkpoint = read("checkpoint");
  VerifyOptions options;
  options.known_checkpoints = {old_checkpoint, later_checkpoint};
  ASSERT_TRUE(verify(options));
  write("blocks.jsonl", old_blocks);
  write("checkpoint", old_checkpoint);
  write("head.json", old_head);
  EXPECT_TRUE(verify()) << "a consistent older copy verifies on its own";
  EXPECT_NE(failure(options).find("rolled back"), std::string::npos);
}

TEST_F(LedgerStore, ExportVerifiesOffline) {
  append_blocks(3);
  auto data = *load_local_ledger(dir_);
  auto file = dir_ / "export.jsonl";
  {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    ASSERT_TRUE(write_export(data, fd.get()));
  }
  auto exported = load_export(file);
  ASSERT_TRUE(exported) << exported.error().describe();
  auto report = verify_ledger(*exported, {});
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 3u);
  auto tree = build_tree(exported->blocks);
  auto proof = *tree.inclusion_proof(1, 3);
  EXPECT_TRUE(verify_inclusion(1, 3, tree.leaf(1), proof, report->checkpoint.root));
}

TEST_F(LedgerStore, SealedSegmentsVerifyTogetherAndTheCurrentOneAlone) {
  append_blocks(3);
  {
    auto ledger = open();
    auto segment = ledger->seal();
    ASSERT_TRUE(segment) << segment.error().describe();
    EXPECT_EQ(*segment, "000000000000-000000000002.jsonl");
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(ledger->append(draft("apply", i)));
  }
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 6u);  // 3 sealed, the ledger.seal record, 2 more
  {
    auto data = *load_local_ledger(dir_);
    auto index = index_blocks(data);
    EXPECT_EQ(index.first, 0u);
    ASSERT_EQ(index.lines.size(), 6u);
    EXPECT_EQ(Json::parse(*block_at(index, 3))["action"], "ledger.seal");
    EXPECT_TRUE(build_tree(index));
  }
  fs::remove(dir_ / "ledger" / "head.json");
  append_blocks(1);  // recovers from the anchor
  ASSERT_TRUE(verify());

  fs::rename(dir_ / "ledger" / "segments", dir_ / "archive");
  report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 7u);
  ASSERT_FALSE(report->notes.empty());
  EXPECT_NE(report->notes.back().find("archived"), std::string::npos);
  auto data = *load_local_ledger(dir_);
  EXPECT_FALSE(build_tree(index_blocks(data)));
  EXPECT_FALSE(block_at(index_blocks(data), 1));

  auto original = read("blocks.jsonl");
  auto anchor_end = original.find('\n');
  for (size_t i = 0; i < anchor_end; ++i) {
    auto altered = original;
    altered[i] ^= 0x01;
    write("blocks.jsonl", altered);
    EXPECT_FALSE(verify()) << "anchor byte " << i << " accepted";
  }
  write("blocks.jsonl", original);
  fs::rename(dir_ / "archive", dir_ / "ledger" / "segments");
  auto sealed = *read_file(dir_ / "ledger" / "segments" / "000000000000-000000000002.jsonl");
  fs::permissions(dir_ / "ledger" / "segments" / "000000000000-000000000002.jsonl",
                  fs::perms::owner_write, fs::perm_options::add);
  sealed[20] ^= 0x01;
  write("segments/000000000000-000000000002.jsonl", sealed);
  EXPECT_FALSE(verify()) << "a flipped byte in a sealed segment";
}

TEST_F(LedgerStore, AWriterFollowsASealMadeByAnotherProcess) {
  append_blocks(2);
  auto writer = open();  // stays open across the seal, like a daemon
  ASSERT_TRUE(writer->append(draft("apply", 1)));
  {
    auto sealer = open();
    ASSERT_TRUE(sealer->seal());
    ASSERT_TRUE(sealer->append(draft("commit", 0)));
  }
  auto height = writer->append(draft("apply", 2));
  ASSERT_TRUE(height) << height.error().describe();
  EXPECT_EQ(*height, 5u);  // 3 sealed, the seal record, the sealer's commit, then this
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 6u);
}

TEST_F(LedgerStore, AnInterruptedSealIsUndoneOnOpen) {
  append_blocks(2);
  fs::create_directories(dir_ / "ledger" / "segments");
  auto stale = dir_ / "ledger" / "segments" / "000000000000-000000000001.jsonl";
  fs::create_hard_link(dir_ / "ledger" / "blocks.jsonl", stale);  // crashed before the rename
  append_blocks(1);
  EXPECT_FALSE(fs::exists(stale));
  auto report = verify();
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->blocks, 3u);
}

}  // namespace
}  // namespace opdbus::ledger
