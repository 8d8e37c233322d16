// The CSV and JSON lines writers.
#include <charconv>

#include "etl/dates.h"
#include "etl/json_text.h"
#include "table_writer.h"

namespace etl::transformer {
namespace {

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

void append_csv_string(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "\"\"";  // an empty string, told apart from NULL (an empty unquoted field)
    return;
  }
  if (s.find_first_of("\",\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_json_list(std::string& out, const Column& c, std::size_t row) {
  out += '[';
  for (std::size_t i = 0, n = c.list_size(row); i < n; ++i) {
    if (i) out += ',';
    append_json_string(out, c.list_item(row, i));
  }
  out += ']';
}

// Numbers, booleans, dates and timestamps print the same in both formats
// (dates and timestamps quoted in JSON).
void append_scalar(std::string& out, const Column& c, std::size_t row, bool json) {
  switch (c.type()) {
    case ColumnType::integer:
    case ColumnType::bigint: append_int(out, c.int_at(row)); break;
    case ColumnType::boolean: out += c.int_at(row) ? "true" : "false"; break;
    case ColumnType::date:
      if (json) out += '"';
      append_date(out, static_cast<std::int32_t>(c.int_at(row)));
      if (json) out += '"';
      break;
    case ColumnType::timestamp:
      if (json) out += '"';
      append_sql_timestamp(out, c.int_at(row));
      if (json) out += '"';
      break;
    case ColumnType::varchar:
    case ColumnType::varchar_list: break;
  }
}

}  // namespace

std::string write_csv(const Table& table) {
  std::string out;
  const auto& cols = table.schema().columns;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) out += ',';
    out.append(cols[i].name);
  }
  out += '\n';
  std::string list;
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out += ',';
      const Column& c = table.column(static_cast<int>(i));
      if (c.is_null(row)) continue;
      if (c.type() == ColumnType::varchar) {
        append_csv_string(out, c.string_at(row));
      } else if (c.type() == ColumnType::varchar_list) {
        list.clear();
        append_json_list(list, c, row);
        append_csv_string(out, list);
      } else {
        append_scalar(out, c, row, false);
      }
    }
    out += '\n';
  }
  return out;
}

std::string write_jsonl(const Table& table) {
  std::string out;
  const auto& cols = table.schema().columns;
  for (std::size_t row = 0; row < table.rows(); ++row) {
    out += '{';
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out += ',';
      out += '"';
      out.append(cols[i].name);
      out += "\":";
      const Column& c = table.column(static_cast<int>(i));
      if (c.is_null(row)) out += "null";
      else if (c.type() == ColumnType::varchar) append_json_string(out, c.string_at(row));
      else if (c.type() == ColumnType::varchar_list) append_json_list(out, c, row);
      else append_scalar(out, c, row, true);
    }
    out += "}\n";
  }
  return out;
}

bool writes_empty_tables(OutputFormat format) noexcept { return format == OutputFormat::parquet; }

Result<std::string> TableWriter::write(const Table& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::csv: return write_csv(table);
    case OutputFormat::jsonl: return write_jsonl(table);
    case OutputFormat::parquet: break;
  }
  if (!parquet_) {
    auto opened = ParquetWriter::open();
    if (!opened) return std::move(opened).error();
    parquet_ = std::move(opened).value();
  }
  return parquet_->write(table);
}

Result<std::string> write_table(const Table& table, OutputFormat format) {
  thread_local TableWriter writer;
  return writer.write(table, format);
}

}  // namespace etl::transformer
