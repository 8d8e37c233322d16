// What the PostgreSQL endpoint answers itself, on arbitrary statement text: cursor
// statements (cursors.h), SET/SHOW and session functions (commands.h), drivers' type
// queries (driver_queries.h), and the
// pg_catalog / information_schema emulation (pg_catalog.h, catalog_query.h) with the
// patterns clients send in it (patterns.h); and the same bytes as a start-up packet's
// options (apply_startup_options).
// The same steps, in the same order and with the same 8 KB bound, as Execution::run
// before it would hand a statement to the engine. An answer or an SQLSTATE, never a
// crash or a hang (libFuzzer's -timeout); every answered row has one cell per column.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/cursors.h"
#include "pgwire/driver_queries.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/sql_text.h"

namespace {

using namespace etl::pgwire;
using etl::TableInfo;

std::vector<TableInfo> tables() {
  TableInfo albums;
  albums.name = "albums_data";
  albums.columns = {{"album_id", "VARCHAR"}, {"total_tracks", "BIGINT"}, {"dt", "VARCHAR"}};
  TableInfo songs;
  songs.name = "songs_data";
  songs.columns = {{"song_id", "VARCHAR"}, {"popularity", "BIGINT"}, {"artists", "VARCHAR[]"}};
  return {albums, songs};
}

// The tables above as a catalog lists them (Grafana's metadata queries ask it).
class Tables final : public etl::Catalog {
 public:
  std::string name() const override { return "local"; }
  std::string database() const override { return "spotify"; }
  etl::Result<std::vector<TableInfo>> list_tables() override { return tables(); }
  etl::Result<TableInfo> get_table(const std::string&) override { return etl::make_error(etl::Errc::not_found, "-"); }
  etl::Result<std::vector<etl::PartitionInfo>> get_partitions(const std::string&) override {
    return std::vector<etl::PartitionInfo>{};
  }
  etl::Result<etl::CrawlInfo> start_crawl(const etl::CrawlRequest&) override {
    return etl::make_error(etl::Errc::internal, "-");
  }
  etl::Result<etl::CrawlInfo> get_crawl(const std::string&) override { return etl::make_error(etl::Errc::internal, "-"); }
  etl::Result<etl::CrawlInfo> wait_crawl(const std::string&, std::chrono::milliseconds) override {
    return etl::make_error(etl::Errc::internal, "-");
  }
  std::uint64_t generation() const override { return 1; }
  etl::Status ping() override { return {}; }
};

void check_shape(const LocalOutcome& o) {
  if (o.error) return;
  for (const auto& row : o.result.rows)
    if (row.size() != o.result.columns.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8 * 1024) return 0;  // longer statements are never answered locally (execution.cpp)
  static const std::vector<TableInfo> kTables = tables();
  SessionInfo session;
  session.user = "bi";
  session.database = "spotify";
  session.schema = "spotify";
  default_settings(session);

  const std::string sql(reinterpret_cast<const char*>(data), size);
  {  // the same bytes as a start-up packet's options (PGOPTIONS), on a session of their own
    SessionInfo started = session;
    (void)apply_startup_options(sql, started);
    if (started.settings.size() > 256 + session.settings.size()) std::abort();  // bounded as SET bounds them
  }
  if (auto cursor = parse_cursor_statement(sql)) {  // the session answers these
    if (const auto* c = std::get_if<CursorStatement>(&*cursor))
      if (c->kind == CursorStatement::Kind::declare && (c->query.empty() || c->query.size() >= sql.size())) std::abort();
    return 0;
  }
  const std::string n = normalize(sql);
  if (auto o = session_command(n, session)) {
    check_shape(*o);
    return 0;
  }
  if (auto o = driver_type_query(n)) {  // asyncpg's and pgjdbc's type queries
    check_shape(*o);
    return 0;
  }
  auto select = parse_select(n);
  if (!select) return 0;
  if (auto o = session_select(*select, session)) {
    check_shape(*o);
    return 0;
  }
  if (!reads_catalog(n)) return 0;
  static Tables catalog;
  if (auto o = grafana_metadata_query(catalog_text(n), catalog, session)) {
    check_shape(*o);
    return 0;
  }
  if (unsupported_relation(n)) return 0;
  LocalOutcome o = catalog_select(*select, kTables, session);
  check_shape(o);
  // Execution::run reads a refused one once more with the session's values written in.
  if (o.error && o.error->sqlstate == "0A000")
    if (auto inlined = session_values_inlined(catalog_text(n), session); inlined)
      if (auto again = parse_select(normalize(*inlined))) check_shape(catalog_select(*again, kTables, session));
  return 0;
}
