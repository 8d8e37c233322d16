#include "fair_queue.h"

#include <algorithm>

namespace etl::cataloger {

FairQueue::Push FairQueue::admits(const std::string& client) const {
  if (size_ >= capacity_) return Push::full;
  auto it = by_client_.find(client);
  if (it != by_client_.end() && it->second.size() >= per_client()) return Push::client_full;
  return Push::queued;
}

FairQueue::Push FairQueue::push(const std::string& client, const std::string& id) {
  if (Push p = admits(client); p != Push::queued) return p;
  auto& mine = by_client_[client];
  if (mine.empty()) turn_.push_back(client);
  mine.push_back(id);
  ++size_;
  return Push::queued;
}

std::optional<std::string> FairQueue::pop() {
  return pop([](const std::string&) { return true; });
}

std::optional<std::string> FairQueue::pop(const std::function<bool(const std::string& client)>& may_run) {
  auto next = std::find_if(turn_.begin(), turn_.end(), may_run);
  if (next == turn_.end()) return std::nullopt;
  std::string client = std::move(*next);
  turn_.erase(next);
  auto it = by_client_.find(client);
  std::string id = std::move(it->second.front());
  it->second.pop_front();
  --size_;
  if (it->second.empty()) by_client_.erase(it);
  else turn_.push_back(std::move(client));
  return id;
}

bool FairQueue::remove(const std::string& id) {
  for (auto it = by_client_.begin(); it != by_client_.end(); ++it) {
    auto pos = std::find(it->second.begin(), it->second.end(), id);
    if (pos == it->second.end()) continue;
    it->second.erase(pos);
    --size_;
    if (it->second.empty()) {
      turn_.erase(std::find(turn_.begin(), turn_.end(), it->first));
      by_client_.erase(it);
    }
    return true;
  }
  return false;
}

std::deque<std::string> FairQueue::drain() {
  std::deque<std::string> out;
  for (auto& [client, ids] : by_client_) out.insert(out.end(), ids.begin(), ids.end());
  by_client_.clear();
  turn_.clear();
  size_ = 0;
  return out;
}

}  // namespace etl::cataloger
