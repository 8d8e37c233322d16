// The catalog emulation's test fixture (pgwire_catalog_test.cpp, pgwire_bi_catalog_test.cpp):
// two tables, a session, and a catalog query answered as Execution::run answers it.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/driver_queries.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire::catalog_fixture {

// albums_data and songs_data, each partitioned by dt (TableInfo's default).
inline std::vector<TableInfo> tables() {
  TableInfo albums;
  albums.name = "albums_data";
  albums.columns = {{"album_id", "VARCHAR"}, {"total_tracks", "BIGINT"}};
  TableInfo songs;
  songs.name = "songs_data";
  songs.columns = {{"song_id", "VARCHAR"}, {"popularity", "BIGINT"}, {"artists", "VARCHAR[]"}};
  return {albums, songs};
}

inline SessionInfo session() {
  SessionInfo s;
  s.user = "bi";
  s.database = "spotify";
  s.schema = "spotify";
  default_settings(s);
  return s;
}

// Parameters bound ("OID": songs_data's), then as Execution::run: a driver's type query,
// or the catalog text's relations checked and answered by the emulation.
inline LocalOutcome answer(const std::string& sql, const std::vector<std::string>& params = {}) {
  std::vector<Param> bound;
  for (const auto& p : params) bound.push_back(Param{p == "OID" ? std::to_string(table_oid("songs_data")) : p, 0, false});
  auto text = bind_parameters(sql, bound);
  EXPECT_TRUE(text.ok()) << sql;
  std::string n = normalize(text.value());
  if (auto o = driver_type_query(n)) return *o;
  n = catalog_text(n);
  EXPECT_TRUE(reads_catalog(n)) << sql;
  if (auto refused = unsupported_relation(n)) return local_error(refused->sqlstate, refused->message);
  auto select = parse_select(n);
  if (!select) return local_error("42601", "not a SELECT");
  return catalog_select(*select, tables(), session());
}

}  // namespace etl::pgwire::catalog_fixture
