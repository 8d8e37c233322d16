#include "engine_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace etl::cataloger::engine_wire {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void put_u64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

template <class T>
bool take(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

Error broken(const std::string& what) { return make_error(Errc::invalid_argument, "engine message: " + what); }

// Waits until `fd` is readable (or writable: POLLOUT), or the deadline (none: forever).
Status wait_ready(int fd, std::optional<Clock::time_point> deadline, short events = POLLIN) {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return make_error(Errc::timeout, "the query engine process did not answer in time");
      wait_ms = static_cast<int>(std::min<long long>(left, 60000));
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, wait_ms);
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return make_error(Errc::unavailable, std::string("poll: ") + std::strerror(errno));
  }
}

Status read_exact(int fd, char* data, std::size_t size, std::optional<Clock::time_point> deadline) {
  while (size > 0) {
    ETL_RETURN_IF_ERROR(wait_ready(fd, deadline));
    ssize_t n = ::recv(fd, data, size, 0);
    if (n == 0) return make_error(Errc::unavailable, "the query engine connection closed");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(Errc::unavailable, std::string("the query engine connection failed: ") + std::strerror(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

std::string encode(const Message& message) {
  // Never throws: a byte that is not UTF-8 (in a message DuckDB quoted from data) becomes U+FFFD.
  const std::string header = message.header.dump(-1, ' ', false, json::error_handler_t::replace);
  std::size_t total = sizeof(std::uint32_t) + sizeof(std::uint64_t) + header.size();
  for (const auto& p : message.parts) total += sizeof(std::uint64_t) + p.size();
  std::string out;
  out.reserve(sizeof(std::uint64_t) + total);
  put_u64(out, total);
  put_u32(out, static_cast<std::uint32_t>(1 + message.parts.size()));
  put_u64(out, header.size());
  out += header;
  for (const auto& p : message.parts) {
    put_u64(out, p.size());
    out += p;
  }
  return out;
}

Result<Message> decode(std::string_view frame) {
  std::uint64_t total = 0;
  if (!take(frame, total)) return broken("no length");
  if (total > kMaxFrameBytes) return broken("frame of " + std::to_string(total) + " bytes");
  if (total != frame.size()) return broken("length " + std::to_string(total) + " for " + std::to_string(frame.size()));
  std::uint32_t count = 0;
  if (!take(frame, count) || count == 0) return broken("no header");
  Message out;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t size = 0;
    if (!take(frame, size) || size > frame.size()) return broken("part " + std::to_string(i) + " cut short");
    std::string_view part = frame.substr(0, size);
    frame.remove_prefix(size);
    if (i == 0) {
      out.header = json::parse(part, nullptr, false);
      if (!out.header.is_object()) return broken("the header is not a JSON object");
    } else {
      out.parts.emplace_back(part);
    }
  }
  if (!frame.empty()) return broken("bytes after the last part");
  return out;
}

Status write_message(int fd, const Message& message, std::optional<std::chrono::milliseconds> timeout) {
  const std::string frame = encode(message);
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  // With a deadline, never blocked in send: a peer that stopped reading leaves
  // the socket full, and the wait for room is bounded.
  const int flags = MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    ssize_t n = ::send(fd, frame.data() + sent, frame.size() - sent, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (deadline && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ETL_RETURN_IF_ERROR(wait_ready(fd, deadline, POLLOUT));
        continue;
      }
      return make_error(Errc::unavailable, std::string("the query engine connection failed: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  return {};
}

Result<Message> read_message(int fd, std::optional<std::chrono::milliseconds> timeout) {
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  std::uint64_t total = 0;
  ETL_RETURN_IF_ERROR(read_exact(fd, reinterpret_cast<char*>(&total), sizeof total, deadline));
  if (total > kMaxFrameBytes) return broken("frame of " + std::to_string(total) + " bytes");
  std::string frame(sizeof total + total, '\0');
  std::memcpy(frame.data(), &total, sizeof total);
  ETL_RETURN_IF_ERROR(read_exact(fd, frame.data() + sizeof total, total, deadline));
  return decode(frame);
}

namespace {

// One data byte and room for one descriptor, as sendmsg and recvmsg take them.
struct FdMessage {
  char byte = 'S';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;
};

}  // namespace

Status send_fd(int socket, int fd) {
  FdMessage m;
  msghdr& msg = m.msg;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  for (;;) {
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) == 1) return {};
    if (errno != EINTR)
      return make_error(Errc::unavailable, std::string("cannot pass a connection to the query engine: ") + std::strerror(errno));
  }
}

Result<int> receive_fd(int socket, std::chrono::milliseconds timeout) {
  ETL_RETURN_IF_ERROR(wait_ready(socket, Clock::now() + timeout));
  FdMessage m;
  msghdr& msg = m.msg;
  ssize_t n;
  do n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != 1) return make_error(Errc::unavailable, "no connection came with the session request");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
    return make_error(Errc::unavailable, "no connection came with the session request");
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

json to_json(const Error& error) { return {{"code", static_cast<int>(error.code)}, {"message", error.message}}; }

Error error_from_json(const json& j) {
  std::int64_t code = field(j, "code", static_cast<std::int64_t>(Errc::internal));
  if (code < 0 || code > static_cast<std::int64_t>(Errc::internal)) code = static_cast<std::int64_t>(Errc::internal);
  return Error{static_cast<Errc>(code), field(j, "message", std::string("the query engine failed"))};
}

namespace {

json columns_to_json(const std::vector<ColumnInfo>& columns) {
  json out = json::array();
  for (const auto& c : columns) out.push_back({c.name, c.type});
  return out;
}

std::vector<ColumnInfo> columns_from_json(const json& j) {
  std::vector<ColumnInfo> out;
  if (!j.is_array()) return out;
  for (const auto& c : j)
    if (c.is_array() && c.size() == 2 && c[0].is_string() && c[1].is_string())
      out.push_back({c[0].get<std::string>(), c[1].get<std::string>()});
  return out;
}

}  // namespace

json table_to_json(const TableInfo& t) {
  return {{"name", t.name},       {"database", t.database},
          {"location", t.location}, {"format", t.format},
          {"columns", columns_to_json(t.columns)}, {"partition_keys", t.partition_keys},
          {"partitions", t.partitions}, {"version", t.version},
          {"data_version", t.data_version}, {"updated_at", t.updated_at}};
}

TableInfo table_from_json(const json& j) {
  TableInfo t;
  t.name = field(j, "name", std::string());
  t.database = field(j, "database", std::string());
  t.location = field(j, "location", std::string());
  t.format = field(j, "format", std::string());
  t.columns = columns_from_json(field(j, "columns", json::array()));
  t.partition_keys = field(j, "partition_keys", std::vector<std::string>{});
  t.partitions = field(j, "partitions", std::int64_t{0});
  t.version = field(j, "version", std::int64_t{0});
  t.data_version = field(j, "data_version", std::int64_t{0});
  t.updated_at = field(j, "updated_at", std::string());
  return t;
}

json partition_to_json(const PartitionInfo& p) {
  json files = json::array();
  for (const auto& f : p.files)
    files.push_back({f.key, f.size, f.etag, f.format, columns_to_json(f.columns)});
  return {{"values", p.values}, {"location", p.location}, {"files", std::move(files)}};
}

PartitionInfo partition_from_json(const json& j) {
  PartitionInfo p;
  p.values = field(j, "values", std::vector<std::string>{});
  p.location = field(j, "location", std::string());
  for (const auto& f : field(j, "files", json::array())) {
    if (!f.is_array() || f.size() != 5 || !f[0].is_string() || !f[2].is_string() || !f[3].is_string()) continue;
    if (!f[1].is_number_unsigned() && !(f[1].is_number_integer() && f[1].get<std::int64_t>() >= 0)) continue;
    DataFile d;
    d.key = f[0].get<std::string>();
    d.size = f[1].get<std::uint64_t>();
    d.etag = f[2].get<std::string>();
    d.format = f[3].get<std::string>();
    d.columns = columns_from_json(f[4]);
    p.files.push_back(std::move(d));
  }
  return p;
}

json pinned_to_json(const PinnedTable& p) {
  return {{"table", p.table}, {"snapshot_id", p.snapshot_id}, {"columns", p.columns}, {"keys", p.keys}};
}

PinnedTable pinned_from_json(const json& j) {
  PinnedTable p;
  p.table = field(j, "table", std::string());
  p.snapshot_id = field(j, "snapshot_id", std::int64_t{0});
  p.columns = field(j, "columns", std::vector<std::string>{});
  p.keys = field(j, "keys", std::vector<std::string>{});
  return p;
}

Message result_message(Result<ResultSet> result) {
  Message m;
  if (!result) {
    m.header = {{"ok", false}, {"error", to_json(result.error())}};
    return m;
  }
  m.header = {{"ok", true}, {"columns", columns_to_json(result->columns)}, {"bytes", result->bytes}};
  m.parts = std::move(result->rows);
  m.parts.push_back(std::move(result->csv));
  return m;
}

Result<ResultSet> result_from_message(Message m) {
  if (!field(m.header, "ok", false)) return error_from_json(field(m.header, "error", json::object()));
  if (m.parts.empty()) return broken("a result without its CSV");
  ResultSet out;
  out.columns = columns_from_json(field(m.header, "columns", json::array()));
  out.bytes = field(m.header, "bytes", std::size_t{0});
  out.csv = std::move(m.parts.back());
  m.parts.pop_back();
  out.rows = std::move(m.parts);
  return out;
}

}  // namespace etl::cataloger::engine_wire
