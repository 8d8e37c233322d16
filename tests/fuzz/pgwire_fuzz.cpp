// The PostgreSQL endpoint's pure decoders (pgwire/wire.h, scram.h, sql_text.h, copy_out.h) on
// arbitrary bytes: the startup packet, every frontend message body the session
// decodes, SCRAM messages, statement splitting, COPY statements, result column names, drivers'
// type queries, parameter type inference, and parameter binding (text and binary forms of
// every bound type, arrays included). An error or
// a value, never a crash; a decoded Parse or Bind encodes back to what decodes equal.
// The first byte chooses the decoder; mode 0 reads the rest as a stream of framed
// messages (type byte, big-endian length) as Session::read_message does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgwire/binary_values.h"
#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/copy_out.h"
#include "pgwire/driver_queries.h"
#include "pgwire/format.h"
#include "pgwire/param_types.h"
#include "pgwire/pattern_ops.h"
#include "pgwire/scram.h"
#include "pgwire/select_list.h"
#include "pgwire/set_returning.h"
#include "pgwire/sql_text.h"
#include "pgwire/to_char.h"
#include "pgwire/types.h"
#include "pgwire/wire.h"

namespace {

using namespace etl::pgwire;

void parse_round_trip(std::string_view body) {
  auto m = decode_parse(body);
  if (!m) return;
  Writer w;
  w.cstring(m->name);
  w.cstring(m->query);
  w.i16(static_cast<std::int16_t>(m->param_types.size()));
  for (auto t : m->param_types) w.i32(t);
  auto again = decode_parse(w.buffer());
  if (!again || again->name != m->name || again->query != m->query || again->param_types != m->param_types) std::abort();
}

void bind_round_trip(std::string_view body) {
  auto m = decode_bind(body);
  if (!m) return;
  Writer w;
  w.cstring(m->portal);
  w.cstring(m->statement);
  w.i16(static_cast<std::int16_t>(m->param_formats.size()));
  for (auto f : m->param_formats) w.i16(f);
  w.i16(static_cast<std::int16_t>(m->params.size()));
  for (const auto& p : m->params) {
    w.i32(p ? static_cast<std::int32_t>(p->size()) : -1);
    if (p) w.raw(*p);
  }
  w.i16(static_cast<std::int16_t>(m->result_formats.size()));
  for (auto f : m->result_formats) w.i16(f);
  auto again = decode_bind(w.buffer());
  if (!again || again->portal != m->portal || again->statement != m->statement || again->params != m->params ||
      again->param_formats != m->param_formats || again->result_formats != m->result_formats)
    std::abort();
}

void scram(std::string_view in) {
  static const ScramSecret secret = make_scram_secret("pencil", "salt", 1);
  static const ScramSecret read_only = make_scram_secret("crayon", "salt", 1);  // ETL_READ_TOKEN's
  auto newline = in.find('\n');
  // Without TLS, and over TLS as SCRAM-SHA-256 and as SCRAM-SHA-256-PLUS (channel
  // binding); the last with a second password, as with a read-only token.
  for (int mode = 0; mode < 4; ++mode) {
    ScramExchange exchange(secret, "nonce", mode == 0 ? "" : std::string(32, 'h'), mode >= 2,
                           mode == 3 ? &read_only : nullptr);
    (void)exchange.client_first(in.substr(0, newline));
    if (newline != std::string_view::npos) (void)exchange.client_final(in.substr(newline + 1));
  }
}

void message(char type, std::string_view body) {
  switch (type) {
    case 'P': parse_round_trip(body); break;
    case 'B': bind_round_trip(body); break;
    case 'D': (void)decode_describe(body); break;
    case 'E': (void)decode_execute(body); break;
    case 'C': (void)decode_close(body); break;
    case 'Q':
      if (auto sql = decode_query(body)) (void)split_statements(*sql);
      break;
    case 'p': (void)decode_sasl_initial(body); break;
    default: break;
  }
}

// Framed messages one after the other, lengths checked as the session checks them.
void stream(std::string_view in) {
  while (in.size() >= 5) {
    auto len = static_cast<std::uint32_t>(static_cast<unsigned char>(in[1])) << 24 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(in[2])) << 16 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(in[3])) << 8 |
               static_cast<std::uint32_t>(static_cast<unsigned char>(in[4]));
    if (len < 4 || len - 4 > in.size() - 5) return;
    message(in[0], in.substr(5, len - 4));
    in.remove_prefix(5 + (len - 4));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0: stream(in); break;
    case 1: (void)decode_startup(in); break;
    case 2: parse_round_trip(in); break;
    case 3: bind_round_trip(in); break;
    case 4: message(static_cast<char>(data[0] >> 3 & 1 ? 'D' : 'E'), in); message('C', in); break;
    case 5: scram(in); (void)decode_sasl_initial(in); break;
    case 6:
      (void)split_statements(in);
      (void)normalize(in);
      (void)round_arguments_as_numeric(
          unconstrained_numerics_as_engine_types(any_array_literals_as_lists(postgres_functions_as_duckdb(in))));
      (void)to_char_as_strftime(in);
      (void)postgres_pattern_operators(in);
      (void)set_returning_items_as_rows(in);
      (void)postgres_format_calls(in);
      (void)to_char_expression("x", in);  // the whole input as a pattern
      {
        static const SessionInfo session = [] {
          SessionInfo s;
          default_settings(s);
          return s;
        }();
        (void)session_values_inlined(in, session);
      }
      if (in.size() <= 8192) {  // as Execution reads it: statements up to 8 KB
        (void)postgres_column_names(normalize(in), {"a", "count_star()", "c"});
        (void)driver_type_query(normalize(in));
        (void)catalog_text(normalize(in));
      }
      if (int n = parameter_count(in); n > 0 && n <= 64)  // column names as a catalog would type them
        (void)infer_param_types(normalize(in), std::vector<std::int32_t>(static_cast<std::size_t>(n), 0),
                                [](const std::string& name) -> std::optional<std::string> {
                                  if (name.empty()) return std::nullopt;
                                  return name[0] < 'm' ? std::optional<std::string>("INTEGER") : std::optional<std::string>("VARCHAR[]");
                                });
      {  // an engine row, and an array literal: what array_literal writes, array_items reads back the same
        static const std::vector<PgType> kRow = {pg_type("INTEGER[]"), pg_type("VARCHAR[]"), pg_type("TIMESTAMP[]"),
                                                 pg_type("DECIMAL(38,2)[]"), pg_type("STRUCT(a INTEGER)")};
        (void)row_values(in, kRow);
        (void)row_values(in, {pg_type("DOUBLE")});
        if (auto items = array_items(in); items && array_items(array_literal(*items)) != items) std::abort();
      }
      if (auto copy = parse_copy(in); copy && copy->copy) {  // COPY ... TO STDOUT: its options, then a row in them
        (void)copy_row({std::string(in), std::nullopt, std::string()}, copy->copy->format);
        (void)copy_header({std::string(in)}, copy->copy->format);
      }
      break;
    case 7: {
      // A parameter of a bound type, chosen by the first byte, from the rest as binary and as text.
      static constexpr std::int32_t kTypes[] = {0, 16, 20, 21, 23, 25, 26, 114, 700, 701, 1082, 1114, 1184, 1186,
                                                1700, 2950, 3802, 1000, 1005, 1007, 1009, 1015, 1016, 1021, 1022,
                                                1115, 1182, 1185, 1231};
      const std::int32_t type = kTypes[(data[0] >> 3) % (sizeof kTypes / sizeof kTypes[0])];
      (void)text_of_binary(type, in);
      (void)bind_parameters("select $1, $2, $3", {Param{std::string(in), type, true}, Param{std::string(in), type, false},
                                                  Param{std::nullopt, 20, false}});
      (void)bind_parameters(in, {Param{std::string(in.substr(0, 8)), 0, false}, Param{std::nullopt, 20, false},
                                 Param{std::string(in.substr(0, 4)), 23, true}});
      break;
    }
  }
  return 0;
}
