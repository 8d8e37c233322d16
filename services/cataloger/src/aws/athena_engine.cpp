#include "athena_engine.h"

#include <algorithm>
#include <cctype>

#include "athena_types.h"
#include "etl/log.h"
#include "ids.h"
#include "sql_guard.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// Athena's QueryExecutionIds are UUIDs; anything else is not worth a call.
bool looks_like_execution_id(const std::string& id) {
  if (id.size() < 8 || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '-'; });
}

// Athena answers InvalidRequestException "QueryExecution <id> was not found" for an unknown id.
bool is_unknown_execution(const aws::Reply& reply) {
  if (reply.error.type == "ResourceNotFoundException" || reply.error.type == "EntityNotFoundException") return true;
  std::string m = reply.error.message;
  for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return reply.error.type == "InvalidRequestException" && m.find("not found") != std::string::npos;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  // "YYYY-MM-DDTHH:MM:SS[.fff]Z", as the catalogs write updated_at.
  if (text.size() < 20) return std::nullopt;
  try {
    using namespace std::chrono;
    int y = std::stoi(text.substr(0, 4)), mo = std::stoi(text.substr(5, 2)), d = std::stoi(text.substr(8, 2));
    int h = std::stoi(text.substr(11, 2)), mi = std::stoi(text.substr(14, 2)), s = std::stoi(text.substr(17, 2));
    sys_days day = year_month_day{year{y}, month{static_cast<unsigned>(mo)}, std::chrono::day{static_cast<unsigned>(d)}};
    return system_clock::time_point(day + hours{h} + minutes{mi} + seconds{s});
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Athena's answers are read with nlohmann's accessors, which throw on a field of
// another type than Athena's: such an answer is Athena (or whatever stands in
// for it) failing, an `unavailable` error, not an exception out of a thread.
template <class Read>
auto read_answer(const char* op, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::exception& e) {
    return make_error(Errc::unavailable, std::string("Athena answered ") + op + " in a shape it does not use: " + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<AthenaEngine>> AthenaEngine::open(const AwsConfig& aws, AthenaEngineOptions options,
                                                         std::shared_ptr<Catalog> catalog,
                                                         aws::JsonClientOptions client_options) {
  if (!options.output_location.empty() && !options.output_location.starts_with("s3://"))
    return make_error(Errc::invalid_argument, "ETL_ATHENA_OUTPUT must be an s3:// URL, got '" + options.output_location + "'");
  if (options.workgroup.empty()) return make_error(Errc::invalid_argument, "ETL_ATHENA_WORKGROUP must not be empty");
  auto client = aws::JsonClient::create(aws, aws::athena_service(), client_options);
  if (!client) return std::move(client).error();
  return std::make_unique<AthenaEngine>(std::move(client).value(), std::move(options), std::move(catalog));
}

AthenaEngine::AthenaEngine(std::unique_ptr<aws::JsonClient> client, AthenaEngineOptions options,
                           std::shared_ptr<Catalog> catalog)
    : client_(std::move(client)), options_(std::move(options)), catalog_(std::move(catalog)) {}

AthenaEngine::~AthenaEngine() { stop(); }

void AthenaEngine::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  stopping_ = false;
  running_ = true;
  monitor_ = std::thread([this] { monitor(); });
}

void AthenaEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  changed_cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
}

json AthenaEngine::reuse_configuration(const QueryRequest& request) {
  if (!request.max_age || request.max_age->count() <= 0) return json::object();
  long long minutes = (request.max_age->count() + 59) / 60;
  if (catalog_) {
    // Athena reuses by age only, blind to new data: never reuse past the last
    // change of a table the statement names.
    auto tables = catalog_->list_tables();
    if (!tables) return json::object();  // cannot tell how old the data is: do not reuse
    auto names = referenced_names(request.sql);
    auto now = std::chrono::system_clock::now();
    for (const auto& t : *tables) {
      std::string lower = t.name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!names.contains(lower)) continue;
      auto changed = parse_rfc3339(t.updated_at);
      if (!changed) continue;
      long long since = std::chrono::duration_cast<std::chrono::minutes>(now - *changed).count();
      minutes = std::min(minutes, since);
    }
  }
  if (minutes < 1) return json::object();
  return {{"ResultReuseByAgeConfiguration", {{"Enabled", true}, {"MaxAgeInMinutes", minutes}}}};
}

Result<QueryStatus> AthenaEngine::start(const QueryRequest& request) {
  if (request.sql.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(Errc::invalid_argument, "sql is required");
  if (request.max_rows < 1 || request.max_rows > kMaxPageRows)
    return make_error(Errc::invalid_argument, "max_rows must be between 1 and 1000");
  if (request.timeout.count() <= 0) return make_error(Errc::invalid_argument, "timeout_ms must be positive");
  if (!request.as_of.empty())
    return make_error(Errc::invalid_argument, "as_of (time travel) needs ETL_QUERY_ENGINE=duckdb over Iceberg tables");
  ETL_RETURN_IF_ERROR(check_read_only_sql(request.sql));
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(Errc::unavailable, "the cataloger is shutting down");
  }

  json body = {{"QueryString", request.sql},
               {"ClientRequestToken", new_id()},  // retries of this call start one query, not several
               {"QueryExecutionContext", {{"Database", options_.database}}},
               {"WorkGroup", options_.workgroup}};
  if (!options_.output_location.empty()) body["ResultConfiguration"] = {{"OutputLocation", options_.output_location}};
  if (json reuse = reuse_configuration(request); !reuse.empty()) body["ResultReuseConfiguration"] = reuse;
  const auto submitted = Clock::now();
  auto started = client_->call("StartQueryExecution", body);
  if (!started) return std::move(started).error();
  auto given = started->find("QueryExecutionId");
  if (given == started->end() || !given->is_string() || given->get_ref<const std::string&>().empty())
    return make_error(Errc::unavailable, "Athena StartQueryExecution answered without a QueryExecutionId");
  const std::string id = given->get<std::string>();

  std::lock_guard lock(mutex_);
  Record record;
  record.status.query_id = id;
  record.status.engine = "athena";
  record.status.state = QueryState::queued;
  record.status.submitted_at = now_rfc3339();
  record.max_rows = request.max_rows;
  record.timeout = request.timeout;
  record.deadline = submitted + request.timeout;
  record.poll_delay = options_.poll_initial;
  record.next_poll = Clock::now() + options_.poll_initial;
  auto [it, inserted] = records_.insert_or_assign(id, std::move(record));
  if (inserted) order_.push_back(id);
  active_.insert(id);
  forget_locked();
  changed_cv_.notify_all();
  return it->second.status;
}

void AthenaEngine::forget_locked() {
  while (records_.size() > options_.max_queries && !order_.empty()) {
    const std::string oldest = order_.front();
    if (active_.contains(oldest)) break;
    records_.erase(oldest);
    order_.pop_front();
  }
}

Result<QueryStatus> AthenaEngine::fetch(const std::string& query_id) {
  auto reply = client_->send("GetQueryExecution", {{"QueryExecutionId", query_id}});
  if (!reply) return std::move(reply).error();
  if (!reply->ok()) {
    if (is_unknown_execution(*reply)) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
    return client_->to_error("GetQueryExecution", *reply);
  }
  auto qe = reply->body.find("QueryExecution");
  if (qe == reply->body.end() || !qe->is_object())
    return make_error(Errc::unavailable, "Athena GetQueryExecution answered without a QueryExecution");
  return read_answer("GetQueryExecution", [&]() -> Result<QueryStatus> {
    QueryStatus s = status_from_execution(*qe);
    if (s.query_id.empty()) s.query_id = query_id;
    return s;
  });
}

void AthenaEngine::apply_locked(Record& r, QueryStatus fresh) {
  if (is_terminal(r.status.state)) return;  // a timeout we decided stays a timeout
  const std::string submitted_at = r.status.submitted_at;
  if (fresh.state == QueryState::cancelled && !r.cancel_requested)
    fresh.error = make_error(Errc::cancelled, "cancelled in Athena (StopQueryExecution from elsewhere)");
  else if (fresh.state == QueryState::cancelled)
    fresh.error = make_error(Errc::cancelled, "cancelled on request");
  r.status = std::move(fresh);
  if (r.status.submitted_at.empty()) r.status.submitted_at = submitted_at;
  if (is_terminal(r.status.state)) {
    active_.erase(r.status.query_id);
    if (r.status.state == QueryState::failed && r.status.error && r.status.error->code != Errc::invalid_argument)
      log::warn("Athena query failed", {{"query_id", r.status.query_id}, {"error", r.status.error->message}});
    changed_cv_.notify_all();
  }
}

AthenaEngine::Record& AthenaEngine::adopt_locked(const QueryStatus& status) {
  auto [it, inserted] = records_.try_emplace(status.query_id);
  Record& r = it->second;
  if (inserted) {
    order_.push_back(status.query_id);
    r.status = status;
    r.timeout = options_.adopted_timeout;
    r.deadline = Clock::now() + options_.adopted_timeout;
    r.poll_delay = options_.poll_initial;
    r.next_poll = Clock::now() + options_.poll_initial;
    if (!is_terminal(status.state)) active_.insert(status.query_id);
    forget_locked();
    changed_cv_.notify_all();
  }
  return r;
}

Result<QueryStatus> AthenaEngine::status(const std::string& query_id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = records_.find(query_id); it != records_.end()) return it->second.status;
  }
  if (!looks_like_execution_id(query_id)) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
  auto fetched = fetch(query_id);
  if (!fetched) return std::move(fetched).error();
  std::lock_guard lock(mutex_);
  return adopt_locked(*fetched).status;
}

