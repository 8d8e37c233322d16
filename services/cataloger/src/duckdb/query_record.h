// The query manager's private records (shared by query_manager.cpp and
// query_manager_api.cpp only).
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "query_manager.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;

struct QueryManager::Record {
  std::string id;
  QueryRequest request;
  std::vector<PinnedTable> pins;  // as_of, resolved when submitted
  std::set<std::string> reads;    // the tables the SQL names (the result cache's key)
  QueryState state = QueryState::queued;
  std::optional<Error> error;
  QueryStats stats;
  std::string submitted_at;
  std::string completed_at;
  std::string result_location;
  std::weak_ptr<const StoredResult> result;
  Clock::time_point submitted;
  Clock::time_point deadline;
  bool cancel_requested = false;
  bool timed_out = false;
  Clock::time_point interrupted{};  // when the watchdog first interrupted it (timeout or cancel)
  bool killed = false;              // its engine process was killed (kill_grace passed)
  int worker = -1;
};

struct QueryManager::Worker {
  int index = 0;
  std::thread thread;
  std::mutex mutex;  // guards `current` against interrupting the wrong query
  std::string current;
  std::unique_ptr<SqlSession> session;
  // Between a query's start and its execute: syncing views, making a session or
  // pinning tables, each a request to the engine that `session` cannot stop.
  bool setting_up = false;
};

}  // namespace etl::cataloger
