// The Kafka consumer of the event bus: commits on ack only, only for partitions
// it still owns; keep_alive() pauses delivery while the caller waits out an outage.
#include <algorithm>

#include "etl/consumer_loop.h"
#include "kafka_bus.h"

namespace etl {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kEnsureTimeout{5000};
constexpr std::chrono::seconds kSubscribeRetry{5};
constexpr int kCommitTimeoutMs = 5000;
constexpr std::chrono::milliseconds kCloseTimeout{5000};

std::string names(const rd_kafka_topic_partition_list_t* list) {
  std::string out;
  for (int i = 0; list && i < list->cnt; ++i) {
    if (!out.empty()) out += ",";
    out += std::string(list->elems[i].topic) + "[" + std::to_string(list->elems[i].partition) + "]";
  }
  return out;
}

void log_and_destroy(rd_kafka_error_t* error, const char* what) {
  if (error == nullptr) return;
  log::error(what, {{"error", rd_kafka_error_string(error)}});
  rd_kafka_error_destroy(error);
}

}  // namespace

KafkaConsumer::KafkaConsumer(std::shared_ptr<KafkaBus> bus, std::vector<std::string> topics, std::string group)
    : bus_(std::move(bus)), topics_(std::move(topics)), group_(std::move(group)) {}

KafkaConsumer::~KafkaConsumer() { close(); }

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::create(std::shared_ptr<KafkaBus> bus, std::vector<std::string> topics,
                                                            std::string group) {
  if (topics.empty()) return make_error(Errc::invalid_argument, "subscribe needs at least one topic");
  if (group.empty()) return make_error(Errc::invalid_argument, "subscribe needs a consumer group");
  auto properties = kafka::client_properties(bus->config(), kafka::Role::consumer, bus->client_id(), group);
  if (!properties) return std::move(properties).error();
  auto conf = kafka::make_conf(*properties);
  if (!conf) return std::move(conf).error();

  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer(std::move(bus), std::move(topics), std::move(group)));
  consumer->cooperative_ = kafka::cooperative_rebalancing(*properties);
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaConsumer::rebalance_callback);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaConsumer::error_callback);
  rd_kafka_conf_set_log_cb(conf->get(), &kafka::log_callback);
  char errstr[512] = "";
  consumer->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof errstr);
  if (consumer->rk_ == nullptr) return make_error(Errc::invalid_argument, std::string("kafka consumer: ") + errstr);
  (void)conf->release();  // rd_kafka_new took it
  // Rebalances, errors and logs are served by poll() from here on.
  rd_kafka_poll_set_consumer(consumer->rk_);
  consumer->try_subscribe();
  return consumer;
}

bool KafkaConsumer::try_subscribe() {
  if (subscribed_) return true;
  if (Clock::now() < next_subscribe_) return false;
  // Subscribing to a missing topic would leave the consumer idle until librdkafka's
  // next metadata refresh (minutes): make sure the topics exist first.
  Status ensured = bus_->ensure_topics(topics_, kEnsureTimeout);
  if (!ensured.ok() && is_transient_error(ensured.error().code)) {
    next_subscribe_ = Clock::now() + kSubscribeRetry;
    log::warn("kafka consumer waits for the brokers before subscribing",
              {{"group", group_}, {"error", ensured.error().message}});
    return false;
  }
  if (!ensured.ok())
    log::warn("kafka topics could not be checked or created; subscribing anyway",
              {{"group", group_}, {"error", ensured.error().message}});
  kafka::PartitionsPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size())));
  for (const auto& t : topics_) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    next_subscribe_ = Clock::now() + kSubscribeRetry;
    log::error("kafka subscribe failed", {{"group", group_}, {"error", rd_kafka_err2str(err)}});
    return false;
  }
  subscribed_ = true;
  return true;
}