Result<QueryStatus> AthenaEngine::wait(const std::string& query_id, milliseconds max_wait) {
  auto known = status(query_id);  // adopts a query started elsewhere
  if (!known) return known;
  std::unique_lock lock(mutex_);
  auto terminal = [&] {
    auto it = records_.find(query_id);
    return stopping_ || it == records_.end() || is_terminal(it->second.status.state);
  };
  if (!running_) {
    // No monitor (tests, or before start()): poll from here.
    auto until = Clock::now() + max_wait;
    while (!terminal() && Clock::now() < until) {
      lock.unlock();
      poll(query_id);
      lock.lock();
      if (terminal()) break;
      auto it = records_.find(query_id);
      auto next = std::min(until, it->second.next_poll);
      changed_cv_.wait_until(lock, next);
    }
  } else {
    changed_cv_.wait_for(lock, max_wait, terminal);
  }
  auto it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "' (forgotten)");
  return it->second.status;
}

// One GetQueryExecution of an active query, and what follows from it: the next
// poll (backing off), or a stop when the deadline passed.
void AthenaEngine::poll(const std::string& id) {
  bool expired = false;
  {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it == records_.end() || is_terminal(it->second.status.state)) return;
    if (Clock::now() >= it->second.deadline) {
      // Decided here, under the lock, so the timeout wins over a late success.
      Record& r = it->second;
      r.status.state = QueryState::failed;
      r.status.error = make_error(Errc::timeout, "the query ran longer than timeout_ms=" +
                                                     std::to_string(r.timeout.count()) + " and was stopped");
      r.status.completed_at = now_rfc3339();
      active_.erase(id);
      changed_cv_.notify_all();
      expired = true;
    }
  }
  if (expired) return expire(id);
  auto fresh = fetch(id);
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return;
  Record& r = it->second;
  if (fresh) {
    apply_locked(r, std::move(fresh).value());
  } else {
    log::warn("cannot poll an Athena query", {{"query_id", id}, {"error", fresh.error().message}});
  }
  r.poll_delay = std::min(options_.poll_max, std::max(options_.poll_initial, r.poll_delay * 2));
  r.next_poll = std::min(Clock::now() + r.poll_delay, r.deadline);
}

