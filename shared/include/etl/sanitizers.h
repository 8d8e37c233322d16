// Whether this build runs under AddressSanitizer (ETL_SANITIZE=1, the fuzz
// builds): its shadow memory counts against RLIMIT_DATA, and it reports fatal
// signals itself.
#pragma once

namespace etl {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace etl
