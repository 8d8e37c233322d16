#include "schema_merge.h"

#include <gtest/gtest.h>

namespace etl::cataloger {
namespace {

TEST(SchemaMerge, CompatibleTypesWidenAndNeverNarrow) {
  EXPECT_EQ(widen_type("INTEGER", "BIGINT"), "BIGINT");
  EXPECT_EQ(widen_type("BIGINT", "INTEGER"), "BIGINT");
  EXPECT_EQ(widen_type("SMALLINT", "INTEGER"), "INTEGER");
  EXPECT_EQ(widen_type("UINTEGER", "INTEGER"), "BIGINT");
  EXPECT_EQ(widen_type("FLOAT", "DOUBLE"), "DOUBLE");
  EXPECT_EQ(widen_type("INTEGER", "DOUBLE"), "DOUBLE");
  EXPECT_EQ(widen_type("DECIMAL(18,3)", "BIGINT"), "DOUBLE");
  EXPECT_EQ(widen_type("DATE", "TIMESTAMP"), "TIMESTAMP");
  EXPECT_EQ(widen_type("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(widen_type("INTEGER[]", "BIGINT[]"), "BIGINT[]");
}

TEST(SchemaMerge, IncompatibleTypesFallBackToVarchar) {
  EXPECT_EQ(widen_type("BOOLEAN", "INTEGER"), "VARCHAR");
  EXPECT_EQ(widen_type("VARCHAR[]", "VARCHAR"), "VARCHAR");
  EXPECT_EQ(widen_type("DATE", "VARCHAR"), "VARCHAR");
}

TEST(SchemaMerge, UnknownTypeOfAllNullColumnTakesTheFirstRealType) {
  EXPECT_EQ(widen_type(kUnknownType, "INTEGER"), "INTEGER");
  EXPECT_EQ(widen_type("INTEGER", kUnknownType), "INTEGER");
  auto merged = merge_columns({{"popularity", std::string(kUnknownType)}}, {{"popularity", "INTEGER"}});
  ASSERT_EQ(merged.changes.size(), 1u);
  EXPECT_EQ(merged.changes[0].change, "typed");
  EXPECT_EQ(merged.columns[0].type, "INTEGER");
}

TEST(SchemaMerge, NewColumnsAreAddedAtTheEndAndNothingIsDropped) {
  auto merged = merge_columns({{"a", "INTEGER"}, {"b", "VARCHAR"}}, {{"a", "BIGINT"}, {"c", "DATE"}});
  ASSERT_EQ(merged.columns.size(), 3u);
  EXPECT_EQ(merged.columns[0], (ColumnInfo{"a", "BIGINT"}));
  EXPECT_EQ(merged.columns[1], (ColumnInfo{"b", "VARCHAR"}));
  EXPECT_EQ(merged.columns[2], (ColumnInfo{"c", "DATE"}));
  ASSERT_EQ(merged.changes.size(), 2u);
  EXPECT_EQ(merged.changes[0].change, "widened");
  EXPECT_EQ(merged.changes[1].change, "added");
}

TEST(SchemaMerge, SameSchemaChangesNothing) {
  auto merged = merge_columns({{"a", "INTEGER"}}, {{"a", "INTEGER"}});
  EXPECT_TRUE(merged.changes.empty());
}

}  // namespace
}  // namespace etl::cataloger
