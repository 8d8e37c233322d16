#include "pgwire/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "etl/log.h"
#include "pgwire/commands.h"
#include "pgwire/copy_out.h"
#include "pgwire/cursors.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

constexpr std::size_t kMaxStartupBytes = 10000;
constexpr std::int32_t kAuthOk = 0, kAuthSasl = 10, kAuthSaslContinue = 11, kAuthSaslFinal = 12;

std::int32_t be32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::int32_t>((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3]);
}

// The peer's address as HTTP reports a client's ("127.0.0.1", "::1"); "" for a socket without one.
std::string peer_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET)
    return ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text) ? text : "";
  if (addr.ss_family == AF_INET6)
    return ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text, sizeof text) ? text : "";
  return "";
}

}  // namespace

std::string held_too_much(std::size_t limit) {
  const std::string size = limit % (1u << 20) == 0 ? std::to_string(limit >> 20) + " MiB" : std::to_string(limit >> 10) + " KiB";
  return "this connection's open cursors, portals and prepared statements would hold more than " + size +
         ": close some (CLOSE, Close) or fetch fewer rows at once";
}

Session::Session(int fd, SessionShared& shared, std::int32_t pid, std::int32_t key)
    : io_(fd, shared.limits.read_timeout), shared_(shared), pid_(pid), key_(key),
      ctx_{shared.engine, shared.catalog, info_, shared.limits.statement_timeout,
           [this](const std::string& id) {
             std::lock_guard lock(running_mutex_);
             running_ = id;
           },
           [this] { return io_.peer_closed(); }, [this](const std::string& sql) { return cursor_statement(sql); },
           peer_address(fd)} {}

void Session::run() {
  try {
    if (Status s = startup(); s.ok()) (void)serve();
    io_.close_tls();
  } catch (const std::exception& e) {
    log::warn("PostgreSQL session ended by an unexpected error", {{"error", e.what()}});
  }
}

void Session::cancel() {
  std::lock_guard lock(running_mutex_);
  if (!running_.empty()) (void)shared_.engine.cancel(running_);
}

Status Session::flush() {
  if (out_.buffer().empty()) return {};
  Status s = io_.write_all(out_.buffer());
  out_.clear();
  return s;
}

void Session::error(const std::string& sqlstate, const std::string& message) {
  write_error(out_, ErrorFields{"ERROR", sqlstate, message, "", ""});
}

Status Session::fatal(const std::string& sqlstate, const std::string& message) {
  write_error(out_, ErrorFields{"FATAL", sqlstate, message, "", ""});
  (void)flush();
  return make_error(Errc::invalid_argument, message);
}