// Past its deadline: Athena is asked to stop (the record already says FAILED, timeout).
void AthenaEngine::expire(const std::string& id) {
  auto stopped = client_->call("StopQueryExecution", {{"QueryExecutionId", id}});
  if (!stopped) log::warn("cannot stop a timed-out Athena query", {{"query_id", id}, {"error", stopped.error().message}});
}

void AthenaEngine::monitor() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    std::vector<std::string> due;
    for (const auto& id : active_) {
      const Record& r = records_.at(id);
      auto at = std::min(r.next_poll, r.deadline);
      if (at <= now) due.push_back(id);
      else next = std::min(next, at);
    }
    if (due.empty()) {
      changed_cv_.wait_until(lock, next);
      continue;
    }
    lock.unlock();
    for (const auto& id : due) poll(id);
    lock.lock();
  }
}

Result<QueryPage> AthenaEngine::page(const std::string& query_id, const std::string& next_token) {
  auto known = status(query_id);
  if (!known) return std::move(known).error();
  if (known->state != QueryState::succeeded)
    return make_error(Errc::conflict, "query " + query_id + " is " + to_string(known->state) + ", it has no result");
  std::size_t max_rows = kMaxPageRows;
  {
    std::lock_guard lock(mutex_);
    auto it = records_.find(query_id);
    if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "' (forgotten)");
    max_rows = it->second.max_rows;
    if (!next_token.empty() && !it->second.tokens.contains(next_token))
      return make_error(Errc::invalid_argument, "next_token is not one this query handed out");
  }
  const bool first = next_token.empty();
  // The first page of a SELECT starts with a header row: ask for one more.
  json body = {{"QueryExecutionId", query_id},
               {"MaxResults", std::min<std::size_t>(kMaxPageRows, max_rows + (first ? 1 : 0))}};
  if (!first) body["NextToken"] = next_token;
  auto reply = client_->send("GetQueryResults", body);
  if (!reply) return std::move(reply).error();
  if (!reply->ok()) {
    if (is_unknown_execution(*reply)) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
    return client_->to_error("GetQueryResults", *reply);
  }
  QueryPage page;
  page.query_id = query_id;
  page.engine = "athena";
  auto read = read_answer("GetQueryResults", [&]() -> Status {
    const json result_set = reply->body.value("ResultSet", json::object());
    const auto columns = athena_columns(result_set.value("ResultSetMetadata", json::object()));
    const json rows = result_set.value("Rows", json::array());
    page.columns = column_infos(columns);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (first && i == 0 && is_header_row(rows[i], columns)) continue;
      page.rows.push_back(athena_row_json(rows[i], columns));
    }
    return {};
  });
  if (!read.ok()) return std::move(read).error();
  if (auto t = reply->body.find("NextToken"); t != reply->body.end() && t->is_string() && !t->get<std::string>().empty())
    page.next_token = t->get<std::string>();
  page.result_location = known->result_location;
  page.stats = known->stats;

  std::lock_guard lock(mutex_);
  if (auto it = records_.find(query_id); it != records_.end()) {
    Record& r = it->second;
    if (page.next_token) r.tokens.insert(*page.next_token);
    if (first) r.rows_read = 0;
    r.rows_read += page.rows.size();
    // Athena does not count a result's rows; once the last page was read the count is exact.
    r.status.stats.rows = r.rows_read;
    page.stats.rows = r.rows_read;
  }
  return page;
}

