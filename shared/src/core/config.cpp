// Over 400 lines on purpose: every environment variable the services read is
// parsed and validated here and nowhere else (docs/contract.md §3), so a reader
// finds each one, its default and its accepted forms in one file.
#include "etl/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <tuple>

#include "etl/json_text.h"
#include "etl/schedule.h"

extern char** environ;

namespace etl {

const char* to_string(OutputFormat f) noexcept {
  switch (f) {
    case OutputFormat::parquet: return "parquet";
    case OutputFormat::csv: return "csv";
    case OutputFormat::jsonl: return "jsonl";
  }
  return "parquet";
}

const char* file_extension(OutputFormat f) noexcept { return to_string(f); }

bool is_spotify_id(std::string_view id) noexcept {
  return id.size() == 22 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

bool is_country_code(std::string_view code) noexcept {
  // ISO 3166-1 alpha-2, the 249 officially assigned codes, and XK.
  static constexpr std::string_view kCodes =
      "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW "
      "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI "
      "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN "
      "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
      "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF "
      "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
      "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK "
      "YE YT ZA ZM ZW";
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') return false;
  for (std::size_t i = 0; i + 2 <= kCodes.size(); i += 3)
    if (kCodes.substr(i, 2) == code) return true;
  return false;
}

Status validate_source(const SourceSpec& s) {
  if (s.type == SourceType::search) {
    // Characters, not bytes: UTF-8 continuation bytes (10xxxxxx) do not start one.
    const auto characters =
        std::count_if(s.id.begin(), s.id.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; });
    if (characters < 1 || characters > 200)
      return make_error(Errc::invalid_argument, "search query must be 1 to 200 characters");
    if (!is_utf8(s.id)) return make_error(Errc::invalid_argument, "search query must be UTF-8 text");
    return {};
  }
  if (!is_spotify_id(s.id))
    return make_error(Errc::invalid_argument, "invalid Spotify id '" + s.id + "' for " + std::string(to_string(s.type)) +
                                                  ": expected 22 base62 characters");
  return {};
}

Result<SourceType> parse_source_type_or_error(std::string_view text) {
  if (auto type = parse_source_type(text)) return *type;
  return make_error(Errc::invalid_argument,
                    "unknown source type '" + std::string(text) + "' (accepted: playlist, album, artist-albums, search)");
}

Result<SourceSpec> parse_source_spec(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return make_error(Errc::invalid_argument, "source '" + std::string(text) +
                                                  "' is not <type>:<id> (playlist:<id>, album:<id>, "
                                                  "artist-albums:<id>, search:<query>)");
  auto type = parse_source_type_or_error(text.substr(0, colon));
  if (!type) return std::move(type).error();
  SourceSpec s{*type, std::string(text.substr(colon + 1))};
  ETL_RETURN_IF_ERROR(validate_source(s));
  return s;
}

Result<HostPort> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return make_error(Errc::invalid_argument, "expected host:port or :port");
  HostPort hp;
  if (colon > 0) hp.host = std::string(text.substr(0, colon));
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
    for (char c : hp.host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return make_error(Errc::invalid_argument, "'" + hp.host + "' is not an IPv6 address");
  } else {
    // An IPv4 address or a host name (letters, digits, '.', '-'); a bare IPv6 address needs brackets.
    for (char c : hp.host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
        return make_error(Errc::invalid_argument, "'" + hp.host + "' is not a host name or address (an IPv6 address goes in brackets: [::1]:8083)");
  }
  auto port_text = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), hp.port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || hp.port < 0 || hp.port > 65535)
    return make_error(Errc::invalid_argument, "port must be a number from 0 to 65535");
  return hp;
}

Environment process_env() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

