#include "parquet_footer.h"

#include <functional>

namespace etl::cataloger {

// Rows (part, seq, name, type, n, id), in order: part 0 the columns (name, type),
// part 1 the schema tree in pre-order (name, children, field id), part 2 the row
// count. Each part is numbered as its function yields it, so the order holds
// however the union's branches run.
std::string parquet_footer_sql(const std::string& path, bool with_columns) {
  const std::string p = duck::quote_literal(path);
  std::string parts;
  if (with_columns)
    parts = "SELECT 0 AS part, row_number() OVER () AS seq, column_name AS name, column_type AS type, "
            "NULL::BIGINT AS n, NULL::BIGINT AS id FROM (DESCRIBE SELECT * FROM read_parquet(" +
            p + ", hive_partitioning = false)) UNION ALL ";
  parts += "SELECT 1 AS part, row_number() OVER () AS seq, name, NULL::VARCHAR AS type, num_children::BIGINT AS n, "
           "field_id::BIGINT AS id FROM parquet_schema(" +
           p + ") UNION ALL SELECT 2, 0, NULL, NULL, num_rows, NULL FROM parquet_file_metadata(" + p + ")";
  return "SELECT part, seq, name, type, n, id FROM (" + parts + ") ORDER BY part, seq";
}

Result<ParquetFooter> parse_parquet_footer(duck::QueryResult& rows) {
  ParquetFooter out;
  struct Node {
    std::string name;
    int children = 0;
    int id = 0;
  };
  std::vector<Node> nodes;
  bool counted = false;
  for (idx_t r = 0; r < rows.row_count(); ++r) {
    const std::string part = rows.text(0, r).value_or("");
    if (part == "0") {
      out.columns.push_back({rows.text(2, r).value_or(""), rows.text(3, r).value_or("VARCHAR")});
    } else if (part == "1") {
      nodes.push_back({rows.text(2, r).value_or(""), std::stoi(rows.text(4, r).value_or("0")),
                       std::stoi(rows.text(5, r).value_or("0"))});
    } else if (part == "2") {
      out.facts.records = std::stoll(rows.text(4, r).value_or("0"));
      counted = true;
    }
  }
  if (!counted || nodes.empty()) return make_error(Errc::internal, "no Parquet metadata");
  std::size_t i = 1;  // nodes[0] is the root
  std::function<void(const std::string&, int)> walk = [&](const std::string& top, int depth) {
    const Node n = nodes[i++];
    if (depth == 0 && n.id > 0) out.facts.field_ids[n.name] = n.id;
    if (depth > 0 && n.name == "element" && n.id > 0) out.facts.field_ids[top + ".element"] = n.id;
    for (int c = 0; c < n.children && i < nodes.size(); ++c) walk(depth == 0 ? n.name : top, depth + 1);
  };
  while (i < nodes.size()) walk("", 0);
  return out;
}

}  // namespace etl::cataloger
