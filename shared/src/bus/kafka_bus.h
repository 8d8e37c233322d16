// The Kafka backend of the event bus, on librdkafka's C API.
//
// Producer: one idempotent producer (acks=all) per bus, shared by every thread;
// publish() waits for the delivery report, so it returns only once the brokers
// hold the event (or fails with librdkafka's reason after message.timeout.ms).
//
// Consumer: one librdkafka consumer per subscribe(). Offsets are committed by
// ack() only, synchronously, and only for a partition this consumer still owns;
// what it commits is the lowest offset it delivered and has not seen acknowledged
// (the same contiguous rule as the in-process bus). Assignment is
// cooperative-sticky: a rebalance revokes only the partitions that move, so the
// message in hand on a partition that stays is not thrown away. keep_alive()
// pauses every assigned partition and serves the group protocol without
// delivering; the next poll() resumes them at the next undelivered offset.
//
// Topics are created on first use when missing (ETL_TOPIC_PARTITIONS,
// ETL_TOPIC_REPLICATION). Every ETL_KAFKA_<NAME> applies to producer and
// consumer; the few settings at-least-once depends on cannot be overridden.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "etl/event_bus.h"
#include "etl/log.h"

namespace etl::kafka {

// --- RAII over librdkafka objects -------------------------------------------
struct ConfDeleter { void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); } };
struct HeadersDeleter { void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); } };
struct PartitionsDeleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept { rd_kafka_topic_partition_list_destroy(p); }
};
struct QueueDeleter { void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); } };
struct EventDeleter { void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); } };
struct MessageDeleter { void operator()(rd_kafka_message_t* p) const noexcept { rd_kafka_message_destroy(p); } };
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* p) const noexcept { rd_kafka_metadata_destroy(p); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;
using PartitionsPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionsDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

// --- Pure parts (unit tested without a broker) ------------------------------
enum class Role { producer, consumer };

// librdkafka properties in the order they are applied.
using Properties = std::vector<std::pair<std::string, std::string>>;

// The properties of one client: the bus's defaults, then every ETL_KAFKA_<NAME>
// (they win), then what at-least-once depends on (idempotence, acks=all, no
// auto-commit, the group). An ETL_KAFKA_ variable that contradicts the latter
// is refused with invalid_argument naming it.
Result<Properties> client_properties(const Config& config, Role role, const std::string& client_id,
                                     const std::string& group = {});

// The variable a property comes from: "sasl.password" -> "ETL_KAFKA_SASL_PASSWORD".
std::string env_name(std::string_view property);
// Whether a property holds a secret (passwords, keys): its value never appears in a message.
bool is_secret_property(std::string_view property);
// A librdkafka configuration; a property librdkafka refuses gives invalid_argument
// naming the variable and librdkafka's reason.
Result<ConfPtr> make_conf(const Properties& properties);
// message.timeout.ms (or its alias delivery.timeout.ms) as the properties set it.
std::chrono::milliseconds message_timeout(const Properties& properties);
// Whether partition.assignment.strategy (as the properties set it; librdkafka's
// default is eager) is cooperative. librdkafka refuses a mix of the two kinds, so
// one cooperative assignor decides. Known from the configuration, unlike
// rd_kafka_rebalance_protocol(), which asks the group thread and can wait forever
// once the consumer is closing (librdkafka #4041).
bool cooperative_rebalancing(const Properties& properties);

HeadersPtr to_kafka_headers(const MessageHeaders& headers);
MessageHeaders from_kafka_headers(const rd_kafka_headers_t* headers);

// The Errc of a librdkafka or broker error: outages are unavailable (callers wait them out).
Errc errc_for(rd_kafka_resp_err_t err) noexcept;
// librdkafka logs with syslog levels (0 emergency .. 7 debug).
log::Level log_level_for(int syslog_level) noexcept;

// The offsets of one assigned partition that were delivered and not yet
// acknowledged. The position to commit is the lowest of them, or past the highest
// delivered when none is left: never past an unfinished message.
class PartitionProgress {
 public:
  struct Ack {
    bool known = false;                 // delivered in this assignment (acknowledged before or not)
    std::optional<std::int64_t> commit; // the new position to commit, when it moved
  };
  void delivered(std::int64_t offset);
  Ack acknowledge(std::int64_t offset);
  void committed(std::int64_t position);
  // Highest delivered offset + 1, or -1 when nothing was delivered.
  std::int64_t next() const noexcept { return next_; }

 private:
  std::set<std::int64_t> pending_;
  std::int64_t first_ = -1;  // the first offset delivered in this assignment
  std::int64_t next_ = -1;
  std::int64_t committed_ = -1;
};

// A client's last error (for error messages) and a log line per distinct error,
// repeated at most once a minute: an outage must not flood the log.
class ErrorNotes {
 public:
  void note(const char* client, rd_kafka_resp_err_t err, const char* reason);
  std::string last() const;

 private:
  mutable std::mutex mutex_;
  std::string last_;
  std::string logged_;
  std::chrono::steady_clock::time_point logged_at_{};
};

// librdkafka's log and error callbacks, routed to etl::log.
void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* line);

}  // namespace etl::kafka

