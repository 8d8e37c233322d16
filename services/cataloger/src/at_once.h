// Runs the items of a list on a few threads at once: the cataloger's crawl is
// chains of store round trips (a table's listing and commit, a file's footer),
// and chains that do not depend on each other need not wait for each other.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace etl::cataloger {

// Calls fn(0) .. fn(count - 1), each once, on up to `at_once` threads (the
// caller's included), and returns when every call has returned. Each call writes
// only what its index owns (results[i]). An exception thrown by a call reaches
// the caller, as it would from a loop, once every thread is done (the first one
// thrown; the items not started by then are skipped), never std::terminate.
template <class Fn>
void for_each_at_once(std::size_t count, std::size_t at_once, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr thrown;
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < count;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!thrown) thrown = std::current_exception();
        next.store(count);  // no new items
      }
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (std::size_t n = 1; n < std::min(at_once, count); ++n) helpers.emplace_back(work);
    work();
  }  // helpers join here
  if (thrown) std::rethrow_exception(thrown);
}

}  // namespace etl::cataloger