Result<std::optional<Message>> KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  if (closed_) return make_error(Errc::cancelled, "consumer closed");
  if (!try_subscribe()) {
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(kSubscribeRetry)));
    return std::optional<Message>{};
  }
  resume_paused();
  {
    std::lock_guard lock(mutex_);
    if (!stash_.empty()) {
      Message m = std::move(stash_.front());
      stash_.pop_front();
      return std::optional<Message>(std::move(m));
    }
  }
  const int ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, 3'600'000));
  kafka::MessagePtr raw(rd_kafka_consumer_poll(rk_, ms));
  if (!raw) return std::optional<Message>{};
  if (raw->err != RD_KAFKA_RESP_ERR_NO_ERROR) return consumer_error(raw.get());
  return std::optional<Message>(take(raw.get()));
}

Message KafkaConsumer::take(const rd_kafka_message_t* raw) {
  Message m;
  m.topic = rd_kafka_topic_name(raw->rkt);
  m.partition = raw->partition;
  m.offset = raw->offset;
  if (raw->key) m.key.assign(static_cast<const char*>(raw->key), raw->key_len);
  if (raw->payload) m.value.assign(static_cast<const char*>(raw->payload), raw->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(raw, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) m.headers = kafka::from_kafka_headers(headers);
  std::lock_guard lock(mutex_);
  if (auto it = assigned_.find({m.topic, m.partition}); it != assigned_.end()) it->second.delivered(m.offset);
  return m;
}

Result<std::optional<Message>> KafkaConsumer::consumer_error(const rd_kafka_message_t* raw) {
  const std::string text = rd_kafka_message_errstr(raw);
  if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::optional<Message>{};
  if (raw->err == RD_KAFKA_RESP_ERR__FATAL) {
    char reason[512] = "";
    rd_kafka_fatal_error(rk_, reason, sizeof reason);
    return make_error(Errc::internal, std::string("kafka consumer fatal error: ") + reason);
  }
  // Broker and topic trouble: librdkafka retries by itself; report and carry on.
  errors_.note(rd_kafka_name(rk_), raw->err, text.c_str());
  return std::optional<Message>{};
}

Status KafkaConsumer::ack(const Message& message) {
  if (closed_) return make_error(Errc::cancelled, "consumer closed; the message is delivered again");
  std::lock_guard serial(commit_mutex_);
  const TopicPartition tp{message.topic, message.partition};
  kafka::PartitionProgress::Ack result;
  {
    std::lock_guard lock(mutex_);
    auto it = assigned_.find(tp);
    if (it != assigned_.end()) result = it->second.acknowledge(message.offset);
  }
  if (!result.known)
    return make_error(Errc::conflict, "kafka: " + message.topic + "[" + std::to_string(message.partition) + "]@" +
                                          std::to_string(message.offset) +
                                          " was not committed: the partition was revoked since it was delivered; "
                                          "its new owner delivers it again");
  if (!result.commit) return {};
  ETL_RETURN_IF_ERROR(commit(tp, *result.commit));
  std::lock_guard lock(mutex_);
  if (auto it = assigned_.find(tp); it != assigned_.end()) it->second.committed(*result.commit);
  return {};
}

Status KafkaConsumer::commit(const TopicPartition& tp, std::int64_t position) {
  kafka::PartitionsPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = position;
  // Synchronous, with our own bound: rd_kafka_commit() could wait for a lost coordinator for long.
  kafka::QueuePtr queue(rd_kafka_queue_new(rk_));
  const std::string what = "kafka: commit of " + tp.first + "[" + std::to_string(tp.second) + "] at " +
                           std::to_string(position);
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_, list.get(), queue.get(), nullptr, nullptr);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), kCommitTimeoutMs));
    if (!event) return make_error(Errc::timeout, what + " not confirmed in time; the message may be delivered again");
    err = rd_kafka_event_error(event.get());
    if (const rd_kafka_topic_partition_list_t* parts = rd_kafka_event_topic_partition_list(event.get());
        err == RD_KAFKA_RESP_ERR_NO_ERROR && parts != nullptr) {
      for (int i = 0; i < parts->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) err = parts->elems[i].err;
    }
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(kafka::errc_for(err), what + " failed: " + rd_kafka_err2str(err) + "; the message may be delivered again");
  return {};
}

