// What a crawl and an Iceberg commit read from a Parquet file's footer, in one
// statement: DuckDB serves every part of one statement from one open of the file
// (against S3 a new connection, a HEAD and a GET), so the crawl reads the columns
// and the commit's facts together and the commit need not open the file again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/duck.h"
#include "etl/result.h"

namespace etl::cataloger {

// What an Iceberg commit records of a data file besides its path and size.
struct ParquetFacts {
  std::int64_t records = 0;
  std::map<std::string, int> field_ids;  // "<column>" and "<column>.element" -> Parquet field id
};

// Facts a crawl read, by key, each with the ETag of the version it read (the
// listing's): a commit takes them for the version its HEAD finds, else reads again.
struct ReadFacts {
  std::string etag;
  ParquetFacts facts;
};
using FactsByKey = std::map<std::string, ReadFacts>;

struct ParquetFooter {
  std::vector<ColumnInfo> columns;  // as DuckDB reads them (hive partitioning off); empty unless asked for
  ParquetFacts facts;
};

// The statement that reads the footer of the Parquet file at `path` (a path or URL
// DuckDB opens), with the columns or without.
std::string parquet_footer_sql(const std::string& path, bool with_columns);
// Its answer.
Result<ParquetFooter> parse_parquet_footer(duck::QueryResult& rows);

}  // namespace etl::cataloger
