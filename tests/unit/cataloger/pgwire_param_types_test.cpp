// Types of unspecified parameters, read from where they stand (pgwire/param_types.h).
#include <gtest/gtest.h>

#include <map>

#include "pgwire/param_types.h"
#include "pgwire/sql_text.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

// The demo's columns, and one name two tables disagree on (a lookup gives none for it).
const std::map<std::string, std::string> kColumns = {
    {"popularity", "INTEGER"}, {"duration_ms", "BIGINT"}, {"song_name", "VARCHAR"}, {"song_id", "VARCHAR"},
    {"explicit", "BOOLEAN"},   {"added_at", "TIMESTAMP"}, {"release_date", "DATE"},  {"artist_ids", "VARCHAR[]"},
    {"Mixed Case", "DOUBLE"},  {"share", "DECIMAL(18,3)"}, {"shape", "STRUCT(a INTEGER)"},
    {"span", "INTERVAL"}};

std::vector<std::int32_t> infer(const std::string& sql, std::vector<std::int32_t> declared = {}, int* lookups = nullptr) {
  const int count = parameter_count(sql);
  declared.resize(static_cast<std::size_t>(count), 0);
  return infer_param_types(normalize(sql), declared, [lookups](const std::string& name) -> std::optional<std::string> {
    if (lookups) ++*lookups;
    auto it = kColumns.find(name);
    if (it == kColumns.end()) return std::nullopt;
    return it->second;
  });
}

using V = std::vector<std::int32_t>;

TEST(PgParamTypes, CastsNameTheType) {
  EXPECT_EQ(infer("select $1::int + 1"), V{oid::int4});
  EXPECT_EQ(infer("SELECT $1 :: pg_catalog.int8, $2::double precision, $3::numeric(10,2), $4::text[]"),
            (V{oid::int8, oid::float8, oid::numeric, oid::text_array}));
  EXPECT_EQ(infer("select cast($1 as timestamp with time zone), CAST($2 AS date), $3::timestamp without time zone"),
            (V{oid::timestamptz, oid::date, oid::timestamp}));
  EXPECT_EQ(infer("select $1::bigint[], $2::varchar, $3::character varying(20), $4::jsonb"),
            (V{oid::int8_array, oid::varchar, oid::varchar, oid::jsonb}));
  EXPECT_EQ(infer("select $1::interval, $2::uuid, $3::hugeint, $4::bytea"), (V{oid::interval, oid::uuid, 0, 0}))
      << "types not bound here stay unspecified";
}

TEST(PgParamTypes, ComparisonsWithAColumnTakeItsType) {
  EXPECT_EQ(infer("select count(*) from songs_data where popularity > $1"), V{oid::int4});
  EXPECT_EQ(infer("select * from songs_data s where $1 <= s.duration_ms and s.song_name = $2"), (V{oid::int8, oid::text}));
  EXPECT_EQ(infer("select 1 from t where explicit <> $1 and added_at >= $2 and release_date != $3"),
            (V{oid::boolean, oid::timestamp, oid::date}));
  EXPECT_EQ(infer("select 1 from t where song_name like $1 or song_name not ilike $2"), (V{oid::text, oid::text}));
  EXPECT_EQ(infer("select 1 from t where \"Mixed Case\" = $1"), V{oid::float8}) << "a quoted name keeps its case";
  EXPECT_EQ(infer("select 1 from t where share = $1"), V{oid::numeric});
  EXPECT_EQ(infer("select 1 from t where artist_ids = $1"), V{oid::text_array});
  EXPECT_EQ(infer("select 1 from t where popularity::text = $1 and $2 = duration_ms::int"), (V{oid::text, oid::int4}));
}

TEST(PgParamTypes, ArithmeticWithANumberTakesItsType) {
  EXPECT_EQ(infer("select popularity / $1, $2 * duration_ms, count(*)::numeric / $3, share % $4 from t"),
            (V{oid::int4, oid::int8, oid::numeric, oid::numeric}));
  EXPECT_EQ(infer("select 1 from t where duration_ms > $1 * 1000"), V{oid::int8}) << "the comparison decides first";
  EXPECT_EQ(infer("select 1 from t where popularity * $1 > 100"), V{oid::int4}) << "a comparison with a number says nothing";
  // Not numbers, or not an operand: left unspecified.
  EXPECT_EQ(infer("select added_at - $1, release_date + $2, song_name || $3, 5 - $4, (popularity) + $5 from t"),
            (V{0, 0, 0, 0, 0}));
}