void KafkaConsumer::keep_alive() {
  if (closed_ || !subscribed_) return;
  if (!paused_) pause_assigned();
  // Serves heartbeats' companions: rebalances, errors, the max.poll.interval.ms clock.
  // Anything librdkafka hands out before the pause took effect is kept for poll().
  for (int i = 0; i < 100; ++i) {
    kafka::MessagePtr raw(rd_kafka_consumer_poll(rk_, 0));
    if (!raw) break;
    if (raw->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)consumer_error(raw.get());
      continue;
    }
    Message m = take(raw.get());
    std::lock_guard lock(mutex_);
    stash_.push_back(std::move(m));
  }
}

void KafkaConsumer::pause_assigned() {
  paused_ = true;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  kafka::PartitionsPtr list(raw);
  if (list->cnt == 0) return;
  rd_kafka_pause_partitions(rk_, list.get());
  for (int i = 0; i < list->cnt; ++i) paused_set_.emplace(list->elems[i].topic, list->elems[i].partition);
  log::debug("kafka consumer paused while the caller waits", {{"group", group_}, {"partitions", names(list.get())}});
}

void KafkaConsumer::resume_paused() {
  if (!paused_) return;
  paused_ = false;
  if (paused_set_.empty()) return;
  kafka::PartitionsPtr resume(rd_kafka_topic_partition_list_new(static_cast<int>(paused_set_.size())));
  kafka::PartitionsPtr seek(rd_kafka_topic_partition_list_new(static_cast<int>(paused_set_.size())));
  {
    std::lock_guard lock(mutex_);
    for (const auto& tp : paused_set_) {
      rd_kafka_topic_partition_list_add(resume.get(), tp.first.c_str(), tp.second);
      auto it = assigned_.find(tp);
      if (it != assigned_.end() && it->second.next() >= 0)
        rd_kafka_topic_partition_list_add(seek.get(), tp.first.c_str(), tp.second)->offset = it->second.next();
    }
  }
  paused_set_.clear();
  rd_kafka_resume_partitions(rk_, resume.get());
  // Pausing dropped the prefetched messages; fetching must go on right after the last
  // delivered one (held by the caller or in the stash). librdkafka does so from its
  // application position; the explicit seek makes it independent of that bookkeeping.
  if (seek->cnt > 0) log_and_destroy(rd_kafka_seek_partitions(rk_, seek.get(), 2000), "kafka seek after resume failed");
}

void KafkaConsumer::rebalance_callback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                       void* opaque) {
  static_cast<KafkaConsumer*>(opaque)->on_rebalance(err, partitions);
}

void KafkaConsumer::error_callback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  static_cast<KafkaConsumer*>(opaque)->errors_.note(rd_kafka_name(rk), static_cast<rd_kafka_resp_err_t>(err), reason);
}

