// A GCRA token bucket plus the process's Retry-After block.
#include <algorithm>
#include <cmath>

#include "http_spotify_api.h"

namespace etl::spotify {

namespace {
std::chrono::steady_clock::duration seconds_to_duration(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

RequestGate::RequestGate(std::shared_ptr<Clock> clock, double rate_per_s)
    : clock_(std::move(clock)),
      interval_s_(1.0 / std::max(rate_per_s, 0.001)),
      burst_(std::max(1.0, std::floor(rate_per_s))) {}

Status RequestGate::acquire(std::stop_token stop, std::chrono::seconds max_wait) {
  // First the bucket: reserve a slot, so threads queue in order instead of racing.
  Clock::time_point slot;
  {
    std::lock_guard lock(mutex_);
    auto now = clock_->now();
    auto interval = seconds_to_duration(interval_s_);
    auto tolerance = seconds_to_duration(interval_s_ * (burst_ - 1.0));
    if (tat_ < now) tat_ = now;
    slot = std::max(now, tat_ - tolerance);
    tat_ += interval;
  }
  if (slot > clock_->now() && !clock_->sleep_until(slot, stop))
    return make_error(Errc::cancelled, "stopped while waiting for the Spotify rate limiter");
  // Then the block, re-read after every wake-up: another thread may have met a 429 meanwhile.
  for (;;) {
    Clock::time_point until;
    {
      std::lock_guard lock(mutex_);
      until = blocked_until_;
    }
    auto now = clock_->now();
    if (until <= now) break;
    if (until - now > max_wait) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(until - now).count();
      return make_error(Errc::rate_limited, "Spotify asked this app to wait " + std::to_string(left) +
                                                " s more, over the " + std::to_string(max_wait.count()) +
                                                " s cap (ETL_SPOTIFY_MAX_RETRY_AFTER_S)");
    }
    if (!clock_->sleep_until(until, stop))
      return make_error(Errc::cancelled, "stopped while waiting out Spotify's Retry-After");
  }
  if (stop.stop_requested()) return make_error(Errc::cancelled, "stopped before calling Spotify");
  return {};
}

void RequestGate::block_for(std::chrono::milliseconds wait) {
  std::lock_guard lock(mutex_);
  blocked_until_ = std::max(blocked_until_, clock_->now() + wait);
}

Clock::time_point RequestGate::blocked_until() const {
  std::lock_guard lock(mutex_);
  return blocked_until_;
}

}  // namespace etl::spotify