Result<QueryStatus> AthenaEngine::cancel(const std::string& query_id) {
  auto known = status(query_id);
  if (!known) return known;
  if (is_terminal(known->state)) return known;
  {
    std::lock_guard lock(mutex_);
    if (auto it = records_.find(query_id); it != records_.end()) it->second.cancel_requested = true;
  }
  auto stopped = client_->call("StopQueryExecution", {{"QueryExecutionId", query_id}});
  if (!stopped) return std::move(stopped).error();
  std::lock_guard lock(mutex_);
  auto it = records_.find(query_id);
  if (it == records_.end()) return known;
  Record& r = it->second;
  // Athena acknowledges at once and says CANCELLED on the next poll: make that soon.
  r.poll_delay = options_.poll_initial;
  r.next_poll = Clock::now();
  changed_cv_.notify_all();
  return r.status;
}

Status AthenaEngine::ping() {
  auto reply = client_->call("GetWorkGroup", {{"WorkGroup", options_.workgroup}});
  if (!reply) return std::move(reply).error();
  auto wg = reply->find("WorkGroup");
  if (wg == reply->end() || !wg->is_object())
    return make_error(Errc::unavailable, "Athena workgroup '" + options_.workgroup + "' does not exist");
  return {};
}

}  // namespace etl::cataloger
