// PostgreSQL protocol v3 framing (https://www.postgresql.org/docs/current/protocol-message-formats.html):
// pure encoding and decoding, no sockets. Every length that comes from the peer is
// checked against a cap before anything is allocated for it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::pgwire {

inline constexpr std::int32_t kProtocolV3 = 196608;       // 3.0
inline constexpr std::int32_t kSslRequest = 80877103;
inline constexpr std::int32_t kGssEncRequest = 80877104;
inline constexpr std::int32_t kCancelRequest = 80877102;

// The start of a connection: a length-prefixed packet without a type byte.
struct StartupPacket {
  enum class Kind { startup, ssl, gssenc, cancel } kind = Kind::startup;
  std::int32_t version = 0;                       // kProtocolV3 for a startup
  std::map<std::string, std::string> params;      // user, database, application_name, options ...
  std::int32_t cancel_pid = 0, cancel_secret = 0; // CancelRequest
};

// `body` is the packet after its 4-byte length. invalid_argument (08P01) for anything malformed,
// unsupported protocol versions included (0A000 is reported by the caller from the version).
Result<StartupPacket> decode_startup(std::string_view body);

// Reads big-endian fields from a message body; every read is bounds-checked.
class Reader final {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::optional<std::int16_t> i16();
  std::optional<std::int32_t> i32();
  std::optional<std::uint8_t> byte();
  std::optional<std::string_view> cstring();          // up to the NUL, which is consumed
  std::optional<std::string_view> bytes(std::size_t n);
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool done() const noexcept { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// Appends backend messages to one output buffer (written to the socket in one go).
class Writer final {
 public:
  void begin(char type);  // starts a message; end() patches its length
  void end();
  void i16(std::int16_t v);
  void i32(std::int32_t v);
  void byte(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void cstring(std::string_view s);
  void raw(std::string_view s) { out_.append(s); }

  std::string& buffer() noexcept { return out_; }
  void clear() noexcept { out_.clear(); }

 private:
  std::string out_;
  std::size_t start_ = 0;
};

// Frontend messages after the startup phase.
struct ParseMsg { std::string name, query; std::vector<std::int32_t> param_types; };
struct BindMsg {
  std::string portal, statement;
  std::vector<std::int16_t> param_formats;
  std::vector<std::optional<std::string>> params;  // nullopt = NULL
  std::vector<std::int16_t> result_formats;
};
struct DescribeMsg { char kind = 'S'; std::string name; };  // 'S' statement, 'P' portal
struct ExecuteMsg { std::string portal; std::int32_t max_rows = 0; };
struct CloseMsg { char kind = 'S'; std::string name; };

Result<ParseMsg> decode_parse(std::string_view body);
Result<BindMsg> decode_bind(std::string_view body);
Result<DescribeMsg> decode_describe(std::string_view body);
Result<ExecuteMsg> decode_execute(std::string_view body);
Result<CloseMsg> decode_close(std::string_view body);
Result<std::string> decode_query(std::string_view body);
// SASLInitialResponse: mechanism and the client-first message.
struct SaslInitial { std::string mechanism; std::string data; };
Result<SaslInitial> decode_sasl_initial(std::string_view body);

// Backend messages.
struct ErrorFields {
  std::string severity = "ERROR";
  std::string sqlstate;  // 5 characters
  std::string message;
  std::string detail, hint;
};
void write_error(Writer& w, const ErrorFields& e, char type = 'E');  // 'N' for a NoticeResponse
void write_auth(Writer& w, std::int32_t code, std::string_view data = {});
void write_parameter_status(Writer& w, std::string_view name, std::string_view value);
void write_ready(Writer& w, char status);
void write_command_complete(Writer& w, std::string_view tag);
void write_empty_message(Writer& w, char type);  // '1' ParseComplete, '2' BindComplete, '3' CloseComplete, 'n', 'I', 's'

}  // namespace etl::pgwire
