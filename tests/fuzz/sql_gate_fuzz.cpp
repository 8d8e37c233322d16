// Differential fuzzing of the SQL gate against DuckDB's own parser: whatever the
// gate accepts, DuckDB must parse as exactly one statement, and prepare as a
// SELECT or an EXPLAIN. Anything else aborts (a finding).
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "etl/duck.h"
#include "sql_gate.h"
#include "sql_guard.h"

namespace {

using namespace etl;

struct World {
  std::unique_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> oracle;
  std::unique_ptr<cataloger::SqlGate> gate;
  std::set<std::string> tables{"songs_data", "artists_data", "albums_data"};

  World() {
    db = duck::Database::open(":memory:", {{"enable_external_access", "false"}, {"threads", "1"}}).value();
    oracle = db->connect().value();
    for (const char* t : {"songs_data", "artists_data", "albums_data"})
      (void)oracle->execute(std::string("CREATE TABLE ") + t + "(song_id VARCHAR, artist_id VARCHAR, n BIGINT, dt VARCHAR)");
    (void)oracle->execute("SET lock_configuration = true");
    gate = std::make_unique<cataloger::SqlGate>(db->connect().value(), "main");
  }
};

[[noreturn]] void finding(const char* what, const std::string& sql) {
  std::fprintf(stderr, "FINDING: %s\n--- sql ---\n%s\n-----------\n", what, sql.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World w;
  if (size > 4096) return 0;
  std::string sql(reinterpret_cast<const char*>(data), size);
  if (sql.find('\0') != std::string::npos) return 0;  // C strings end there for DuckDB
  (void)cataloger::normalize_sql(sql);
  (void)cataloger::referenced_names(sql);
  std::set<std::string> reads;  // the tables it names, as the result cache keys on them
  if (!w.gate->check(sql, w.tables, &reads).ok()) return 0;
  for (const auto& table : reads)
    if (table != cataloger::kReadsEverything && !w.tables.count(table))
      finding("the gate says an accepted statement reads a table that is not the catalog's", sql);
  auto count = w.oracle->count_statements(sql);
  if (!count || *count != 1) finding("the gate accepted what DuckDB does not parse as exactly one statement", sql);
  auto prepared = w.oracle->prepare_single(sql);
  if (!prepared) return 0;  // a binder error (unknown column...): nothing runs
  auto type = prepared->type();
  if (type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_EXPLAIN)
    finding("the gate accepted a statement DuckDB prepares as neither SELECT nor EXPLAIN", sql);
  return 0;
}