Status Session::startup() {
  auto deadline = std::chrono::steady_clock::now() + shared_.limits.read_timeout;
  ETL_RETURN_IF_ERROR(direct_tls(deadline));
  for (int negotiations = 0;; ++negotiations) {
    char len_bytes[4];
    ETL_RETURN_IF_ERROR(io_.read_exact(len_bytes, 4, deadline));
    std::int32_t len = be32(len_bytes);
    if (len < 8 || static_cast<std::size_t>(len) > kMaxStartupBytes) return fatal("08P01", "invalid startup packet length");
    std::string body(static_cast<std::size_t>(len) - 4, '\0');
    ETL_RETURN_IF_ERROR(io_.read_exact(body.data(), body.size(), deadline));
    auto packet = decode_startup(body);
    if (!packet) return fatal("08P01", packet.error().message);
    using Kind = StartupPacket::Kind;
    if (packet->kind == Kind::cancel) {
      if (shared_.cancel) shared_.cancel(packet->cancel_pid, packet->cancel_secret);
      return make_error(Errc::cancelled, "cancel request");  // no answer: the client just closes
    }
    if (packet->kind == Kind::ssl || packet->kind == Kind::gssenc) {
      if (negotiations >= 2) return fatal("08P01", "too many encryption negotiations");
      ETL_RETURN_IF_ERROR(negotiate_encryption(packet->kind == Kind::ssl, deadline));
      continue;
    }
    if (shared_.tls_required && !io_.tls())
      return fatal("28000", "this server accepts only TLS connections (ETL_PG_TLS_REQUIRED=true): "
                            "connect with sslmode=require or stronger");
    if ((packet->version >> 16) != 3)
      return fatal("0A000", "unsupported frontend protocol " + std::to_string(packet->version >> 16) + "." +
                                std::to_string(packet->version & 0xffff) + ": server supports 3.0");
    // NegotiateProtocolVersion, as PostgreSQL sends it: for a newer minor version
    // (libpq 18 asks for 3.2 with max_protocol_version=latest) or protocol options
    // (_pq_.*) this server does not know. Its version is the whole number the
    // connection will speak, 3.0, not the minor alone: libpq refuses 0 as pre-3.0.
    std::vector<std::string> unknown;
    for (const auto& [k, v] : packet->params)
      if (k.rfind("_pq_.", 0) == 0) unknown.push_back(k);
    if ((packet->version & 0xffff) != 0 || !unknown.empty()) {
      out_.begin('v');
      out_.i32(kProtocolV3);
      out_.i32(static_cast<std::int32_t>(unknown.size()));
      for (const auto& k : unknown) out_.cstring(k);
      out_.end();
    }
    auto user = packet->params.find("user");
    if (user == packet->params.end() || user->second.empty()) return fatal("28000", "no PostgreSQL user name specified in startup packet");
    info_.user = user->second;
    auto db = packet->params.find("database");
    info_.database = db != packet->params.end() && !db->second.empty() ? db->second : info_.user;
    info_.schema = shared_.catalog.database();
    info_.pid = pid_;
    info_.max_statement_timeout_ms = shared_.limits.statement_timeout.count();
    default_settings(info_);
    if (auto app = packet->params.find("application_name"); app != packet->params.end())
      info_.settings["application_name"] = app->second.substr(0, 64);
    // PGOPTIONS: its settings are the session's from the start (RESET returns to them).
    if (auto options = packet->params.find("options"); options != packet->params.end())
      if (auto refused = apply_startup_options(options->second, info_)) return fatal(refused->sqlstate, refused->message);
    info_.defaults = info_.settings;
    break;
  }
  ETL_RETURN_IF_ERROR(authenticate(info_.user));
  for (const auto& [name, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"server_version", "server_version"}, {"server_encoding", "server_encoding"},
           {"client_encoding", "client_encoding"}, {"DateStyle", "datestyle"}, {"IntervalStyle", "intervalstyle"},
           {"integer_datetimes", "integer_datetimes"}, {"standard_conforming_strings", "standard_conforming_strings"},
           {"TimeZone", "timezone"}, {"is_superuser", "is_superuser"}, {"session_authorization", "session_authorization"},
           {"application_name", "application_name"}, {"default_transaction_read_only", "default_transaction_read_only"}})
    write_parameter_status(out_, name, info_.settings[key]);
  out_.begin('K');
  out_.i32(pid_);
  out_.i32(key_);
  out_.end();
  write_ready(out_, tx_);
  return flush();
}

// 'S' and the TLS handshake (bounded by the start-up deadline) when the endpoint has a
// certificate and the connection is not encrypted yet; 'N' otherwise: go on as is.
Status Session::negotiate_encryption(bool ssl, std::chrono::steady_clock::time_point deadline) {
  if (!ssl || !shared_.tls || io_.tls()) return io_.write_all("N");
  ETL_RETURN_IF_ERROR(io_.write_all("S"));
  if (Status s = io_.start_tls(shared_.tls, deadline); !s.ok()) {
    log::debug("PostgreSQL TLS handshake failed", {{"error", s.error().message}});
    return s;
  }
  if (shared_.tls_sessions) shared_.tls_sessions->inc();
  return {};
}

// sslnegotiation=direct (libpq 17+): the connection starts with a TLS handshake
// record (0x16, a ClientHello) instead of an SSLRequest, saving a round trip. No
// plaintext start-up begins so (its length would be over 350 MiB). As PostgreSQL:
// served only once ALPN "postgresql" is agreed, so that no other protocol's TLS
// client is taken for a PostgreSQL one; closed without a word (a TLS client
// could not read one) when this endpoint has no certificate.
Status Session::direct_tls(std::chrono::steady_clock::time_point deadline) {
  auto first = io_.peek_byte(deadline);
  if (!first) return std::move(first).error();
  if (*first != 0x16) return {};
  if (!shared_.tls) {
    log::debug("PostgreSQL direct TLS connection refused: no certificate (ETL_PG_TLS_CERT)");
    return make_error(Errc::unavailable, "direct TLS without a certificate");
  }
  if (Status s = io_.start_tls(shared_.tls, deadline); !s.ok()) {
    log::debug("PostgreSQL TLS handshake failed", {{"error", s.error().message}});
    return s;
  }
  if (io_.alpn() != "postgresql")
    return fatal("08P01", "received direct TLS connection request without ALPN protocol negotiation extension (postgresql)");
  if (shared_.tls_sessions) shared_.tls_sessions->inc();
  return {};
}

