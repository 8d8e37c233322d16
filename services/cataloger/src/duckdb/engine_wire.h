// How the cataloger and its query engine process (engine_process.h) talk, over
// Unix stream sockets they share: a message is a JSON header and byte strings
// after it (rows, CSV), in one frame. Both ends are the same binary, so the
// frame is plain: u64 frame length, u32 part count, then per part u64 length and
// bytes (little-endian, as the machine). Part 0 is the header.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
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

// Writes one message (MSG_NOSIGNAL: a peer gone is an error, not SIGPIPE).
Status write_message(int fd, const Message& message);
// Reads one message; unavailable when the peer closed or the socket failed,
// timeout when `timeout` passed first (none: waits as long as it takes).
Result<Message> read_message(int fd, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// A descriptor passed over a Unix socket (SCM_RIGHTS), with one byte of data.
Status send_fd(int socket, int fd);
Result<int> receive_fd(int socket, std::chrono::milliseconds timeout);

// The values the two ends exchange.
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
