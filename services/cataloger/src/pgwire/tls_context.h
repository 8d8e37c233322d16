// The PostgreSQL endpoint's TLS server context, from the PEM certificate (chain)
// and key of ETL_PG_TLS_CERT / ETL_PG_TLS_KEY: TLS 1.2 or newer, no renegotiation,
// no session tickets, ALPN "postgresql" when the client offers it.
#pragma once

#include <memory>
#include <string>

#include "etl/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace etl::pgwire {

struct TlsContextDeleter {
  void operator()(SSL_CTX* ctx) const noexcept;
};
using TlsContext = std::unique_ptr<SSL_CTX, TlsContextDeleter>;

// invalid_argument with one line when a file does not load or the key does not match.
Result<TlsContext> make_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace etl::pgwire
