#include "pgwire/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "etl/config.h"

namespace etl::pgwire {
namespace {

constexpr unsigned char kAlpn[] = {10, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 'q', 'l'};

int no_passphrase(char*, int, int, void*) { return 0; }

// Picks "postgresql" when the client offers it; no ALPN answer otherwise (older clients send none).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned int in_len,
                void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kAlpn, sizeof kAlpn, in, in_len) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string reason() {
  unsigned long code = ERR_peek_last_error();
  const char* r = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return r ? r : "unknown error";
}

}  // namespace

void TlsContextDeleter::operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }

Result<TlsContext> make_tls_context(const std::string& cert_file, const std::string& key_file) {
  ETL_RETURN_IF_ERROR(check_tls_key_pair(cert_file, key_file));  // the one-line reasons of load_config
  ERR_clear_error();
  TlsContext ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return make_error(Errc::internal, "cannot set up TLS: " + reason());
  SSL_CTX_set_default_passwd_cb(ctx.get(), &no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return make_error(Errc::invalid_argument, "ETL_PG_TLS_CERT/ETL_PG_TLS_KEY: cannot load '" + cert_file + "' and '" +
                                                  key_file + "': " + reason());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_select_cb(ctx.get(), &select_alpn, nullptr);
  return ctx;
}

}  // namespace etl::pgwire