namespace etl {

class KafkaBus final : public EventBus, public std::enable_shared_from_this<KafkaBus> {
 public:
  // Checks every property and starts the producer; does not wait for a broker
  // (a service starts while Kafka is down and reports it on /readyz).
  static Result<std::shared_ptr<KafkaBus>> create(const Config& config, const std::string& client_id);
  ~KafkaBus() override;

  Status publish(const std::string& topic, const std::string& key, const std::string& value,
                 const MessageHeaders& headers = {}) override;
  Status publish_batch(const std::string& topic, const std::vector<OutgoingMessage>& messages) override;
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>& topics, const std::string& group) override;
  // A metadata round trip to the brokers, at most 2 s.
  Status ping() override;
  std::string name() const override { return "kafka"; }

  // Creates the topics that do not exist yet and returns once the brokers list
  // them; "already exists" is success. Topics checked once are not checked again.
  Status ensure_topics(const std::vector<std::string>& topics, std::chrono::milliseconds timeout);
  // Partitions of an existing topic (not_found when it does not exist).
  Result<int> partition_count(const std::string& topic, std::chrono::milliseconds timeout);
  // The committed position of `group` per partition of `topic` (-1: none). Tests and tools.
  Result<std::map<std::int32_t, std::int64_t>> committed_offsets(const std::string& group, const std::string& topic);
  // The end offset (next offset to be written) per partition of `topic`.
  Result<std::map<std::int32_t, std::int64_t>> end_offsets(const std::string& topic);

  const Config& config() const noexcept { return config_; }
  const std::string& client_id() const noexcept { return client_id_; }
  // The last broker error the producer saw ("" if none), for error messages.
  std::string last_error() const { return errors_.last(); }

 private:
  // One librdkafka producer; replaced as a whole after a fatal error.
  struct Producer {
    rd_kafka_t* rk;
    explicit Producer(rd_kafka_t* handle) : rk(handle) {}
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;
    ~Producer();
  };
  KafkaBus(Config config, std::string client_id, kafka::Properties properties);
  Result<std::shared_ptr<Producer>> start_producer();
  // The producer to use; replaces one that hit a fatal (idempotence) error.
  Result<std::shared_ptr<Producer>> producer();
  void poll_producer();
  Status create_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, std::chrono::milliseconds timeout);
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  const Config config_;
  const std::string client_id_;
  const kafka::Properties properties_;
  const std::chrono::milliseconds message_timeout_;
  kafka::ErrorNotes errors_;
  std::mutex mutex_;  // producer_, ensured_
  std::shared_ptr<Producer> producer_;
  std::set<std::string> ensured_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

class KafkaConsumer final : public Consumer {
 public:
  static Result<std::unique_ptr<KafkaConsumer>> create(std::shared_ptr<KafkaBus> bus, std::vector<std::string> topics,
                                                       std::string group);
  ~KafkaConsumer() override;

  Result<std::optional<Message>> poll(std::chrono::milliseconds timeout) override;
  // Commits synchronously (at most 5 s). A partition revoked since the message was
  // delivered is not committed (conflict): its new owner delivers the message again.
  Status ack(const Message& message) override;
  // Leaves the group (at most 5 s), committing nothing.
  void close() override;
  void keep_alive() override;

  // The partitions this consumer owns now.
  std::vector<std::pair<std::string, std::int32_t>> assignment() const;

 private:
  using TopicPartition = std::pair<std::string, std::int32_t>;
  KafkaConsumer(std::shared_ptr<KafkaBus> bus, std::vector<std::string> topics, std::string group);
  bool try_subscribe();
  Message take(const rd_kafka_message_t* raw);
  Result<std::optional<Message>> consumer_error(const rd_kafka_message_t* raw);
  void pause_assigned();
  void resume_paused();
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  Status commit(const TopicPartition& tp, std::int64_t position);
  static void rebalance_callback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                 void* opaque);
  static void error_callback(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  std::shared_ptr<KafkaBus> bus_;
  const std::vector<std::string> topics_;
  const std::string group_;
  rd_kafka_t* rk_ = nullptr;
  kafka::ErrorNotes errors_;
  std::atomic<bool> closed_{false};
  bool subscribed_ = false;
  bool cooperative_ = false;  // incremental (un)assign in rebalances
  std::chrono::steady_clock::time_point next_subscribe_{};
  bool paused_ = false;                   // by keep_alive(), until the next poll()
  std::set<TopicPartition> paused_set_;   // what keep_alive() paused
  mutable std::mutex mutex_;              // assigned_, stash_
  std::map<TopicPartition, kafka::PartitionProgress> assigned_;
  std::deque<Message> stash_;             // delivered by librdkafka during keep_alive(), not yet to the caller
  std::mutex commit_mutex_;               // one commit at a time: positions never go backwards
};

}  // namespace etl
