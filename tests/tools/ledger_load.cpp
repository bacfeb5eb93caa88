// opdbus-ledger-load, a test and benchmark tool: drives the ledger the way a busy host would,
// for the benchmarks and the crash test. `append` appends realistic apply blocks from T threads
// (each waits for its block to be durable, as a CLI or daemon does) and can print every
// acknowledged height; `sqlite` does the same durable inserts into SQLite (WAL, synchronous=FULL),
// the embedded store people reach for today, as the baseline; `generate` bulk-appends in large
// groups to build big ledgers quickly.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger/canonical_json.h"
#include "ledger/ledger.h"

using namespace opdbus;
using namespace opdbus::ledger;

namespace {

BlockDraft sample_block(uint64_t n) {
  BlockDraft draft;
  draft.action = "apply";
  draft.actor = Actor{0, "root", "op-dbus", 4242, "daemon"};
  draft.plugins = {"net"};
  auto name = "br" + std::to_string(n % 1000);
  draft.diff = Json::array({{{"plugin", "net"},
                             {"kind", "link"},
                             {"id", name},
                             {"op", "modify"},
                             {"before", {{"mtu", 1500}}},
                             {"after", {{"mtu", 9000}}}}});
  Json link = {{"name", name},
               {"type", "bridge"},
               {"state", "up"},
               {"mac_address", "02:00:00:00:10:01"},
               {"ipv4", {{"address", Json::array({{{"ip", "10.0.0.1"}, {"prefix", 24}}})}}}};
  draft.before = {{"net", {{"interfaces", {{name, link}}}}}};
  link["mtu"] = 9000;
  draft.after = {{"net", {{"interfaces", {{name, link}}}}}};
  draft.result = {{"outcome", "applied"}, {"writes", 1}, {"file", "/etc/op-dbus/state.json"}};
  draft.refs = {{"checkpoint", "cp-" + std::to_string(n)}};
  return draft;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run_append(const std::string& dir, int threads, uint64_t count, bool print_acks) {
  auto ledger = Ledger::open(dir, "daemon");
  if (!ledger) {
    std::fprintf(stderr, "%s\n", ledger.error().describe().c_str());
    return 1;
  }
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (uint64_t n; (n = next++) < count;) {
        auto height = (*ledger)->append(sample_block(n));
        if (!height) {
          failed = true;
          std::fprintf(stderr, "%s\n", height.error().describe().c_str());
          return;
        }
        if (print_acks) {
          std::printf("%llu\n", static_cast<unsigned long long>(*height));
          std::fflush(stdout);
        }
      }
    });
  for (auto& worker : workers) worker.join();
  double elapsed = seconds_since(start);
  std::fprintf(stderr, "op-dbus ledger: %llu durable appends, %d writers, %.3f s, %.0f appends/s\n",
               static_cast<unsigned long long>(count), threads, elapsed, count / elapsed);
  return failed ? 1 : 0;
}

int run_sqlite(const std::string& dir, int threads, uint64_t count) {
  auto path = dir + "/baseline.sqlite";
  std::remove(path.c_str());
  std::atomic<uint64_t> next{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      sqlite3* raw = nullptr;
      sqlite3_open(path.c_str(), &raw);
      std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
      sqlite3_busy_timeout(db.get(), 60000);
      sqlite3_exec(db.get(),
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, body TEXT);",
                   nullptr, nullptr, nullptr);
      sqlite3_stmt* raw_statement = nullptr;
      sqlite3_prepare_v2(db.get(), "INSERT INTO blocks(body) VALUES (?)", -1, &raw_statement,
                         nullptr);
      std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> insert(raw_statement,
                                                                        sqlite3_finalize);
      for (uint64_t n; (n = next++) < count;) {
        auto body = *canonical_json(Json{{"action", "apply"}, {"after", sample_block(n).after}});
        sqlite3_bind_text(insert.get(), 1, body.c_str(), static_cast<int>(body.size()),
                          SQLITE_TRANSIENT);
        while (sqlite3_step(insert.get()) == SQLITE_BUSY) sqlite3_reset(insert.get());
        sqlite3_reset(insert.get());
      }
    });
  for (auto& worker : workers) worker.join();
  double elapsed = seconds_since(start);
  std::fprintf(
      stderr,
      "sqlite WAL synchronous=FULL: %llu durable inserts, %d writers, %.3f s, %.0f inserts/s\n",
      static_cast<unsigned long long>(count), threads, elapsed, count / elapsed);
  return 0;
}

int run_generate(const std::string& dir, uint64_t count) {
  auto ledger = Ledger::open(dir, "daemon");
  if (!ledger) return 1;
  constexpr uint64_t kGroup = 4096;
  for (uint64_t done = 0; done < count;) {
    std::vector<BlockDraft> drafts;
    for (uint64_t i = 0; i < kGroup && done < count; ++i) drafts.push_back(sample_block(done++));
    for (auto& result : (*ledger)->append_all(std::move(drafts)))
      if (!result) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s append|sqlite|generate DIR COUNT [THREADS] [--print-acks]\n",
                 argv[0]);
    return 2;
  }
  std::string mode = argv[1], dir = argv[2];
  uint64_t count = std::stoull(argv[3]);
  int threads = argc > 4 ? std::stoi(argv[4]) : 8;
  bool print_acks = argc > 5 && std::string(argv[5]) == "--print-acks";
  if (mode == "append") return run_append(dir, threads, count, print_acks);
  if (mode == "sqlite") return run_sqlite(dir, threads, count);
  if (mode == "generate") return run_generate(dir, count);
  return 2;
}
