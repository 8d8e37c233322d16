// docs/contract.md §3 is where operators look up a variable: every one the
// product reads is there, by name.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "contract_docs.h"

namespace etl {
namespace {

namespace fs = std::filesystem;

// The first group of every match of `literal` in the product's sources (not in
// comments).
std::set<std::string> literals_in_sources(const std::regex& literal) {
  std::set<std::string> names;
  const fs::path root(ETL_SOURCE_DIR);
  for (const char* dir : {"shared/src", "shared/include", "services/extractor/src", "services/transformer/src",
                          "services/cataloger/src"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        const auto trimmed = line.find_first_not_of(" \t");
        if (trimmed != std::string::npos && line.compare(trimmed, 2, "//") == 0) continue;
        if (const auto comment = line.find(" // "); comment != std::string::npos) line.resize(comment);
        for (std::sregex_iterator it(line.begin(), line.end(), literal), end; it != end; ++it) names.insert((*it)[1]);
      }
    }
  }
  return names;
}

// The names load_config and the credential chain read, and those their error
// messages point at ("AWS_ENDPOINT_URL_" + service is a prefix, not a name).
std::set<std::string> variables_in_sources() {
  return literals_in_sources(std::regex(R"re("((?:ETL|SPOTIFY|AWS)_[A-Z0-9_]*[A-Z0-9])")re"));
}

TEST(ContractDocs, EveryVariableTheProductReadsIsNamedInTheContract) {
  const std::string contract = testing::contract_text();
  ASSERT_FALSE(contract.empty()) << "docs/contract.md not found under " << ETL_SOURCE_DIR;
  const auto names = variables_in_sources();
  // The scan finds the well-known ones (a scan that finds nothing passes nothing).
  for (const char* known : {"ETL_BUS", "ETL_RAW_URL", "SPOTIFY_CLIENT_ID", "AWS_REGION", "ETL_PG_MAX_CONNECTIONS"})
    EXPECT_TRUE(names.count(known)) << known;
  for (const auto& name : names) {
    // ETL_KAFKA_<NAME> is one row: any librdkafka property.
    if (name.rfind("ETL_KAFKA_", 0) == 0 && contract.find("`ETL_KAFKA_<NAME>`") != std::string::npos) continue;
    EXPECT_NE(contract.find("`" + name + "`"), std::string::npos) << name << " is read by the product but not in docs/contract.md";
  }
}

// §7.5 lists every metric a service can show, by its full name.
TEST(ContractDocs, EveryMetricTheProductRegistersIsInTheContract) {
  const std::string contract = testing::contract_text();
  const auto names = literals_in_sources(std::regex(R"re("(spotify_etl_[a-z0-9_]*[a-z0-9])")re"));
  for (const char* known : {"spotify_etl_http_requests_total", "spotify_etl_transform_batches_total",
                            "spotify_etl_cataloger_iceberg_held_files"})
    EXPECT_TRUE(names.count(known)) << known;
  for (const auto& name : names)
    EXPECT_NE(contract.find("| `" + name + "` |"), std::string::npos)
        << name << " is registered by the product but not in docs/contract.md §7.5";
}

}  // namespace
}  // namespace etl