Status Session::authenticate(const std::string& user) {
  if (!shared_.secret) {
    write_auth(out_, kAuthOk);
    return {};
  }
  // Over TLS, SCRAM-SHA-256-PLUS first (channel binding), as PostgreSQL offers them.
  const std::string binding = io_.tls_server_end_point();
  write_auth(out_, kAuthSasl, binding.empty() ? std::string("SCRAM-SHA-256\0\0", 15)
                                              : std::string("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", 34));
  ETL_RETURN_IF_ERROR(flush());
  auto bad_password = [&] { return fatal("28P01", "password authentication failed for user \"" + user + "\""); };
  auto first = read_message(shared_.limits.read_timeout);
  if (!first) return std::move(first).error();
  if (first->first != 'p') return fatal("08P01", "expected a SASLInitialResponse");
  auto initial = decode_sasl_initial(first->second);
  if (!initial) return fatal("08P01", initial.error().message);
  const bool plus = initial->mechanism == "SCRAM-SHA-256-PLUS" && !binding.empty();
  if (initial->mechanism != "SCRAM-SHA-256" && !plus)
    return fatal("28000", binding.empty() ? "only SCRAM-SHA-256 authentication is supported"
                                          : "only SCRAM-SHA-256-PLUS and SCRAM-SHA-256 authentication are supported");
  ScramExchange exchange(*shared_.secret, base64_encode(random_bytes(18)), binding, plus,
                         shared_.read_secret ? &*shared_.read_secret : nullptr);
  auto server_first = exchange.client_first(initial->data);
  if (!server_first) return fatal("08P01", server_first.error().message);
  write_auth(out_, kAuthSaslContinue, *server_first);
  ETL_RETURN_IF_ERROR(flush());
  auto final_msg = read_message(shared_.limits.read_timeout);
  if (!final_msg) return std::move(final_msg).error();
  if (final_msg->first != 'p') return fatal("08P01", "expected a SASLResponse");
  auto server_final = exchange.client_final(final_msg->second);
  if (!server_final) {
    if (server_final.error().code == Errc::unauthorized) return bad_password();
    return fatal("08P01", server_final.error().message);
  }
  write_auth(out_, kAuthSaslFinal, *server_final);
  write_auth(out_, kAuthOk);
  return {};
}

Result<std::pair<char, std::string>> Session::read_message(std::chrono::seconds first_byte_timeout) {
  char header[5];
  ETL_RETURN_IF_ERROR(io_.read_exact(header, 1, std::chrono::steady_clock::now() + first_byte_timeout));
  auto deadline = std::chrono::steady_clock::now() + shared_.limits.read_timeout;
  // A message begun but not finished in time is the read timeout, not the idle one.
  auto read_rest = [&](char* into, std::size_t n) -> Status {
    Status s = io_.read_exact(into, n, deadline);
    if (!s.ok() && s.error().code == Errc::timeout) {
      (void)fatal("08006", "terminating connection: the rest of a started message did not arrive within the read timeout (" +
                               std::to_string(shared_.limits.read_timeout.count()) + " s, ETL_PG_READ_TIMEOUT_S)");
      return make_error(Errc::cancelled, "read timeout");
    }
    return s;
  };
  ETL_RETURN_IF_ERROR(read_rest(header + 1, 4));
  std::int32_t len = be32(header + 1);
  if (len < 4) {
    (void)fatal("08P01", "invalid message length");
    return make_error(Errc::invalid_argument, "invalid message length");
  }
  if (static_cast<std::size_t>(len) - 4 > shared_.limits.max_message_bytes) {
    (void)fatal("54000", "message of " + std::to_string(len) + " bytes is larger than the endpoint's limit of " +
                             std::to_string(shared_.limits.max_message_bytes) + " (ETL_PG_MAX_MESSAGE_BYTES)");
    return make_error(Errc::too_large, "message too large");
  }
  std::string body(static_cast<std::size_t>(len) - 4, '\0');
  ETL_RETURN_IF_ERROR(read_rest(body.data(), body.size()));
  return std::make_pair(header[0], std::move(body));
}

