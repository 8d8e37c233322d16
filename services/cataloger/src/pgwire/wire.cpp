#include "pgwire/wire.h"

#include <cstring>

namespace etl::pgwire {
namespace {

Error malformed(std::string_view what) {
  return make_error(Errc::invalid_argument, "malformed " + std::string(what) + " message");
}

std::string str(std::string_view v) { return std::string(v); }

}  // namespace

std::optional<std::int16_t> Reader::i16() {
  if (remaining() < 2) return std::nullopt;
  auto b = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
  pos_ += 2;
  return static_cast<std::int16_t>((b[0] << 8) | b[1]);
}

std::optional<std::int32_t> Reader::i32() {
  if (remaining() < 4) return std::nullopt;
  auto b = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
  pos_ += 4;
  return static_cast<std::int32_t>((std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                                   (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]});
}

std::optional<std::uint8_t> Reader::byte() {
  if (remaining() < 1) return std::nullopt;
  return static_cast<std::uint8_t>(data_[pos_++]);
}

std::optional<std::string_view> Reader::cstring() {
  auto nul = data_.find('\0', pos_);
  if (nul == std::string_view::npos) return std::nullopt;
  auto s = data_.substr(pos_, nul - pos_);
  pos_ = nul + 1;
  return s;
}

std::optional<std::string_view> Reader::bytes(std::size_t n) {
  if (remaining() < n) return std::nullopt;
  auto s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

void Writer::begin(char type) {
  out_.push_back(type);
  start_ = out_.size();
  out_.append(4, '\0');
}

void Writer::end() {
  auto len = static_cast<std::uint32_t>(out_.size() - start_);
  out_[start_] = static_cast<char>(len >> 24);
  out_[start_ + 1] = static_cast<char>(len >> 16);
  out_[start_ + 2] = static_cast<char>(len >> 8);
  out_[start_ + 3] = static_cast<char>(len);
}

void Writer::i16(std::int16_t v) {
  auto u = static_cast<std::uint16_t>(v);
  out_.push_back(static_cast<char>(u >> 8));
  out_.push_back(static_cast<char>(u));
}

void Writer::i32(std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(u >> shift));
}

void Writer::cstring(std::string_view s) {
  out_.append(s);
  out_.push_back('\0');
}

Result<StartupPacket> decode_startup(std::string_view body) {
  Reader r(body);
  auto code = r.i32();
  if (!code) return malformed("startup");
  StartupPacket p;
  p.version = *code;
  if (*code == kSslRequest || *code == kGssEncRequest) {
    if (!r.done()) return malformed("startup");
    p.kind = *code == kSslRequest ? StartupPacket::Kind::ssl : StartupPacket::Kind::gssenc;
    return p;
  }
  if (*code == kCancelRequest) {
    auto pid = r.i32();
    auto secret = r.i32();
    if (!pid || !secret || !r.done()) return malformed("CancelRequest");
    p.kind = StartupPacket::Kind::cancel;
    p.cancel_pid = *pid;
    p.cancel_secret = *secret;
    return p;
  }
  if ((*code >> 16) != 3) return p;  // the caller refuses other versions with 0A000
  while (true) {
    auto name = r.cstring();
    if (!name) return malformed("startup");
    if (name->empty()) break;
    auto value = r.cstring();
    if (!value) return malformed("startup");
    p.params[str(*name)] = str(*value);
  }
  if (!r.done()) return malformed("startup");
  return p;
}

Result<ParseMsg> decode_parse(std::string_view body) {
  Reader r(body);
  auto name = r.cstring();
  auto query = r.cstring();
  auto n = r.i16();
  if (!name || !query || !n || *n < 0 || r.remaining() != static_cast<std::size_t>(*n) * 4) return malformed("Parse");
  ParseMsg m{str(*name), str(*query), {}};
  m.param_types.reserve(static_cast<std::size_t>(*n));
  for (int i = 0; i < *n; ++i) m.param_types.push_back(*r.i32());
  return m;
}

Result<BindMsg> decode_bind(std::string_view body) {
  Reader r(body);
  BindMsg m;
  auto portal = r.cstring();
  auto statement = r.cstring();
  auto nformats = r.i16();
  if (!portal || !statement || !nformats || *nformats < 0 || r.remaining() < static_cast<std::size_t>(*nformats) * 2)
    return malformed("Bind");
  m.portal = str(*portal);
  m.statement = str(*statement);
  for (int i = 0; i < *nformats; ++i) m.param_formats.push_back(*r.i16());
  auto nparams = r.i16();
  // Each parameter takes at least its 4-byte length: a count the body cannot hold is a lie.
  if (!nparams || *nparams < 0 || r.remaining() < static_cast<std::size_t>(*nparams) * 4) return malformed("Bind");
  m.params.reserve(static_cast<std::size_t>(*nparams));
  for (int i = 0; i < *nparams; ++i) {
    auto len = r.i32();
    if (!len || *len < -1) return malformed("Bind");
    if (*len == -1) {
      m.params.emplace_back(std::nullopt);
      continue;
    }
    auto value = r.bytes(static_cast<std::size_t>(*len));
    if (!value) return malformed("Bind");
    m.params.emplace_back(str(*value));
  }
  auto nresults = r.i16();
  if (!nresults || *nresults < 0 || r.remaining() != static_cast<std::size_t>(*nresults) * 2) return malformed("Bind");
  for (int i = 0; i < *nresults; ++i) m.result_formats.push_back(*r.i16());
  return m;
}

Result<DescribeMsg> decode_describe(std::string_view body) {
  Reader r(body);
  auto kind = r.byte();
  auto name = r.cstring();
  if (!kind || !name || !r.done() || (*kind != 'S' && *kind != 'P')) return malformed("Describe");
  return DescribeMsg{static_cast<char>(*kind), str(*name)};
}

Result<ExecuteMsg> decode_execute(std::string_view body) {
  Reader r(body);
  auto portal = r.cstring();
  auto max_rows = r.i32();
  if (!portal || !max_rows || !r.done()) return malformed("Execute");
  // PostgreSQL (exec_execute_message) fetches every row when max_rows is 0 or less.
  return ExecuteMsg{str(*portal), *max_rows < 0 ? 0 : *max_rows};
}

Result<CloseMsg> decode_close(std::string_view body) {
  Reader r(body);
  auto kind = r.byte();
  auto name = r.cstring();
  if (!kind || !name || !r.done() || (*kind != 'S' && *kind != 'P')) return malformed("Close");
  return CloseMsg{static_cast<char>(*kind), str(*name)};
}

Result<std::string> decode_query(std::string_view body) {
  Reader r(body);
  auto q = r.cstring();
  if (!q || !r.done()) return malformed("Query");
  return str(*q);
}

Result<SaslInitial> decode_sasl_initial(std::string_view body) {
  Reader r(body);
  auto mech = r.cstring();
  auto len = r.i32();
  if (!mech || !len || *len < -1) return malformed("SASLInitialResponse");
  SaslInitial s{str(*mech), {}};
  if (*len > 0) {
    auto data = r.bytes(static_cast<std::size_t>(*len));
    if (!data) return malformed("SASLInitialResponse");
    s.data = str(*data);
  }
  if (!r.done()) return malformed("SASLInitialResponse");
  return s;
}

void write_error(Writer& w, const ErrorFields& e, char type) {
  w.begin(type);
  w.byte('S');
  w.cstring(e.severity);
  w.byte('V');
  w.cstring(e.severity);
  w.byte('C');
  w.cstring(e.sqlstate);
  w.byte('M');
  w.cstring(e.message);
  if (!e.detail.empty()) {
    w.byte('D');
    w.cstring(e.detail);
  }
  if (!e.hint.empty()) {
    w.byte('H');
    w.cstring(e.hint);
  }
  w.byte(0);
  w.end();
}

void write_auth(Writer& w, std::int32_t code, std::string_view data) {
  w.begin('R');
  w.i32(code);
  w.raw(data);
  w.end();
}

void write_parameter_status(Writer& w, std::string_view name, std::string_view value) {
  w.begin('S');
  w.cstring(name);
  w.cstring(value);
  w.end();
}

void write_ready(Writer& w, char status) {
  w.begin('Z');
  w.byte(static_cast<std::uint8_t>(status));
  w.end();
}

void write_command_complete(Writer& w, std::string_view tag) {
  w.begin('C');
  w.cstring(tag);
  w.end();
}

void write_empty_message(Writer& w, char type) {
  w.begin(type);
  w.end();
}

}  // namespace etl::pgwire