std::optional<std::string> env_value(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

namespace {

// A configuration error is one line, whatever the value it quotes holds: control
// characters are written as escapes.
std::string one_line(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string line;
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      line += static_cast<char>(c);
      continue;
    }
    switch (c) {
      case '\n': line += "\\n"; break;
      case '\r': line += "\\r"; break;
      case '\t': line += "\\t"; break;
      default:
        line += "\\x";
        line += hex[c >> 4];
        line += hex[c & 15];
    }
  }
  return line;
}

// Collects the first error with the variable's name in front.
class Reader {
 public:
  Reader(const Environment& env, Config& cfg) : env_(env), cfg_(cfg) {}

  std::optional<std::string> get(const std::string& name) {
    auto value = env_value(env_, name);
    // Once each: a variable may be read twice (ETL_PG_ADDR: "off", else an address).
    if (value && std::find(cfg_.set_variables.begin(), cfg_.set_variables.end(), name) == cfg_.set_variables.end())
      cfg_.set_variables.push_back(name);
    return value;
  }

  void fail(const std::string& name, const std::string& why) {
    if (!error_) error_ = make_error(Errc::invalid_argument, one_line(name + ": " + why));
  }

  void string(const std::string& name, std::string& out) {
    if (auto v = get(name)) out = *v;
  }

  void choice(const std::string& name, std::string& out, std::initializer_list<const char*> accepted) {
    auto v = get(name);
    if (!v) return;
    std::string lowered = *v;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
    std::string list;
    for (const char* a : accepted) {
      if (lowered == a) {
        out = lowered;
        return;
      }
      list += list.empty() ? a : std::string(", ") + a;
    }
    fail(name, "'" + *v + "' is not one of: " + list);
  }

  template <class Int>
  void integer(const std::string& name, Int& out, Int min, Int max) {
    auto v = get(name);
    if (!v) return;
    Int parsed{};
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (ec != std::errc{} || p != v->data() + v->size() || parsed < min || parsed > max) {
      fail(name, "'" + *v + "' is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      return;
    }
    out = parsed;
  }

  void bytes(const std::string& name, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    auto v = get(name);
    if (!v) return;
    auto parsed = parse_byte_size(*v);
    if (!parsed || *parsed < min || *parsed > max)
      return fail(name, "'" + *v + "' is not a size from " + std::to_string(min) + " to " + std::to_string(max) +
                            " bytes (digits with an optional K, M, G or T suffix)");
    out = *parsed;
  }

  void number(const std::string& name, double& out, double min, double max) {
    auto v = get(name);
    if (!v) return;
    // Decimal digits with an optional fraction (strtod alone also takes " 5", "0x10", "1e2", "inf").
    const bool decimal = !v->empty() && std::all_of(v->begin(), v->end(), [](unsigned char c) {
      return std::isdigit(c) || c == '.';
    }) && std::count(v->begin(), v->end(), '.') <= 1 && std::isdigit(static_cast<unsigned char>(v->front()));
    char* end = nullptr;
    double parsed = decimal ? std::strtod(v->c_str(), &end) : 0;
    if (!decimal || end != v->c_str() + v->size() || !(parsed >= min && parsed <= max)) {
      auto text = [](double d) {
        std::string t = std::to_string(d);
        while (t.back() == '0') t.pop_back();
        if (t.back() == '.') t.pop_back();
        return t;
      };
      fail(name, "'" + *v + "' is not a decimal number from " + text(min) + " to " + text(max));
      return;
    }
    out = parsed;
  }

  void address(const std::string& name, HostPort& out) {
    auto v = get(name);
    if (!v) return;
    auto hp = parse_host_port(*v);
    if (!hp) return fail(name, "'" + *v + "': " + hp.error().message);
    out = *hp;
  }

  void boolean(const std::string& name, bool& out) {
    auto v = get(name);
    if (!v) return;
    if (*v == "true" || *v == "1") out = true;
    else if (*v == "false" || *v == "0") out = false;
    else fail(name, "'" + *v + "' is not true or false");
  }

  void store_url(const std::string& name, std::string& out) {
    auto v = get(name);
    if (!v) return;
    bool file = v->rfind("file://", 0) == 0 && v->size() > 7;
    bool s3 = v->rfind("s3://", 0) == 0 && v->size() > 5 && (*v)[5] != '/';
    if (!file && !s3) return fail(name, "'" + *v + "' is not file:///abs/path, file://./rel/path or s3://bucket/prefix");
    out = *v;
  }

  void http_url(const std::string& name, std::string& out) {
    auto v = get(name);
    if (!v) return;
    if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0)
      return fail(name, "'" + *v + "' is not an http:// or https:// URL");
    const std::string_view rest = std::string_view(*v).substr(v->find("//") + 2);
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    if (host.empty() || host.front() == ':' || host.find_first_of(" \t") != std::string_view::npos)
      return fail(name, "'" + *v + "' names no host (http://host[:port][/path])");
    while (v->size() > 8 && v->back() == '/') v->pop_back();
    out = *v;
  }

