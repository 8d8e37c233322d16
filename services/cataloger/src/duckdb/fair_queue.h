// The run queue of the query manager: bounded, one FIFO per client, served
// round-robin across clients, so one dashboard's 40 queries wait behind each other
// and not in front of another client's one. A client may hold at most half of
// the queue (at least one place), so the others always find room.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace etl::cataloger {

class FairQueue final {
 public:
  explicit FairQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  enum class Push { queued, full, client_full };
  Push push(const std::string& client, const std::string& id);
  // What push would answer now for `client`.
  Push admits(const std::string& client) const;
  // The next id, taking clients in turn; nullopt when empty.
  std::optional<std::string> pop();
  // The same, skipping clients `may_run` says no to (they keep their turn).
  std::optional<std::string> pop(const std::function<bool(const std::string& client)>& may_run);
  // Takes a queued id out (cancelled before it ran); false when not queued.
  bool remove(const std::string& id);
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t per_client() const noexcept { return capacity_ / 2 == 0 ? 1 : capacity_ / 2; }
  // Every queued id, in no particular order, and empties the queue.
  std::deque<std::string> drain();

 private:
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::map<std::string, std::deque<std::string>> by_client_;
  std::deque<std::string> turn_;  // clients with queued ids, next to serve first
};

}  // namespace etl::cataloger
