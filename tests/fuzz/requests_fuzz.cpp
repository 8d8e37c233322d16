// The request decoding of the three services' routes: a JSON body (or a query
// parameter) in, a request or a clear error out, never a crash; and the same
// text read as a data key and its generation.
#include <cstdlib>
#include <string>

#include "etl/http_server.h"
#include "etl/lake.h"
#include "http_framing.h"
#include "http/routes.h"
#include "../../services/extractor/src/routes.h"
#include "run_record.h"
#include "transformer_service.h"

namespace ex = etl::extractor;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  etl::http::Request req;
  req.method = "POST";
  req.body.assign(reinterpret_cast<const char*>(data), size);
  std::string text = req.body;
  auto body = etl::http::parse_json_object(req);
  if (body) {
    (void)etl::cataloger::parse_query_request(*body);
    (void)etl::cataloger::parse_crawl_request(*body);
    // A run request that parses is validated as the route does (sources, duplicates, market).
    if (auto run = ex::parse_run_request(*body); run) (void)ex::validate_run_request(*run);
    (void)etl::transformer::parse_transform_request(*body);
    (void)etl::transformer::parse_reprocess_request(*body);
  }
  (void)ex::parse_runs_limit(text);
  // The listener's framing rules and the Accept reading on a header value.
  (void)etl::http::framing::check({text}, {});
  (void)etl::http::framing::check({}, {text});
  (void)etl::http::framing::check({text, "5"}, {text});
  etl::http::Request accepting;
  accepting.headers.emplace("Accept", text);
  if (const double q = accepting.quality("text/csv"); !(q >= 0.0 && q <= 1.0)) std::abort();
  (void)etl::transformer::validate_reprocess_prefix(text);
  (void)etl::parse_raw_object_name(text);
  (void)etl::DataKey::parse(text);
  // A key's generation (a listed or announced data key, etl/lake.h "Generations").
  const etl::FileGeneration g = etl::file_generation(text);
  if (g.generation == 0 && g.logical != text) std::abort();
  if (g.generation != 0 && g.logical.size() + 15 != text.size()) std::abort();
  if (g.generation != 0 && etl::superseded_keys({text, g.logical}).count(text)) std::abort();
  if (etl::file_generation(etl::plain_stem(text) + ".parquet").generation != 0) std::abort();
  return 0;
}