  void fail(const Error& e) {
    if (error_) return;
    error_ = e;
    error_->message = one_line(e.message);
  }

  std::optional<Error> error() const { return error_; }

 private:
  const Environment& env_;
  Config& cfg_;
  std::optional<Error> error_;
};

// STS's RoleSessionName: [\w+=,.@-]{2,64}.
bool is_role_session_name(const std::string& s) {
  return s.size() >= 2 && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 || std::string_view("_+=,.@-").find(static_cast<char>(c)) != std::string_view::npos;
         });
}

// A folder name that can be a table: [A-Za-z0-9_]+, not starting with '_'.
bool is_table_folder(std::string_view name) {
  return !name.empty() && name.front() != '_' && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_';
  });
}

void read_glue_settings(Reader& r, GlueSettings& glue) {
  r.string("ETL_GLUE_CRAWLER_ROLE", glue.crawler_role);
  r.boolean("ETL_GLUE_CREATE", glue.create);
  std::string recrawl = glue.recrawl_new_folders ? "new-folders" : "everything";
  r.choice("ETL_GLUE_RECRAWL", recrawl, {"new-folders", "everything"});
  glue.recrawl_new_folders = recrawl == "new-folders";
  r.choice("ETL_GLUE_ICEBERG_REGISTRATION", glue.iceberg_registration, {"direct", "crawler"});
  auto crawlers = r.get("ETL_GLUE_CRAWLERS");
  if (!crawlers) return;
  std::string_view rest = *crawlers;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string table(item.substr(0, eq));
    std::string name = eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1));
    if (!is_table_folder(table) || name.empty())
      return r.fail("ETL_GLUE_CRAWLERS", "must be table=crawler pairs separated by commas (songs_data=my-crawler,...)");
    glue.crawlers[table] = name;
  }
}

void read_catalog_cache_settings(Reader& r, CatalogCacheSettings& cache) {
  r.choice("ETL_CATALOG_READS", cache.reads, {"in_place", "mirror"});
  r.string("ETL_DUCKDB_EXTENSION_DIR", cache.extension_dir);
  r.string("ETL_CATALOG_CACHE_DIR", cache.dir);
  if (auto max = r.get("ETL_CATALOG_CACHE_MAX_BYTES")) {
    auto bytes = parse_byte_size(*max);
    if (!bytes || *bytes < (1u << 20))
      r.fail("ETL_CATALOG_CACHE_MAX_BYTES", "must be a size of at least 1M (bytes, or with a K/M/G/T suffix), got '" +
                                                *max + "'");
    else
      cache.max_bytes = *bytes;
  }
  std::string verify = cache.verify_md5 ? "md5" : "etag";
  r.choice("ETL_CATALOG_CACHE_VERIFY", verify, {"md5", "etag"});
  cache.verify_md5 = verify == "md5";
}

