#include "engine_limits.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace etl::cataloger {

std::optional<std::uint64_t> parse_cgroup_memory(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || p != text.data() + text.size() || value == 0) return std::nullopt;
  if (value >= (1ull << 60)) return std::nullopt;  // v1 without a limit: 9223372036854771712
  return value;
}

namespace {
std::optional<std::uint64_t> read_limit(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_cgroup_memory(ss.str());
}
}  // namespace

std::optional<std::uint64_t> cgroup_memory_limit(const std::filesystem::path& root) {
  if (std::error_code ec; std::filesystem::exists(root / "memory.max", ec)) return read_limit(root / "memory.max");
  return read_limit(root / "memory" / "memory.limit_in_bytes");
}

std::uint64_t engine_memory_limit(std::uint64_t configured, std::optional<std::uint64_t> cgroup) {
  if (configured > 0) return configured;
  if (cgroup) return std::max(*cgroup / 2, kMinEngineMemory);
  return kDefaultEngineMemory;
}

Result<std::uint64_t> engine_process_memory(std::uint64_t configured, std::uint64_t engine_memory) {
  constexpr std::uint64_t kRoom = 128ull << 20;
  if (configured == 0) return engine_memory + std::max<std::uint64_t>(engine_memory / 2, 512ull << 20);
  if (configured < engine_memory + kRoom)
    return make_error(Errc::invalid_argument,
                      "ETL_QUERY_PROCESS_MEMORY (" + std::to_string(configured >> 20) +
                          " MiB) must be at least 128 MiB above the query engine's memory limit (" +
                          std::to_string(engine_memory >> 20) + " MiB, ETL_QUERY_MEMORY_LIMIT)");
  return configured;
}

}  // namespace etl::cataloger
