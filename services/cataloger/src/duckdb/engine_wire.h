// How the cataloger and its query engine process (engine_process.h) talk, over
// Unix stream sockets they share: a message is a JSON header and byte strings
// after it (rows, CSV), in one frame. Both ends are the same binary, so the
// frame is plain: u64 frame length, u32 part count, then per part u64 length and
// bytes (little-endian, as the machine). Part 0 is the header.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"
#include "etl/result.h"
#include "pinned_table.h"
#include "sql_engine.h"

namespace etl::cataloger::engine_wire {

struct Message {
  nlohmann::json header;
  std::vector<std::string> parts;  // after the header
};

// Larger frames are refused (a result is at most the query manager's 64 MiB
// bound plus its CSV; anything near this is a broken peer).
inline constexpr std::uint64_t kMaxFrameBytes = 1ull << 30;

// The frame of `message` (tested apart from any socket).
std::string encode(const Message& message);
// invalid_argument for a frame that is cut short, too large, or whose header is not a JSON object.
Result<Message> decode(std::string_view frame);

// Writes one message (MSG_NOSIGNAL: a peer gone is an error, not SIGPIPE);
// timeout when the peer took in less than all of it within `timeout` (none:
// waits as long as it takes).
Status write_message(int fd, const Message& message, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
// Reads one message; unavailable when the peer closed or the socket failed,
// timeout when `timeout` passed first (none: waits as long as it takes).
Result<Message> read_message(int fd, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// A descriptor passed over a Unix socket (SCM_RIGHTS), with one byte of data.
Status send_fd(int socket, int fd);
Result<int> receive_fd(int socket, std::chrono::milliseconds timeout);

// A header's field, or `fallback` when it is missing or of another type. What the
// engine process sends is read as untrusted (it runs hostile SQL): no read throws.
template <class T>
T field(const nlohmann::json& j, const char* key, T fallback) noexcept {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  const nlohmann::json& v = *it;
  try {
    if constexpr (std::is_same_v<T, nlohmann::json>) {
      return v;
    } else if constexpr (std::is_same_v<T, bool>) {
      return v.is_boolean() ? v.get<bool>() : fallback;
    } else if constexpr (std::is_integral_v<T>) {
      // Integers only, and only those T holds (a float or an out-of-range value
      // converted to T would be undefined behaviour).
      if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        return u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(u) : fallback;
      }
      if (v.is_number_integer()) {
        auto i = v.get<std::int64_t>();
        if constexpr (std::is_unsigned_v<T>) {
          return i >= 0 && static_cast<std::uint64_t>(i) <= std::numeric_limits<T>::max() ? static_cast<T>(i) : fallback;
        } else {
          return i >= std::numeric_limits<T>::min() && i <= std::numeric_limits<T>::max() ? static_cast<T>(i) : fallback;
        }
      }
      return fallback;
    } else if constexpr (std::is_same_v<T, std::string>) {
      return v.is_string() ? v.get<std::string>() : fallback;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (!v.is_array()) return fallback;
      T out;
      for (const auto& e : v) {
        if (!e.is_string()) return fallback;
        out.push_back(e.get<std::string>());
      }
      return out;
    } else {
      static_assert(sizeof(T) == 0, "field: a type it does not read");
    }
  } catch (...) {  // only bad_alloc is left
    return fallback;
  }
}

// The values the two ends exchange; the *_from_json never throw (fields of
// another type read as missing).
nlohmann::json to_json(const Error& error);
Error error_from_json(const nlohmann::json& json);
nlohmann::json table_to_json(const TableInfo& table);
TableInfo table_from_json(const nlohmann::json& json);
nlohmann::json partition_to_json(const PartitionInfo& partition);
PartitionInfo partition_from_json(const nlohmann::json& json);
nlohmann::json pinned_to_json(const PinnedTable& pinned);
PinnedTable pinned_from_json(const nlohmann::json& json);

// A statement's outcome: the header says ok (with columns and bytes) or the
// error; the parts are the rows, then the CSV.
Message result_message(Result<ResultSet> result);
Result<ResultSet> result_from_message(Message message);

}  // namespace etl::cataloger::engine_wire