void KafkaConsumer::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  const bool incremental = cooperative_;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    {
      std::lock_guard lock(mutex_);
      for (int i = 0; i < partitions->cnt; ++i)
        assigned_[{partitions->elems[i].topic, partitions->elems[i].partition}] = kafka::PartitionProgress{};
    }
    if (incremental) log_and_destroy(rd_kafka_incremental_assign(rk_, partitions), "kafka incremental assign failed");
    else if (auto e = rd_kafka_assign(rk_, partitions); e != RD_KAFKA_RESP_ERR_NO_ERROR)
      log::error("kafka assign failed", {{"error", rd_kafka_err2str(e)}});
    if (paused_ && partitions->cnt > 0) {  // assigned during keep_alive(): stay quiet until the next poll()
      rd_kafka_pause_partitions(rk_, partitions);
      for (int i = 0; i < partitions->cnt; ++i) paused_set_.emplace(partitions->elems[i].topic, partitions->elems[i].partition);
    }
    log::write(partitions->cnt ? log::Level::info : log::Level::debug, "kafka partitions assigned",
               {{"group", group_}, {"partitions", names(partitions)}});
    return;
  }

  // Revoked (or an error: give everything up). Nothing is committed here: every
  // acknowledged message was committed by ack(); the rest goes to the new owner.
  kafka::PartitionsPtr owned;
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    log::error("kafka rebalance failed; giving up the assignment", {{"group", group_}, {"error", rd_kafka_err2str(err)}});
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(rk_, &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) owned.reset(raw);
    else owned.reset(rd_kafka_topic_partition_list_new(0));
    partitions = owned.get();
  }
  const bool lost = rd_kafka_assignment_lost(rk_) != 0;
  kafka::PartitionsPtr unpause(rd_kafka_topic_partition_list_new(partitions->cnt));
  {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < partitions->cnt; ++i) {
      TopicPartition tp{partitions->elems[i].topic, partitions->elems[i].partition};
      assigned_.erase(tp);
      if (paused_set_.erase(tp)) rd_kafka_topic_partition_list_add(unpause.get(), tp.first.c_str(), tp.second);
    }
    std::erase_if(stash_, [&](const Message& m) { return !assigned_.count({m.topic, m.partition}); });
  }
  // A partition that comes back later must not come back paused.
  if (unpause->cnt > 0) rd_kafka_resume_partitions(rk_, unpause.get());
  if (incremental) log_and_destroy(rd_kafka_incremental_unassign(rk_, partitions), "kafka incremental unassign failed");
  else if (auto e = rd_kafka_assign(rk_, nullptr); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    log::error("kafka unassign failed", {{"error", rd_kafka_err2str(e)}});
  log::write(partitions->cnt ? log::Level::info : log::Level::debug, lost ? "kafka partitions lost" : "kafka partitions revoked",
             {{"group", group_}, {"partitions", names(partitions)}});
}

void KafkaConsumer::close() {
  if (closed_.exchange(true) || rk_ == nullptr) return;
  bool left = false;
  if (subscribed_) {
    // Give the partitions up first, through the usual poll path, so the close
    // itself has none to revoke: librdkafka 2.0.2 can block for good in an
    // (incremental) unassign made from a rebalance event of the close
    // (librdkafka #4527, #4884; our test watchdog caught one in
    // rd_kafka_incremental_unassign). Messages fetched meanwhile are not
    // acknowledged: the next owner gets them.
    if (rd_kafka_unsubscribe(rk_) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto deadline = Clock::now() + kCloseTimeout;
      auto holds_partitions = [this] {
        std::lock_guard lock(mutex_);
        return !assigned_.empty();
      };
      while (holds_partitions() && Clock::now() < deadline) kafka::MessagePtr dropped(rd_kafka_consumer_poll(rk_, 100));
    }
    kafka::QueuePtr queue(rd_kafka_queue_new(rk_));
    if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(rk_, queue.get())) {
      log_and_destroy(error, "kafka consumer close failed");
    } else {
      // Bounded, unlike rd_kafka_consumer_close(): shutdown has 10 s in all.
      const auto deadline = Clock::now() + kCloseTimeout;
      while (!rd_kafka_consumer_closed(rk_) && Clock::now() < deadline) {
        kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), 100));
        if (event && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_REBALANCE)
          on_rebalance(rd_kafka_event_error(event.get()), rd_kafka_event_topic_partition_list(event.get()));
      }
      left = rd_kafka_consumer_closed(rk_) != 0;
      if (!left) log::warn("kafka consumer did not leave its group in time; the group notices at session timeout", {{"group", group_}});
    }
  } else {
    left = true;  // never joined
  }
  if (left) rd_kafka_destroy(rk_);
  else rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  rk_ = nullptr;
  std::lock_guard lock(mutex_);
  assigned_.clear();
  stash_.clear();
}

std::vector<std::pair<std::string, std::int32_t>> KafkaConsumer::assignment() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::int32_t>> out;
  for (const auto& [tp, progress] : assigned_) out.push_back(tp);
  return out;
}

}  // namespace etl
