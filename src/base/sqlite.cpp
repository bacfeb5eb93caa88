// SQLite RAII wrappers; see sqlite.h.
#include "base/sqlite.h"

#include <sqlite3.h>

namespace opdbus {

void Statement::Finalize::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

void Database::Close::operator()(sqlite3* db) const {
  sqlite3_close(db);
}

Result<Database> Database::open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK)
    return fail(ErrorCode::io, "open {}: {}", path.string(),
                raw ? sqlite3_errmsg(raw) : "out of memory");
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Status Database::run(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_.get());
    sqlite3_free(message);
    return fail(ErrorCode::io, "sqlite: {}: {}", sql.substr(0, 60), text);
  }
  return ok();
}

Result<Statement> Database::prepare(const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return fail(ErrorCode::internal, "sqlite: {}: {}", sql.substr(0, 60),
                sqlite3_errmsg(db_.get()));
  return Statement(raw, sql);
}

Status Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(statement_.get(), index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    return fail(ErrorCode::internal, "sqlite bind {} in {}", index, sql_.substr(0, 60));
  return ok();
}

Status Statement::bind(int index, int64_t number) {
  if (sqlite3_bind_int64(statement_.get(), index, number) != SQLITE_OK)
    return fail(ErrorCode::internal, "sqlite bind {} in {}", index, sql_.substr(0, 60));
  return ok();
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(statement_.get());
  if (rc == SQLITE_ROW) return true;
  sqlite3_reset(statement_.get());
  if (rc == SQLITE_DONE) return false;
  return fail(ErrorCode::io, "sqlite: {}: {}", sql_.substr(0, 60),
              sqlite3_errmsg(sqlite3_db_handle(statement_.get())));
}

std::string Statement::text(int column) const {
  auto* text = sqlite3_column_text(statement_.get(), column);
  return text ? reinterpret_cast<const char*>(text) : "";
}

int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

}  // namespace opdbus
