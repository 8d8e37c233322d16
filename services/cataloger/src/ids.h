// Ids and clock text shared by the catalog and the query manager.
#pragma once

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "etl/s3_event.h"

namespace etl::cataloger {

// A random UUID (version 4), as Athena and Glue name executions.
inline std::string new_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffull) | 0x0000000000004000ull;
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff), static_cast<unsigned long long>(a & 0xffff),
                static_cast<unsigned long long>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

inline std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

}  // namespace etl::cataloger
