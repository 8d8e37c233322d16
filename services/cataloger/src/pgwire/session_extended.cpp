// The extended query protocol: Parse / Bind / Describe / Execute / Close / Flush / Sync.
// Parameters arrive as text or binary, typed as the client declared them or as
// param_types.h infers unspecified ones, and are bound as checked literals before the
// statement reaches the engine's gate.
#include <map>
#include <memory>

#include "pgwire/param_types.h"
#include "pgwire/session.h"
#include "pgwire/sql_text.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

// Column name -> engine type over the catalog's tables, read once, when first asked;
// a name whose tables disagree on its PostgreSQL type has none.
ColumnTypeLookup catalog_column_types(Catalog& catalog) {
  auto types = std::make_shared<std::optional<std::map<std::string, std::string>>>();
  return [&catalog, types](const std::string& name) -> std::optional<std::string> {
    if (!*types) {
      std::map<std::string, std::string> by_name;
      auto add = [&](const std::string& column, const std::string& type) {
        auto [it, fresh] = by_name.emplace(column, type);
        if (!fresh && !it->second.empty() && pg_type(it->second).oid != pg_type(type).oid) it->second.clear();
      };
      if (auto tables = catalog.list_tables())
        for (const auto& t : *tables) {
          for (const auto& c : t.columns) add(c.name, c.type);
          for (const auto& k : t.partition_keys) add(k, "VARCHAR");
        }
      *types = std::move(by_name);
    }
    auto it = (*types)->find(name);
    if (it == (*types)->end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

bool describes_rows(const std::string& sql) {
  std::string n = normalize(sql);
  for (const char* p : {"select", "with", "values", "show", "explain", "table", "("})
    if (n.rfind(p, 0) == 0) return true;
  return false;
}

// A value of the parameter's type to bind in a statement the engine only describes.
std::string sample_value(std::int32_t type_oid) {
  switch (type_oid) {
    case oid::boolean: return "false";
    case oid::int2: case oid::int4: case oid::int8: case oid::oid: case oid::float4: case oid::float8: return "0";
    case oid::numeric: return "0.0";
    case oid::date: return "2000-01-01";
    case oid::timestamp: case oid::timestamptz: return "2000-01-01 00:00:00";
    case oid::json: case oid::jsonb: return "{}";
    default: return array_element_oid(type_oid) != 0 ? "{}" : "";
  }
}

}  // namespace

Status Session::handle_extended(char type, const std::string& body) {
  if (type == 'S') {
    skip_to_sync_ = false;
    if (tx_ == 'I') std::erase_if(portals_, [](const auto& p) { return !p.second.hold; });  // WITH HOLD cursors stay
    write_ready(out_, tx_);
    return flush();
  }
  if (type == 'H') return flush();
  if (skip_to_sync_) return {};  // after an error, everything up to Sync is ignored
  switch (type) {
    case 'P': parse(body); break;
    case 'B': bind(body); break;
    case 'D': describe(body); break;
    case 'E': execute(body); break;
    case 'C': close(body); break;
    default: break;
  }
  if (out_.buffer().size() >= (256u << 10)) return flush();
  return {};
}

void Session::parse(const std::string& body) {
  auto fail = [&](const std::string& state, const std::string& message) {
    error(state, message);
    skip_to_sync_ = true;
    if (tx_ == 'T') tx_ = 'E';
  };
  auto msg = decode_parse(body);
  if (!msg) return fail("08P01", msg.error().message);
  if (!msg->name.empty() && statements_.count(msg->name))
    return fail("42P05", "prepared statement \"" + msg->name + "\" already exists");
  if (!msg->name.empty() && statements_.size() >= shared_.limits.max_prepared)
    return fail("53400", "too many prepared statements on this connection (" + std::to_string(shared_.limits.max_prepared) + ")");
  std::size_t held = msg->query.size();
  for (const auto& [name, statement] : statements_) held += statement.sql.size();
  if (held > shared_.limits.max_held_bytes) return fail("53400", held_too_much(shared_.limits.max_held_bytes));
  auto parts = split_statements(msg->query);
  if (!parts) return fail("42601", parts.error().message);
  if (parts->size() > 1) return fail("42601", "cannot insert multiple commands into a prepared statement");
  Prepared p;
  p.sql = parts->empty() ? "" : (*parts)[0];
  p.param_types = msg->param_types;
  int used = parameter_count(p.sql);
  if (used > 65535) return fail("54000", "too many parameters");
  if (static_cast<int>(p.param_types.size()) < used) p.param_types.resize(static_cast<std::size_t>(used), 0);
  p.param_types = infer_param_types(p.sql, std::move(p.param_types), catalog_column_types(shared_.catalog));
  statements_[msg->name] = std::move(p);
  write_empty_message(out_, '1');
}

void Session::bind(const std::string& body) {
  auto fail = [&](const std::string& state, const std::string& message) {
    error(state, message);
    skip_to_sync_ = true;
    if (tx_ == 'T') tx_ = 'E';
  };
  auto msg = decode_bind(body);
  if (!msg) return fail("08P01", msg.error().message);
  auto st = statements_.find(msg->statement);
  if (st == statements_.end()) return fail("26000", "prepared statement \"" + msg->statement + "\" does not exist");
  const Prepared& p = st->second;
  if (msg->params.size() != p.param_types.size())
    return fail("08P01", "bind message supplies " + std::to_string(msg->params.size()) + " parameters, but prepared statement \"" +
                             msg->statement + "\" requires " + std::to_string(p.param_types.size()));
  if (msg->param_formats.size() > 1 && msg->param_formats.size() != msg->params.size())
    return fail("08P01", "bind message has a wrong number of parameter formats");
  for (auto f : msg->result_formats)
    if (f != 0 && f != 1) return fail("22023", "unsupported format code: " + std::to_string(f));
  if (!msg->portal.empty() && !portals_.count(msg->portal) && portals_.size() >= shared_.limits.max_prepared)
    return fail("53400", "too many portals on this connection");
  std::vector<Param> params;
  for (std::size_t i = 0; i < msg->params.size(); ++i) {
    std::int16_t format = msg->param_formats.empty() ? 0 : msg->param_formats.size() == 1 ? msg->param_formats[0] : msg->param_formats[i];
    params.push_back(Param{msg->params[i], p.param_types[i], format == 1});
  }
  auto sql = bind_parameters(p.sql, params, shared_.limits.max_message_bytes);
  if (!sql) return fail(bind_error_state(sql.error()), sql.error().message);
  Portal portal;
  portal.sql = std::move(*sql);
  portal.result_formats = std::move(msg->result_formats);
  portals_[msg->portal] = std::move(portal);
  write_empty_message(out_, '2');
}

bool Session::start_portal(Portal& portal) {
  if (portal.execution || portal.sql.empty()) return true;
  std::string n = normalize(portal.sql);
  bool ends_block = n == "rollback" || n == "abort" || n == "commit" || n == "end" || n.rfind("rollback", 0) == 0;
  if (tx_ == 'E' && !ends_block) {
    error("25P02", "current transaction is aborted, commands ignored until end of transaction block");
    skip_to_sync_ = true;
    return false;
  }
  running_portal_ = &portal;
  portal.execution = Execution::run(ctx_, portal.sql);
  std::optional<SqlError> err = portal.execution->error();
  if (!err) err = portal.execution->set_formats(portal.result_formats);
  if (!err) err = release(portal.execution->release());
  running_portal_ = nullptr;
  if (!err && held_by_portals() > shared_.limits.max_held_bytes) {
    err = SqlError{"53400", held_too_much(shared_.limits.max_held_bytes)};
    portal.execution.reset();  // its page is what was too much
  }
  if (err) {
    error(err->sqlstate, err->message);
    count(false);
    skip_to_sync_ = true;
    if (tx_ == 'T') tx_ = 'E';
    return false;
  }
  return true;
}

void Session::describe(const std::string& body) {
  auto msg = decode_describe(body);
  if (!msg) {
    error("08P01", msg.error().message);
    skip_to_sync_ = true;
    return;
  }
  if (msg->kind == 'S') {
    auto st = statements_.find(msg->name);
    if (st == statements_.end()) {
      error("26000", "prepared statement \"" + msg->name + "\" does not exist");
      skip_to_sync_ = true;
      return;
    }
    out_.begin('t');
    out_.i16(static_cast<std::int16_t>(st->second.param_types.size()));
    for (auto t : st->second.param_types) out_.i32(t == 0 ? oid::text : t);
    out_.end();
    if (!describes_rows(st->second.sql)) {
      write_empty_message(out_, 'n');
      return;
    }
    // The engine describes the statement bound with a value of each parameter's type;
    // where it cannot (Athena; a statement DESCRIBE refuses), the statement runs with
    // NULL parameters and its columns are read.
    std::vector<Param> samples;
    for (auto t : st->second.param_types) samples.push_back(Param{sample_value(t), t, false});
    if (auto bound = bind_parameters(st->second.sql, samples, shared_.limits.max_message_bytes))
      if (auto described = Execution::described(ctx_, *bound)) {
        described->describe(out_);
        return;
      }
    std::vector<Param> nulls(st->second.param_types.size());
    auto sql = bind_parameters(st->second.sql, nulls, shared_.limits.max_message_bytes);
    Portal probe;
    probe.sql = sql ? *sql : st->second.sql;
    if (!start_portal(probe)) return;
    probe.execution->describe(out_);
    return;
  }
  auto it = portals_.find(msg->name);
  if (it == portals_.end()) {
    error("34000", "portal \"" + msg->name + "\" does not exist");
    skip_to_sync_ = true;
    return;
  }
  if (it->second.sql.empty()) {
    write_empty_message(out_, 'n');
    return;
  }
  if (!start_portal(it->second)) return;
  it->second.execution->describe(out_);
}

void Session::execute(const std::string& body) {
  auto msg = decode_execute(body);
  if (!msg) {
    error("08P01", msg.error().message);
    skip_to_sync_ = true;
    return;
  }
  auto it = portals_.find(msg->portal);
  if (it == portals_.end()) {
    error("34000", "portal \"" + msg->portal + "\" does not exist");
    skip_to_sync_ = true;
    return;
  }
  Portal& portal = it->second;
  if (portal.sql.empty()) {
    write_empty_message(out_, 'I');
    return;
  }
  if (portal.done) {
    write_command_complete(out_, "SELECT 0");
    return;
  }
  if (!start_portal(portal)) return;
  auto complete = portal.execution->write_rows(ctx_, out_, msg->max_rows, [this] { return flush(); });
  if (!complete) {
    error(sqlstate_for(complete.error()), complete.error().message);
    skip_to_sync_ = true;
    if (tx_ == 'T') tx_ = 'E';
    count(false);
    return;
  }
  if (!*complete) {
    write_empty_message(out_, 's');  // PortalSuspended
    return;
  }
  portal.done = true;
  apply_tx(tx_ == 'E' ? TxEffect::rollback : portal.execution->tx());
  count(true);
}

void Session::close(const std::string& body) {
  auto msg = decode_close(body);
  if (!msg) {
    error("08P01", msg.error().message);
    skip_to_sync_ = true;
    return;
  }
  if (msg->kind == 'S') statements_.erase(msg->name);
  else portals_.erase(msg->name);
  write_empty_message(out_, '3');
}

}  // namespace etl::pgwire
