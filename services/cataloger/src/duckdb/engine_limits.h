// The memory DuckDB may use, from the container's limit: a pod killed by the
// kernel takes every dashboard with it, a query over the engine's limit fails alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "etl/result.h"

namespace etl::cataloger {

// The limit in a cgroup file (v2 memory.max, v1 memory.limit_in_bytes); nullopt
// for "max", v1's "unlimited" (a huge number) or anything unreadable.
std::optional<std::uint64_t> parse_cgroup_memory(std::string_view text);

// This process's cgroup memory limit: v2 `<root>/memory.max`, else v1
// `<root>/memory/memory.limit_in_bytes`.
std::optional<std::uint64_t> cgroup_memory_limit(const std::filesystem::path& root = "/sys/fs/cgroup");

inline constexpr std::uint64_t kDefaultEngineMemory = 2ull << 30;  // without a cgroup limit
inline constexpr std::uint64_t kMinEngineMemory = 64ull << 20;
// Below this memory_limit no table is kept in memory (ETL_QUERY_RESIDENT_BYTES).
inline constexpr std::uint64_t kMinResidentEngineMemory = 256ull << 20;

// ETL_QUERY_MEMORY_LIMIT when set (non-zero); else half the cgroup limit (the rest
// is for the result cache, HTTP and the catalog), at least 64 MiB; else 2 GiB.
std::uint64_t engine_memory_limit(std::uint64_t configured, std::optional<std::uint64_t> cgroup);

// The query engine process's data cap (ETL_QUERY_PROCESS_MEMORY, engine_process.h):
// `configured` when set (non-zero), else the engine's memory_limit and half as
// much again, at least 512 MiB more (thread stacks, the result being built, and
// what the allocator keeps mapped). invalid_argument, naming both variables, when
// the configured cap leaves DuckDB's memory_limit less than 128 MiB of room.
Result<std::uint64_t> engine_process_memory(std::uint64_t configured, std::uint64_t engine_memory);

// The bytes the tables' in-memory copies may hold: ETL_QUERY_RESIDENT_BYTES, at
// most a quarter of the engine's memory_limit (the copies share it with the
// queries), and 0 below kMinResidentEngineMemory (loading a copy there fails queries).
inline std::uint64_t resident_budget(std::uint64_t configured, std::uint64_t engine_memory) {
  if (engine_memory < kMinResidentEngineMemory) return 0;
  return configured < engine_memory / 4 ? configured : engine_memory / 4;
}

}  // namespace etl::cataloger
