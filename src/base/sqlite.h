// SQLite: a database handle and prepared statements as RAII objects over the C API, with
// Result errors. Invariant: every sqlite3 and sqlite3_stmt is finalised exactly once; an error
// message names the SQL that failed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

namespace opdbus {

class Statement {
 public:
  Status bind(int index, std::string_view text);
  Status bind(int index, int64_t number);
  // True while a row is available; false when done.
  Result<bool> step();
  std::string text(int column) const;
  int64_t integer(int column) const;

 private:
  friend class Database;
  struct Finalize {
    void operator()(sqlite3_stmt* statement) const;
  };
  Statement(sqlite3_stmt* statement, std::string sql)
      : statement_(statement), sql_(std::move(sql)) {}
  std::unique_ptr<sqlite3_stmt, Finalize> statement_;
  std::string sql_;
};

class Database {
 public:
  static Result<Database> open(const std::filesystem::path& path);
  // Runs SQL statements that return no rows (schema, BEGIN/COMMIT).
  Status run(const std::string& sql);
  Result<Statement> prepare(const std::string& sql);

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Close> db_;
};

}  // namespace opdbus