TEST(PgParamTypes, ListsRangesAndAnyTakeTheColumnsType) {
  EXPECT_EQ(infer("select 1 from t where popularity in ($1, 5, $2)"), (V{oid::int4, oid::int4}));
  EXPECT_EQ(infer("select 1 from t where song_id not in ($1)"), V{oid::text});
  EXPECT_EQ(infer("select 1 from t where added_at between $1 and $2"), (V{oid::timestamp, oid::timestamp}));
  EXPECT_EQ(infer("select 1 from t where popularity not between $1 and 90"), V{oid::int4});
  EXPECT_EQ(infer("select 1 from t where song_id = any($1) and popularity <> all ($2)"), (V{oid::text_array, oid::int4_array}));
  EXPECT_EQ(infer("select 1 from t where $1 = any(artist_ids)"), V{oid::text});
}

TEST(PgParamTypes, LimitAndOffsetAreBigint) {
  EXPECT_EQ(infer("select * from t limit $1 offset $2"), (V{oid::int8, oid::int8}));
  EXPECT_EQ(infer("select * from t fetch first $1 rows only"), V{oid::int8});
}

TEST(PgParamTypes, WhatCannotBeReadSurelyStaysUnspecified) {
  EXPECT_EQ(infer("select $1"), V{0});
  EXPECT_EQ(infer("select 1 from t where lower(song_name) = $1"), V{0}) << "a function's type is not known here";
  EXPECT_EQ(infer("select 1 from t where added_at + $1 > now()"), V{0}) << "an interval or a number: not sure";
  EXPECT_EQ(infer("select 1 from t where unknown_column = $1"), V{0});
  EXPECT_EQ(infer("select 1 from t where span = $1"), V{oid::interval}) << "an interval column's type";
  EXPECT_EQ(infer("select 1 from t where shape = $1"), V{oid::json}) << "a struct is json here, bound as its text";
  EXPECT_EQ(infer("select 1 from t where popularity = $1 and song_name = $1"), V{0}) << "read as two types: not sure";
  EXPECT_EQ(infer("select 1 from t where popularity = $1 or popularity < $1"), V{oid::int4}) << "twice the same type";
  EXPECT_EQ(infer("select 'popularity = $1', $1 from t where song_name = '$2'"), V{0}) << "inside literals nothing is read";
}

TEST(PgParamTypes, DeclaredTypesAreKeptAndTheCatalogIsAskedOnlyWhenNeeded) {
  int lookups = 0;
  EXPECT_EQ(infer("select 1 from t where popularity = $1", {oid::int8}, &lookups), V{oid::int8});
  EXPECT_EQ(lookups, 0) << "nothing unspecified: nothing read";
  EXPECT_EQ(infer("select $1::int", {}, &lookups), V{oid::int4});
  EXPECT_EQ(lookups, 0) << "a cast needs no catalog";
}

TEST(PgParamTypes, HostileTextEndsCleanly) {
  EXPECT_EQ(infer("select $1 from t where x = 'unterminated $1"), V{0});
  EXPECT_EQ(infer("select 1 from t where popularity = $99999999999"), V{}) << "no such parameter";
  EXPECT_EQ(infer(")))) = $1 (((( :: [ ] in between and"), V{0});
  EXPECT_EQ(infer("$1"), V{0});
  EXPECT_EQ(infer("= $1"), V{0});
  EXPECT_EQ(infer("$1 ="), V{0});
  EXPECT_EQ(infer("select $1::"), V{0});
  EXPECT_EQ(infer("select cast($1 as"), V{0});
  EXPECT_EQ(infer("select 1 where x in (,,,$1"), V{0});
  // The most parameters a statement may have, in one IN list and in casts whose type
  // modifier never closes: each is read once (a list scanned again for every member,
  // or a modifier read to the end of the text, would be quadratic in a 1 MB Parse).
  std::string list = "select 1 from t where popularity in (";
  std::string casts = "select ";
  for (int i = 1; i <= 65535; ++i) {
    list += (i > 1 ? ", $" : "$") + std::to_string(i);
    casts += "$" + std::to_string(i) + "::numeric(";
  }
  list += ")";
  const auto in_list = infer(list);
  ASSERT_EQ(in_list.size(), 65535u);
  EXPECT_EQ(in_list.front(), oid::int4);
  EXPECT_EQ(in_list.back(), oid::int4);
  const auto unclosed = infer(casts);
  ASSERT_EQ(unclosed.size(), 65535u);
  EXPECT_EQ(unclosed.front(), 0) << "a type modifier that does not close is no type";
  EXPECT_EQ(infer("select $1::numeric(10, 2)"), V{oid::numeric});
  EXPECT_EQ(infer("select 1 from t where popularity in ($1, lower($2))"), (V{0, 0})) << "not a list of values";
  EXPECT_EQ(type_oid_of_name("pg_catalog.float8[]"), oid::float8_array);
  EXPECT_EQ(type_oid_of_name("[]"), 0);
}

}  // namespace
}  // namespace etl::pgwire