Status Session::serve() {
  while (true) {
    auto msg = read_message(shared_.limits.idle_timeout);
    if (!msg) {
      if (msg.error().code == Errc::timeout)
        (void)fatal("57P05", "terminating connection due to idle timeout (" +
                                 std::to_string(shared_.limits.idle_timeout.count()) + " s, ETL_PG_IDLE_TIMEOUT_S)");
      return std::move(msg).error();
    }
    auto& [type, body] = *msg;
    if (type == 'X') return {};
    if (type == 'Q') {
      ETL_RETURN_IF_ERROR(simple_query(body));
      continue;
    }
    if (std::string_view("PBDESHC").find(type) != std::string_view::npos) {
      ETL_RETURN_IF_ERROR(handle_extended(type, body));
      continue;
    }
    if (type == 'd' || type == 'c' || type == 'f') continue;  // stray COPY data: there is no COPY here
    return fatal("08P01", std::string("invalid frontend message type ") + std::to_string(static_cast<int>(type)));
  }
}

void Session::count(bool ok) {
  Counter* c = ok ? shared_.statements_ok : shared_.statements_failed;
  if (c) c->inc();
}

std::optional<SqlError> Session::release(const Release& r) {
  switch (r.kind) {
    case Release::Kind::none:
      return std::nullopt;
    case Release::Kind::statement:
      if (statements_.erase(r.name) == 0) return SqlError{"26000", "prepared statement \"" + r.name + "\" does not exist"};
      return std::nullopt;
    case Release::Kind::everything:
      if (tx_ != 'I') return SqlError{"25001", "DISCARD ALL cannot run inside a transaction block"};
      info_.settings = info_.defaults;
      // The portal that runs this statement stays until its Execute ends.
      std::erase_if(portals_, [this](const auto& p) { return &p.second != running_portal_; });
      [[fallthrough]];
    case Release::Kind::all_statements:
      statements_.clear();
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<LocalOutcome> Session::cursor_statement(const std::string& sql) {
  auto parsed = parse_cursor_statement(sql);
  if (!parsed) return std::nullopt;
  if (const auto* err = std::get_if<SqlError>(&*parsed)) return local_error(err->sqlstate, err->message);
  const auto& c = std::get<CursorStatement>(*parsed);
  auto done = [](LocalResult r) { return LocalOutcome{std::move(r), std::nullopt, TxEffect::none, {}}; };
  auto missing = [&c] { return local_error("34000", "cursor \"" + c.name + "\" does not exist"); };
  using Kind = CursorStatement::Kind;
  switch (c.kind) {
    case Kind::declare: {
      if (!c.hold && tx_ == 'I') return local_error("25P01", "DECLARE CURSOR can only be used in transaction blocks");
      if (portals_.count(c.name)) return local_error("42P03", "cursor \"" + c.name + "\" already exists");
      if (portals_.size() >= shared_.limits.max_prepared)
        return local_error("53400", "too many portals on this connection (" + std::to_string(shared_.limits.max_prepared) + ")");
      Portal cursor;
      cursor.sql = c.query;
      cursor.cursor = true;
      cursor.hold = c.hold;
      cursor.execution = Execution::run(ctx_, c.query);
      if (const auto& err = cursor.execution->error()) return local_error(err->sqlstate, err->message);
      if (held_by_portals() + cursor.execution->held_bytes() > shared_.limits.max_held_bytes)
        return local_error("53400", held_too_much(shared_.limits.max_held_bytes));
      portals_[c.name] = std::move(cursor);
      return done(command("DECLARE CURSOR"));
    }
    case Kind::fetch:
    case Kind::move: {
      auto it = portals_.find(c.name);
      if (it == portals_.end() || !it->second.execution || &it->second == running_portal_) return missing();
      auto rows = it->second.execution->take_rows(ctx_, c.count);
      if (!rows) return local_error(sqlstate_for(rows.error()), rows.error().message);
      if (c.kind == Kind::fetch) return done(std::move(rows).value());
      return done(command("MOVE " + std::to_string(rows->rows.size())));
    }
    case Kind::close: {
      auto it = portals_.find(c.name);
      if (it == portals_.end() || &it->second == running_portal_) return missing();
      portals_.erase(it);
      return done(command("CLOSE CURSOR"));
    }
    case Kind::close_all:
      std::erase_if(portals_, [this](const auto& p) { return p.second.cursor && &p.second != running_portal_; });
      return done(command("CLOSE CURSOR ALL"));
  }
  return std::nullopt;
}

std::size_t Session::held_by_portals() const {
  std::size_t n = 0;
  for (const auto& [name, portal] : portals_)
    if (portal.execution) n += portal.execution->held_bytes();
  return n;
}

void Session::close_transaction_cursors() {
  std::erase_if(portals_, [this](const auto& p) { return p.second.cursor && !p.second.hold && &p.second != running_portal_; });
}

void Session::apply_tx(TxEffect effect) {
  if (effect == TxEffect::begin && tx_ == 'I') tx_ = 'T';
  if (effect == TxEffect::commit || effect == TxEffect::rollback) {
    tx_ = 'I';
    close_transaction_cursors();
  }
}

bool Session::statement_failed(const std::string& sqlstate, const std::string& message) {
  error(sqlstate, message);
  count(false);
  return false;
}

// Runs one statement of a simple query, all rows at once; false when it failed.
bool Session::run_statement(const std::string& sql, bool simple) {
  std::string n = normalize(sql);
  bool ends_block = n == "rollback" || n == "abort" || n == "commit" || n == "end" || n.rfind("rollback", 0) == 0;
  if (tx_ == 'E' && !ends_block) {
    error("25P02", "current transaction is aborted, commands ignored until end of transaction block");
    return false;
  }
  if (tx_ == 'E' && n.rfind("rollback to", 0) == 0) tx_ = 'T';
  if (simple && n.rfind("copy", 0) == 0)
    if (auto copy = parse_copy(sql)) return run_copy(*copy);
  Execution e = Execution::run(ctx_, sql);
  std::optional<SqlError> err = e.error();
  if (!err) err = release(e.release());
  if (err) return statement_failed(err->sqlstate, err->message);
  if (simple && e.returns_rows()) e.describe(out_);
  auto done = e.write_rows(ctx_, out_, 0, [this] { return flush(); });
  if (!done) return statement_failed(sqlstate_for(done.error()), done.error().message);
  apply_tx(tx_ == 'E' ? TxEffect::rollback : e.tx());
  count(true);
  return true;
}

// COPY ... TO STDOUT (copy_out.h): CopyOutResponse, a CopyData per line (the
// header first), CopyDone and "COPY <rows>". Rows are taken a batch at a time and
// flushed as the buffer grows, so a large result streams in bounded memory. An
// error after the start ends the COPY with its ErrorResponse, as in PostgreSQL.
bool Session::run_copy(const CopyStatement& statement) {
  constexpr long long kBatchRows = 1000;
  constexpr std::size_t kFlushBytes = 256 * 1024;
  if (statement.error) return statement_failed(statement.error->sqlstate, statement.error->message);
  const CopyFormat& format = statement.copy->format;
  Execution e = Execution::run(ctx_, statement.copy->query);
  if (const auto& err = e.error()) return statement_failed(err->sqlstate, err->message);
  if (!e.returns_rows()) return statement_failed("0A000", "COPY needs a statement that returns rows");
  auto batch = e.take_rows(ctx_, kBatchRows);
  if (!batch) return statement_failed(sqlstate_for(batch.error()), batch.error().message);
  out_.begin('H');
  out_.byte(0);  // the text format (CSV is one too), and so every column
  out_.i16(static_cast<std::int16_t>(batch->columns.size()));
  for (std::size_t c = 0; c < batch->columns.size(); ++c) out_.i16(0);
  out_.end();
  auto line = [this](const std::string& text) {
    out_.begin('d');
    out_.raw(text);
    out_.end();
  };
  if (format.header) {
    std::vector<std::string> names;
    for (const auto& column : batch->columns) names.push_back(column.name);
    line(copy_header(names, format));
  }
  std::uint64_t rows = 0;
  while (!batch->rows.empty()) {
    for (const auto& row : batch->rows) line(copy_row(row, format));
    rows += batch->rows.size();
    if (out_.buffer().size() >= kFlushBytes && !flush().ok()) return false;  // the client is gone
    batch = e.take_rows(ctx_, kBatchRows);
    if (!batch) return statement_failed(sqlstate_for(batch.error()), batch.error().message);
  }
  write_empty_message(out_, 'c');
  write_command_complete(out_, "COPY " + std::to_string(rows));
  count(true);
  return true;
}

Status Session::simple_query(const std::string& body) {
  auto sql = decode_query(body);
  if (!sql) return fatal("08P01", sql.error().message);
  auto statements = split_statements(*sql);
  if (!statements) {
    error("42601", statements.error().message);
  } else if (statements->empty()) {
    write_empty_message(out_, 'I');
  } else {
    for (const auto& stmt : *statements) {
      if (!run_statement(stmt, true)) {
        if (tx_ == 'T') tx_ = 'E';
        break;
      }
    }
  }
  portals_.erase("");
  write_ready(out_, tx_);
  return flush();
}

}  // namespace etl::pgwire
