// Ids and clock text shared by the catalog and the query manager.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdint>
#include <sys/random.h>
#include <string>

#include "etl/s3_event.h"

namespace etl::cataloger {

// 64 bits from the kernel's CSPRNG (getrandom).
inline std::uint64_t random_u64() {
  std::uint64_t v = 0;
  auto* p = reinterpret_cast<unsigned char*>(&v);
  for (std::size_t got = 0; got < sizeof v;) {
    ssize_t n = ::getrandom(p + got, sizeof v - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return v;
}

// A random UUID v4 (RFC 9562: 122 bits from the CSPRNG, the version and variant
// bits set), as Athena and Glue name executions and docs/contract.md §4.2 says;
// not guessable from other ids.
inline std::string new_id() {
  std::uint64_t a = random_u64(), b = random_u64();
  a = (a & ~0xf000ull) | 0x4000ull;                  // version 4
  b = (b & ~(0xc000ull << 48)) | (0x8000ull << 48);  // variant 10xx
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xffff), static_cast<unsigned long long>(a & 0xffff),
                static_cast<unsigned long long>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

inline std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

}  // namespace etl::cataloger