void read_http_settings(Reader& r, HttpSettings& http) {
  std::string open = http.allow_open ? "true" : "false";
  r.choice("ETL_ALLOW_OPEN", open, {"true", "false"});
  http.allow_open = open == "true";
  r.integer("ETL_HTTP_MAX_CONNECTIONS", http.max_connections, 16, 65536);
  long long timeout = http.request_timeout.count();
  r.integer("ETL_HTTP_REQUEST_TIMEOUT_S", timeout, 1LL, 600LL);
  http.request_timeout = std::chrono::seconds(timeout);
  if (auto hosts = r.get("ETL_HTTP_ALLOWED_HOSTS")) {
    std::string_view rest = *hosts;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string item(rest.substr(0, comma));
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      std::transform(item.begin(), item.end(), item.begin(), ::tolower);
      bool ok = !item.empty() && std::all_of(item.begin(), item.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
      });
      if (!ok) return r.fail("ETL_HTTP_ALLOWED_HOSTS", "'" + item + "' is not a host name (letters, digits, . - : [ ])");
      http.allowed_hosts.push_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

// Both files or neither; when given, they must load and match (checked here, at start-up).
void read_pg_tls_settings(Reader& r, Config& cfg) {
  r.string("ETL_PG_TLS_CERT", cfg.pg_tls_cert);
  r.string("ETL_PG_TLS_KEY", cfg.pg_tls_key);
  r.boolean("ETL_PG_TLS_REQUIRED", cfg.pg_tls_required);
  if (cfg.pg_tls_cert.empty() != cfg.pg_tls_key.empty())
    return r.fail(cfg.pg_tls_cert.empty() ? "ETL_PG_TLS_CERT" : "ETL_PG_TLS_KEY",
                  "must be set together with " + std::string(cfg.pg_tls_cert.empty() ? "ETL_PG_TLS_KEY" : "ETL_PG_TLS_CERT") +
                      " (the PostgreSQL endpoint's TLS certificate and key files)");
  if (cfg.pg_tls_cert.empty()) {
    if (cfg.pg_tls_required) r.fail("ETL_PG_TLS_REQUIRED", "needs ETL_PG_TLS_CERT and ETL_PG_TLS_KEY (no TLS without a certificate)");
    return;
  }
  if (Status s = check_tls_key_pair(cfg.pg_tls_cert, cfg.pg_tls_key); !s.ok()) r.fail(s.error());
}

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || p == text.data()) return std::nullopt;
  std::string suffix(p, text.data() + text.size());
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.size() > 1 && suffix.back() == 'B') suffix.pop_back();
  if (suffix.size() > 1 && suffix.back() == 'I') suffix.pop_back();
  int shift = suffix.empty() || suffix == "B" ? 0 : suffix == "K" ? 10 : suffix == "M" ? 20 : suffix == "G" ? 30 : suffix == "T" ? 40 : -1;
  if (shift < 0 || (shift > 0 && value > (UINT64_MAX >> shift))) return std::nullopt;
  return value << shift;
}

