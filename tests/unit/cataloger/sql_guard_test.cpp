#include "sql_guard.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace etl::cataloger {
namespace {

struct GuardCase {
  int line = 0;
  bool allow = false;
  std::string sql;
  std::string reason_fragment;
};

std::vector<GuardCase> load_cases() {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/tests/unit/cataloger/sql_guard_cases.txt");
  std::vector<GuardCase> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, '\t')) fields.push_back(f);
    if (line.back() == '\t') fields.emplace_back();
    GuardCase c;
    c.line = n;
    c.allow = fields.at(0) == "allow";
    std::string sql = fields.size() > 1 ? fields[1] : "";
    for (size_t p; (p = sql.find("\\n")) != std::string::npos;) sql.replace(p, 2, "\n");
    c.sql = sql;
    if (fields.size() > 2) c.reason_fragment = fields[2];
    out.push_back(c);
  }
  return out;
}

TEST(SqlGuard, GoldenFileHasAtLeastThirtyHostileAndTenLegitimateStatements) {
  auto cases = load_cases();
  auto refused = std::count_if(cases.begin(), cases.end(), [](const GuardCase& c) { return !c.allow; });
  EXPECT_GE(refused, 30);
  EXPECT_GE(static_cast<long>(cases.size()) - refused, 10);
}

TEST(SqlGuard, GoldenCasesAreAllowedOrRefusedWithTheirReason) {
  for (const auto& c : load_cases()) {
    Status s = check_read_only_sql(c.sql);
    if (c.allow) {
      EXPECT_TRUE(s.ok()) << "sql_guard_cases.txt:" << c.line << " should be allowed: " << c.sql
                          << "\n  refused with: " << (s.ok() ? "" : s.error().message);
      continue;
    }
    ASSERT_FALSE(s.ok()) << "sql_guard_cases.txt:" << c.line << " should be refused: " << c.sql;
    EXPECT_EQ(s.error().code, Errc::invalid_argument) << "line " << c.line;
    std::string lower_reason = s.error().message, lower_fragment = c.reason_fragment;
    for (auto* t : {&lower_reason, &lower_fragment})
      for (auto& ch : *t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(lower_reason.find(lower_fragment), std::string::npos)
        << "sql_guard_cases.txt:" << c.line << " refused, but the reason '" << s.error().message
        << "' does not mention '" << c.reason_fragment << "'";
  }
}

TEST(SqlGuard, NormalizeIgnoresLayoutAndCommentsButKeepsLiterals) {
  EXPECT_EQ(normalize_sql("SELECT  *\n FROM songs_data -- x\n WHERE a = 'x  y';"),
            normalize_sql("SELECT * FROM /* c */ songs_data WHERE a = 'x  y'"));
  EXPECT_NE(normalize_sql("SELECT 'a'"), normalize_sql("SELECT 'b'"));
}

TEST(SqlGuard, ReferencedNamesIncludeTablesWithSchemaAndQuotes) {
  auto names = referenced_names("SELECT * FROM spotify.Songs_Data s JOIN \"artists_data\" a USING (artist_id)");
  EXPECT_TRUE(names.count("songs_data"));
  EXPECT_TRUE(names.count("artists_data"));
  EXPECT_TRUE(names.count("spotify"));
}

}  // namespace
}  // namespace etl::cataloger
