// libFuzzer target for the PostgreSQL endpoint's pure decoders: the startup packet,
// every frontend message body, SCRAM messages, statement splitting and parameter
// binding. Not wired into CMake here (the fuzz infrastructure belongs to another
// change); build by hand, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iservices/cataloger/src
//     -Ishared/include tests/fuzz/pgwire_fuzz.cpp services/cataloger/src/pgwire/{wire,scram,sql_text}.cpp
//     -lssl -lcrypto -o pgwire_fuzz && ./pgwire_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pgwire/scram.h"
#include "pgwire/sql_text.h"
#include "pgwire/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace etl::pgwire;
  switch (data[0] % 10) {
    case 0: (void)decode_startup(in); break;
    case 1: (void)decode_parse(in); break;
    case 2: (void)decode_bind(in); break;
    case 3: (void)decode_describe(in); break;
    case 4: (void)decode_execute(in); break;
    case 5: (void)decode_close(in); break;
    case 6: (void)decode_sasl_initial(in); break;
    case 7: {
      static const ScramSecret secret = make_scram_secret("pencil", "salt", 1);
      ScramExchange exchange(secret, "nonce");
      auto comma = in.find('\n');
      (void)exchange.client_first(in.substr(0, comma));
      if (comma != std::string_view::npos) (void)exchange.client_final(in.substr(comma + 1));
      break;
    }
    case 8: (void)split_statements(in); (void)normalize(in); break;
    case 9: (void)bind_parameters(in, {Param{std::string(in.substr(0, 8)), 0, false}, Param{std::nullopt, 20, false}}); break;
  }
  return 0;
}
