// Topic management and offset queries of the Kafka bus (Admin API, metadata).
#include "kafka_bus.h"

#include <algorithm>

namespace etl {
namespace {

using Clock = std::chrono::steady_clock;

int timeout_ms(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 1, 3'600'000));
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

// The topics the brokers know (all of them), with their partition counts.
Result<std::map<std::string, int>> list_topics(rd_kafka_t* rk, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms(timeout));
  kafka::MetadataPtr metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(kafka::errc_for(err), std::string("kafka metadata request failed: ") + rd_kafka_err2str(err));
  std::map<std::string, int> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    // Just created: listed, leader not elected yet. That is "exists".
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR || t.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      topics.emplace(t.topic, t.partition_cnt);
  }
  return topics;
}

}  // namespace

Status KafkaBus::ensure_topics(const std::vector<std::string>& topics, std::chrono::milliseconds timeout) {
  std::vector<std::string> unchecked;
  {
    std::lock_guard lock(mutex_);
    for (const auto& t : topics)
      if (!t.empty() && t.front() != '^' && !ensured_.count(t)) unchecked.push_back(t);  // '^': a pattern
  }
  if (unchecked.empty()) return {};
  auto producer = this->producer();
  if (!producer) return std::move(producer).error();
  rd_kafka_t* rk = (*producer)->rk;
  const auto deadline = Clock::now() + timeout;

  auto existing = list_topics(rk, timeout);
  if (!existing) {
    return make_error(existing.error().code, "kafka: cannot check topics at " + config_.kafka_bootstrap_servers + ": " +
                                                 existing.error().message +
                                                 (last_error().empty() ? "" : " (last broker error: " + last_error() + ")"));
  }
  std::vector<std::string> missing;
  for (const auto& t : unchecked)
    if (!existing->count(t)) missing.push_back(t);
  if (!missing.empty()) {
    ETL_RETURN_IF_ERROR(create_topics(rk, missing, left_until(deadline)));
    // Created is not yet listed everywhere: a consumer subscribing now must see the topic.
    while (true) {
      auto now_listed = list_topics(rk, left_until(deadline));
      bool all = now_listed.ok() &&
                 std::all_of(missing.begin(), missing.end(), [&](const std::string& t) { return now_listed->count(t) > 0; });
      if (all) break;
      if (Clock::now() >= deadline)
        return make_error(Errc::unavailable, "kafka: created topics are not listed by the brokers yet");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::lock_guard lock(mutex_);
  ensured_.insert(unchecked.begin(), unchecked.end());
  return {};
}

Status KafkaBus::create_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, std::chrono::milliseconds timeout) {
  char errstr[512] = "";
  std::vector<rd_kafka_NewTopic_t*> requests;
  struct Guard {
    std::vector<rd_kafka_NewTopic_t*>& r;
    ~Guard() { rd_kafka_NewTopic_destroy_array(r.data(), r.size()); }
  } guard{requests};
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.c_str(), config_.topic_partitions, config_.topic_replication,
                                                    errstr, sizeof errstr);
    if (nt == nullptr) return make_error(Errc::invalid_argument, "kafka: topic " + t + ": " + errstr);
    requests.push_back(nt);
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, void (*)(rd_kafka_AdminOptions_t*)> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS), &rd_kafka_AdminOptions_destroy);
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms(timeout), errstr, sizeof errstr);
  (void)rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms(timeout), errstr, sizeof errstr);
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, requests.data(), requests.size(), options.get(), queue.get());
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms(timeout) + 1000));
  if (!event) return make_error(Errc::unavailable, "kafka: no answer to CreateTopics in time");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(kafka::errc_for(rd_kafka_event_error(event.get())),
                      std::string("kafka: CreateTopics failed: ") + rd_kafka_event_error_string(event.get()));
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    const std::string name = rd_kafka_topic_result_name(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;  // another service was first
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      std::string hint;
      if (err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR) hint = " (check ETL_TOPIC_REPLICATION)";
      if (err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) hint = " (check ETL_TOPIC_PARTITIONS)";
      return make_error(kafka::errc_for(err), "kafka: topic " + name + " is missing and could not be created: " +
                                                  (why ? why : rd_kafka_err2str(err)) + hint);
    }
    log::info("kafka topic created", {{"topic", name}, {"partitions", config_.topic_partitions},
                                      {"replication", config_.topic_replication}});
  }
  return {};
}

Result<int> KafkaBus::partition_count(const std::string& topic, std::chrono::milliseconds timeout) {
  auto producer = this->producer();
  if (!producer) return std::move(producer).error();
  auto topics = list_topics((*producer)->rk, timeout);
  if (!topics) return std::move(topics).error();
  auto it = topics->find(topic);
  if (it == topics->end()) return make_error(Errc::not_found, "kafka: no topic " + topic);
  return it->second;
}

Result<std::map<std::int32_t, std::int64_t>> KafkaBus::committed_offsets(const std::string& group, const std::string& topic) {
  auto partitions = partition_count(topic, std::chrono::seconds(5));
  if (!partitions) return std::move(partitions).error();
  auto properties = kafka::client_properties(config_, kafka::Role::consumer, client_id_ + "-offsets", group);
  if (!properties) return std::move(properties).error();
  auto conf = kafka::make_conf(*properties);
  if (!conf) return std::move(conf).error();
  rd_kafka_conf_set_log_cb(conf->get(), &kafka::log_callback);
  char errstr[512] = "";
  // A consumer handle that never subscribes: it only asks the group coordinator.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof errstr);
  if (rk == nullptr) return make_error(Errc::invalid_argument, std::string("kafka consumer: ") + errstr);
  (void)conf->release();
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> handle(rk, &rd_kafka_destroy);
  kafka::PartitionsPtr list(rd_kafka_topic_partition_list_new(*partitions));
  for (int p = 0; p < *partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk, list.get(), 5000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(kafka::errc_for(err), std::string("kafka: committed offsets: ") + rd_kafka_err2str(err));
  std::map<std::int32_t, std::int64_t> out;
  for (int i = 0; i < list->cnt; ++i) out[list->elems[i].partition] = list->elems[i].offset < 0 ? -1 : list->elems[i].offset;
  return out;
}

Result<std::map<std::int32_t, std::int64_t>> KafkaBus::end_offsets(const std::string& topic) {
  auto partitions = partition_count(topic, std::chrono::seconds(5));
  if (!partitions) return std::move(partitions).error();
  auto producer = this->producer();
  if (!producer) return std::move(producer).error();
  std::map<std::int32_t, std::int64_t> out;
  for (int p = 0; p < *partitions; ++p) {
    std::int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets((*producer)->rk, topic.c_str(), p, &low, &high, 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return make_error(kafka::errc_for(err), std::string("kafka: end offsets: ") + rd_kafka_err2str(err));
    out[p] = high;
  }
  return out;
}

}  // namespace etl