Result<Config> load_config(const Environment& env, const ConfigDefaults& defaults) {
  Config cfg;
  cfg.bus = defaults.bus;
  Reader r(env, cfg);

  r.address("ETL_EXTRACTOR_ADDR", cfg.extractor_addr);
  r.address("ETL_TRANSFORMER_ADDR", cfg.transformer_addr);
  r.address("ETL_CATALOGER_ADDR", cfg.cataloger_addr);
  if (auto pg = r.get("ETL_PG_ADDR")) {
    if (*pg == "off") cfg.pg_enabled = false;
    else r.address("ETL_PG_ADDR", cfg.pg_addr), cfg.pg_addr_set = true;
  }
  r.integer("ETL_PG_MAX_CONNECTIONS", cfg.pg_max_connections, 1, 10000);
  r.bytes("ETL_PG_MAX_MESSAGE_BYTES", cfg.pg_max_message_bytes, std::uint64_t{4096}, std::uint64_t{1} << 30);
  r.integer("ETL_PG_IDLE_TIMEOUT_S", cfg.pg_idle_timeout_s, 1, 86400);
  r.integer("ETL_PG_READ_TIMEOUT_S", cfg.pg_read_timeout_s, 1, 3600);
  r.integer("ETL_PG_STATEMENT_TIMEOUT_MS", cfg.pg_statement_timeout_ms, 1, 3600000);
  read_pg_tls_settings(r, cfg);
  r.string("ETL_API_TOKEN", cfg.api_token);
  r.string("ETL_READ_TOKEN", cfg.read_token);
  if (!cfg.read_token.empty() && cfg.api_token.empty())
    r.fail("ETL_READ_TOKEN", "set ETL_API_TOKEN too: a read-only token without it would leave every endpoint open");
  else if (!cfg.read_token.empty() && cfg.read_token == cfg.api_token)
    r.fail("ETL_READ_TOKEN", "must differ from ETL_API_TOKEN");
  read_http_settings(r, cfg.http);

  r.string("SPOTIFY_CLIENT_ID", cfg.spotify_client_id);
  r.string("SPOTIFY_CLIENT_SECRET", cfg.spotify_client_secret);
  r.http_url("SPOTIFY_API_URL", cfg.spotify_api_url);
  r.http_url("SPOTIFY_ACCOUNTS_URL", cfg.spotify_accounts_url);
  if (auto market = r.get("SPOTIFY_MARKET")) {
    if (!is_country_code(*market)) r.fail("SPOTIFY_MARKET", "'" + *market + "' is not an ISO 3166-1 alpha-2 country code like US");
    cfg.spotify_market = *market;
  }
  if (auto sources = r.get("ETL_SOURCES")) {
    std::string_view rest = *sources;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) {
        auto spec = parse_source_spec(item);
        if (!spec) {
          r.fail("ETL_SOURCES", spec.error().message);
          break;
        }
        cfg.sources.push_back(*spec);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (auto schedule = r.get("ETL_SCHEDULE")) {
    auto parsed = Schedule::parse(*schedule);
    if (!parsed) r.fail("ETL_SCHEDULE", parsed.error().message);
    cfg.schedule = *schedule;
  }
  r.integer("ETL_SEARCH_MAX_RESULTS", cfg.search_max_results, 1, 1000);
  long long max_wait = cfg.spotify_max_retry_after.count();
  r.integer("ETL_SPOTIFY_MAX_RETRY_AFTER_S", max_wait, 0LL, 3600LL);
  cfg.spotify_max_retry_after = std::chrono::seconds(max_wait);
  r.integer("ETL_SPOTIFY_MAX_RETRIES", cfg.spotify_max_retries, 0, 20);
  r.number("ETL_SPOTIFY_RATE", cfg.spotify_rate_per_s, 0.1, 1000.0);
  r.integer("ETL_EXTRACT_PARALLELISM", cfg.extract_parallelism, 1, 64);

  r.store_url("ETL_RAW_URL", cfg.raw_url);
  r.store_url("ETL_TRANSFORMED_URL", cfg.transformed_url);
  std::string format = to_string(cfg.output_format);
  r.choice("ETL_OUTPUT_FORMAT", format, {"parquet", "csv", "jsonl"});
  cfg.output_format = format == "csv" ? OutputFormat::csv : format == "jsonl" ? OutputFormat::jsonl : OutputFormat::parquet;
  r.bytes("ETL_MAX_RAW_OBJECT_BYTES", cfg.max_raw_object_bytes, std::uint64_t{1024}, std::uint64_t{1} << 40);
  r.bytes("ETL_MAX_REQUEST_BODY_BYTES", cfg.max_request_body_bytes, std::uint64_t{1024}, std::uint64_t{1} << 30);
  r.integer("ETL_TRANSFORM_BATCH_EVENTS", cfg.transform_batch_events, 1, 100000);
  r.bytes("ETL_TRANSFORM_BATCH_BYTES", cfg.transform_batch_bytes, std::uint64_t{1024}, std::uint64_t{1} << 40);
  r.integer("ETL_TRANSFORM_LINGER_MS", cfg.transform_linger_ms, 0, 600000);
  r.integer("ETL_TRANSFORM_WINDOW", cfg.transform_window, 1, 1000000);
  r.bytes("ETL_TRANSFORM_WINDOW_BYTES", cfg.transform_window_bytes, std::uint64_t{1024}, std::uint64_t{1} << 40);
  r.integer("ETL_TRANSFORM_CONCURRENCY", cfg.transform_concurrency, 1, 256);

  if (auto region = r.get("AWS_REGION")) cfg.aws.region = *region;
  else if (auto fallback = r.get("AWS_DEFAULT_REGION")) cfg.aws.region = *fallback;
  r.string("AWS_ACCESS_KEY_ID", cfg.aws.access_key_id);
  r.string("AWS_SECRET_ACCESS_KEY", cfg.aws.secret_access_key);
  r.string("AWS_SESSION_TOKEN", cfg.aws.session_token);
  r.http_url("AWS_ENDPOINT_URL", cfg.aws.endpoint_url);
  r.http_url("AWS_ENDPOINT_URL_S3", cfg.aws.endpoint_url_s3);
  r.http_url("AWS_ENDPOINT_URL_GLUE", cfg.aws.endpoint_url_glue);
  r.http_url("AWS_ENDPOINT_URL_ATHENA", cfg.aws.endpoint_url_athena);
  r.http_url("AWS_ENDPOINT_URL_STS", cfg.aws.endpoint_url_sts);
  r.string("AWS_ROLE_ARN", cfg.aws.role_arn);
  r.string("AWS_WEB_IDENTITY_TOKEN_FILE", cfg.aws.web_identity_token_file);
  r.string("AWS_ROLE_SESSION_NAME", cfg.aws.role_session_name);
  // As the SDKs: static keys win and the web identity variables are then ignored;
  // a token file without a role is a mistake, a role alone is not a web identity.
  const bool static_keys = !cfg.aws.access_key_id.empty() && !cfg.aws.secret_access_key.empty();
  if (!static_keys && !cfg.aws.web_identity_token_file.empty() && cfg.aws.role_arn.empty())
    r.fail("AWS_ROLE_ARN", "must be set with AWS_WEB_IDENTITY_TOKEN_FILE (web identity / IRSA): the IAM role to assume");
  if (!cfg.aws.role_session_name.empty() && !is_role_session_name(cfg.aws.role_session_name))
    r.fail("AWS_ROLE_SESSION_NAME", "'" + cfg.aws.role_session_name +
                                        "' is not 2 to 64 characters of letters, digits and _+=,.@-");

  r.choice("ETL_BUS", cfg.bus, {"memory", "kafka"});
  r.string("ETL_KAFKA_BOOTSTRAP_SERVERS", cfg.kafka_bootstrap_servers);
  r.string("ETL_TOPIC_RAW", cfg.topic_raw);
  r.string("ETL_TOPIC_TRANSFORMED", cfg.topic_transformed);
  r.string("ETL_TOPIC_DLQ", cfg.topic_dlq);
  r.integer("ETL_TOPIC_PARTITIONS", cfg.topic_partitions, 1, 10000);
  r.integer("ETL_TOPIC_REPLICATION", cfg.topic_replication, -1, 1000);
  if (cfg.topic_replication == 0) r.fail("ETL_TOPIC_REPLICATION", "'0' is not a replica count: use 1 to 1000, or -1 for the broker's default");
  // Any other ETL_KAFKA_<NAME> becomes the librdkafka property <name> (lower-case, _ -> .).
  constexpr std::string_view kafka_prefix = "ETL_KAFKA_";
  for (const auto& [name, value] : env) {
    if (name.rfind(kafka_prefix, 0) != 0 || name == "ETL_KAFKA_BOOTSTRAP_SERVERS" || value.empty()) continue;
    std::string property = name.substr(kafka_prefix.size());
    std::transform(property.begin(), property.end(), property.begin(),
                   [](unsigned char c) { return c == '_' ? '.' : static_cast<char>(std::tolower(c)); });
    cfg.kafka_properties[property] = value;
    cfg.set_variables.push_back(name);
  }

  r.choice("ETL_CATALOG", cfg.catalog, {"local", "glue"});
  // Glue's crawler route stays what ETL_CATALOG=glue alone means; its Iceberg route
  // (the cataloger registers its commits in Glue) is asked for with ETL_TABLE_FORMAT=iceberg.
  if (cfg.catalog == "glue") cfg.table_format = "hive";
  r.choice("ETL_TABLE_FORMAT", cfg.table_format, {"iceberg", "hive"});
  long long retention = cfg.iceberg_snapshot_retention.count();
  r.integer("ETL_ICEBERG_SNAPSHOT_RETENTION_S", retention, 0LL, 3650LL * 86400);
  cfg.iceberg_snapshot_retention = std::chrono::seconds(retention);
  r.integer("ETL_ICEBERG_MIN_SNAPSHOTS", cfg.iceberg_min_snapshots, 1, 100000);
  r.integer("ETL_ICEBERG_MAX_SNAPSHOTS", cfg.iceberg_max_snapshots, 1, 100000);
  if (cfg.iceberg_max_snapshots < cfg.iceberg_min_snapshots)
    r.fail("ETL_ICEBERG_MAX_SNAPSHOTS", std::to_string(cfg.iceberg_max_snapshots) + " is below ETL_ICEBERG_MIN_SNAPSHOTS (" +
                                            std::to_string(cfg.iceberg_min_snapshots) + "), the snapshots never expired");
  long long maintenance = cfg.iceberg_maintenance_interval.count();
  r.integer("ETL_ICEBERG_MAINTENANCE_INTERVAL_S", maintenance, 0LL, 7LL * 86400);
  cfg.iceberg_maintenance_interval = std::chrono::seconds(maintenance);
  long long orphan_age = cfg.iceberg_orphan_age.count();
  r.integer("ETL_ICEBERG_ORPHAN_AGE_S", orphan_age, 0LL, 3650LL * 86400);
  if (orphan_age > 0 && orphan_age < 600)
    r.fail("ETL_ICEBERG_ORPHAN_AGE_S", "is " + std::to_string(orphan_age) +
                                           ": under 600 s a commit still in flight could lose its new files (0 turns "
                                           "orphan removal off)");
  cfg.iceberg_orphan_age = std::chrono::seconds(orphan_age);
  r.bytes("ETL_ICEBERG_TARGET_FILE_BYTES", cfg.iceberg_target_file_bytes, std::uint64_t{1} << 20, std::uint64_t{1} << 40);
  r.bytes("ETL_ICEBERG_MANIFEST_CACHE_BYTES", cfg.iceberg_manifest_cache_bytes, std::uint64_t{0}, std::uint64_t{1} << 40);
  r.choice("ETL_ICEBERG_VENDED_CREDENTIALS", cfg.iceberg_vended_credentials, {"off", "sts"});
  r.string("ETL_ICEBERG_VENDED_ROLE_ARN", cfg.iceberg_vended_role_arn);
  long long vended_ttl = cfg.iceberg_vended_ttl.count();
  r.integer("ETL_ICEBERG_VENDED_TTL_S", vended_ttl, 900LL, 43200LL);
  cfg.iceberg_vended_ttl = std::chrono::seconds(vended_ttl);
  if (cfg.iceberg_vended_credentials == "sts") {
    if (cfg.iceberg_vended_role_arn.empty())
      r.fail("ETL_ICEBERG_VENDED_ROLE_ARN", "is required with ETL_ICEBERG_VENDED_CREDENTIALS=sts: the role whose "
                                            "credentials readers get, cut down to one table");
    if (cfg.transformed_url.rfind("s3://", 0) != 0)
      r.fail("ETL_ICEBERG_VENDED_CREDENTIALS", "'sts' vends S3 credentials, but ETL_TRANSFORMED_URL is not s3://");
  }
  r.string("ETL_GLUE_DATABASE", cfg.glue_database);
  r.choice("ETL_QUERY_ENGINE", cfg.query_engine, {"duckdb", "athena"});
  r.string("ETL_ATHENA_WORKGROUP", cfg.athena_workgroup);
  if (auto output = r.get("ETL_ATHENA_OUTPUT")) {
    if (output->rfind("s3://", 0) != 0) r.fail("ETL_ATHENA_OUTPUT", "'" + *output + "' is not an s3://bucket/prefix location");
    cfg.athena_output = *output;
  }

  read_glue_settings(r, cfg.glue);
  read_catalog_cache_settings(r, cfg.catalog_cache);
  // The DuckDB query endpoint.
  r.bytes("ETL_QUERY_MEMORY_LIMIT", cfg.query_memory_limit, std::uint64_t{64} << 20, std::uint64_t{1} << 44);
  r.choice("ETL_QUERY_ISOLATION", cfg.query_isolation, {"process", "none"});
  r.bytes("ETL_QUERY_PROCESS_MEMORY", cfg.query_process_memory, std::uint64_t{128} << 20, std::uint64_t{1} << 44);
  long long kill_grace = cfg.query_kill_grace.count();
  r.integer("ETL_QUERY_KILL_GRACE_MS", kill_grace, 100LL, 600000LL);
  cfg.query_kill_grace = std::chrono::milliseconds(kill_grace);
  for (auto [name, wait, lowest] : {std::tuple{"ETL_QUERY_PROCESS_START_TIMEOUT_MS", &cfg.query_process_start_timeout, 1000LL},
                                     std::tuple{"ETL_QUERY_PROCESS_SYNC_TIMEOUT_MS", &cfg.query_process_sync_timeout, 1000LL},
                                     std::tuple{"ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS", &cfg.query_process_reply_timeout, 100LL}}) {
    long long ms = wait->count();
    r.integer(name, ms, lowest, 3600000LL);
    *wait = std::chrono::milliseconds(ms);
  }
  r.bytes("ETL_QUERY_MAX_TEMP_BYTES", cfg.query_max_temp_bytes, std::uint64_t{0}, std::uint64_t{1} << 46);
  r.bytes("ETL_QUERY_RESIDENT_BYTES", cfg.query_resident_bytes, std::uint64_t{0}, std::uint64_t{1} << 44);
  r.boolean("ETL_QUERY_S3_METADATA_CACHE", cfg.query_s3_metadata_cache);
  r.string("ETL_QUERY_DATA_DIR", cfg.query_data_dir);
  long long max_timeout = cfg.query_max_timeout.count();
  r.integer("ETL_QUERY_MAX_TIMEOUT_MS", max_timeout, 100LL, 3600000LL);
  cfg.query_max_timeout = std::chrono::milliseconds(max_timeout);
  r.integer("ETL_QUERY_WORKERS", cfg.query_workers, 1, 256);
  r.integer("ETL_QUERY_MAX_QUEUED", cfg.query_max_queued, 1, 100000);
  r.bytes("ETL_QUERY_RESULTS_MAX_BYTES", cfg.query_results_max_bytes, std::uint64_t{0}, std::uint64_t{1} << 46);
  long long results_ttl = cfg.query_results_ttl.count();
  r.integer("ETL_QUERY_RESULTS_TTL_S", results_ttl, 1LL, 365LL * 86400);
  cfg.query_results_ttl = std::chrono::seconds(results_ttl);

  r.choice("ETL_LOG_LEVEL", cfg.log_level, {"trace", "debug", "info", "warn", "error"});
  r.choice("ETL_LOG_FORMAT", cfg.log_format, {"json", "text"});

  if (auto err = r.error()) return *err;
  return cfg;
}

}  // namespace etl
