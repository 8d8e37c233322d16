// Over 400 lines on purpose: the producer side of the Kafka bus (idempotent
// producer, checked delivery, batched publishes, outage waits) and its librdkafka
// configuration in one place; the consumer and the admin client are apart
// (kafka_consumer.cpp, kafka_admin.cpp).
#include "kafka_bus.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>

#include "etl/ascii.h"

namespace etl {
namespace kafka {
namespace {

// Settings at-least-once depends on: an ETL_KAFKA_ variable may repeat them, never change them.
struct Pinned {
  const char* property;
  std::vector<const char*> accepted;  // empty: the property may not be set at all
  const char* why;
};

const std::vector<Pinned>& pinned() {
  static const std::vector<Pinned> list = {
      {"enable.idempotence", {"true"}, "retries must neither duplicate nor reorder events"},
      {"acks", {"all", "-1"}, "publish returns only once every in-sync replica holds the event"},
      {"request.required.acks", {"all", "-1"}, "publish returns only once every in-sync replica holds the event"},
      {"enable.auto.commit", {"false"}, "offsets are committed only after the work is durable"},
      {"enable.auto.offset.store", {"false"}, "offsets are committed only after the work is durable"},
      {"group.id", {}, "each service has its own consumer group"},
      {"group.instance.id", {}, "static membership would keep a stopped consumer's partitions parked"},
      {"transactional.id", {}, "the bus does not use transactions"},
      {"bootstrap.servers", {}, "use ETL_KAFKA_BOOTSTRAP_SERVERS"},
      {"metadata.broker.list", {}, "use ETL_KAFKA_BOOTSTRAP_SERVERS"},
  };
  return list;
}

std::string describe(std::string_view property) {
  if (property == "bootstrap.servers") return "ETL_KAFKA_BOOTSTRAP_SERVERS";
  return env_name(property) + " (librdkafka property " + std::string(property) + ")";
}

}  // namespace

std::string env_name(std::string_view property) {
  std::string out = "ETL_KAFKA_";
  for (unsigned char c : property) out += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

bool is_secret_property(std::string_view property) {
  const std::string p = ascii_lower(property);
  for (const char* word : {"password", "secret", "pem", "oauthbearer.config", "jaas", "ssl.key"})
    if (p.find(word) != std::string::npos) return true;
  return false;
}

Result<Properties> client_properties(const Config& config, Role role, const std::string& client_id,
                                     const std::string& group) {
  for (const auto& [name, value] : config.kafka_properties) {
    for (const auto& pin : pinned()) {
      if (ascii_lower(name) != pin.property) continue;
      // A named copy: clang 14 cannot capture a structured binding in a lambda.
      const std::string wanted = ascii_lower(value);
      bool same = std::any_of(pin.accepted.begin(), pin.accepted.end(), [&wanted](const char* a) { return wanted == a; });
      if (same) continue;
      std::string fixed = pin.accepted.empty() ? "" : std::string(" (the bus sets ") + pin.property + "=" + pin.accepted.front() + ")";
      return make_error(Errc::invalid_argument, env_name(name) + ": cannot be set" + fixed + ": " + pin.why);
    }
  }
  Properties p;
  p.emplace_back("bootstrap.servers", config.kafka_bootstrap_servers);
  p.emplace_back("client.id", client_id);
  p.emplace_back("log.connection.close", "false");  // idle disconnects are normal, not errors
  if (role == Role::producer) {
    p.emplace_back("linger.ms", "5");
    p.emplace_back("message.timeout.ms", "30000");
  } else {
    p.emplace_back("auto.offset.reset", "earliest");
    // Cooperative: a rebalance revokes only the partitions that move (see kafka_bus.h).
    p.emplace_back("partition.assignment.strategy", "cooperative-sticky");
    // Bounded prefetch (per partition): the services handle few, slow events.
    p.emplace_back("queued.max.messages.kbytes", "16384");
    p.emplace_back("queued.min.messages", "1000");
  }
  for (const auto& [name, value] : config.kafka_properties) p.emplace_back(name, value);
  if (role == Role::producer) {
    p.emplace_back("enable.idempotence", "true");
    p.emplace_back("acks", "all");
  } else {
    if (group.empty()) return make_error(Errc::invalid_argument, "kafka consumer needs a group");
    p.emplace_back("group.id", group);
    p.emplace_back("enable.auto.commit", "false");
    p.emplace_back("enable.auto.offset.store", "false");
  }
  return p;
}

Result<ConfPtr> make_conf(const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : properties) {
    errstr[0] = '\0';
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      std::string reason = errstr;
      // librdkafka quotes an invalid value in its message; a secret's value must not be.
      if (is_secret_property(name) && reason.find("No such configuration property") == std::string::npos)
        reason = "invalid value";
      return make_error(Errc::invalid_argument, describe(name) + ": " + reason);
    }
  }
  return conf;
}

std::chrono::milliseconds message_timeout(const Properties& properties) {
  long long ms = 300000;  // librdkafka's default
  for (const auto& [name, value] : properties) {
    if (name != "message.timeout.ms" && name != "delivery.timeout.ms") continue;
    long long parsed = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec == std::errc{} && p == value.data() + value.size()) ms = parsed;
  }
  return std::chrono::milliseconds(ms);
}

bool cooperative_rebalancing(const Properties& properties) {
  std::string_view strategy = "range,roundrobin";  // librdkafka's default
  for (const auto& [name, value] : properties)
    if (name == "partition.assignment.strategy") strategy = value;
  return strategy.find("cooperative-sticky") != std::string_view::npos;
}

HeadersPtr to_kafka_headers(const MessageHeaders& headers) {
  HeadersPtr out(rd_kafka_headers_new(headers.size()));
  for (const auto& [name, value] : headers)
    rd_kafka_header_add(out.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  return out;
}

MessageHeaders from_kafka_headers(const rd_kafka_headers_t* headers) {
  MessageHeaders out;
  if (headers == nullptr) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
    out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
  return out;
}

Errc errc_for(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return Errc::too_large;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return Errc::forbidden;
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return Errc::unauthorized;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Errc::not_found;
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
      return Errc::conflict;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return Errc::invalid_argument;
    case RD_KAFKA_RESP_ERR__DESTROY:
      return Errc::cancelled;
    default:
      // Timeouts, transport errors, leader changes, a fatal producer error (the
      // producer is replaced): all worth waiting out.
      return Errc::unavailable;
  }
}

log::Level log_level_for(int syslog_level) noexcept {
  if (syslog_level <= 2) return log::Level::error;
  if (syslog_level <= 4) return log::Level::warn;  // 3: a broker unreachable: the client retries
  if (syslog_level <= 6) return log::Level::info;
  return log::Level::debug;
}

void PartitionProgress::delivered(std::int64_t offset) {
  // The group's position was at the first offset delivered: committing it again is pointless.
  if (next_ < 0) committed_ = first_ = offset;
  pending_.insert(offset);
  next_ = std::max(next_, offset + 1);
}

PartitionProgress::Ack PartitionProgress::acknowledge(std::int64_t offset) {
  Ack ack;
  // Not pending: acknowledged before in this assignment (an ack whose commit
  // failed is made again, and the commit with it), or not delivered in it.
  if (pending_.erase(offset) == 0 && (next_ < 0 || offset < first_ || offset >= next_)) return ack;
  ack.known = true;
  std::int64_t position = pending_.empty() ? next_ : *pending_.begin();
  if (position > committed_) ack.commit = position;
  return ack;
}

void PartitionProgress::committed(std::int64_t position) { committed_ = std::max(committed_, position); }

void ErrorNotes::note(const char* client, rd_kafka_resp_err_t err, const char* reason) {
  const std::string text = reason ? reason : rd_kafka_err2str(err);
  const auto now = std::chrono::steady_clock::now();
  bool log_it = false;
  {
    std::lock_guard lock(mutex_);
    last_ = text;
    if (text != logged_ || now - logged_at_ > std::chrono::minutes(1)) {
      logged_ = text;
      logged_at_ = now;
      log_it = true;
    }
  }
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    log::error("kafka client fatal error", {{"client", client}, {"error", text}});
  } else if (err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    // librdkafka's own log line (facility FAIL) already said it.
  } else if (log_it) {
    log::warn("kafka client error; it keeps retrying", {{"client", client}, {"code", rd_kafka_err2name(err)}, {"error", text}});
  }
}

std::string ErrorNotes::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  log::write(log_level_for(level), line ? line : "",
             {{"component", "librdkafka"}, {"client", rd_kafka_name(rk)}, {"facility", facility ? facility : ""}});
}

}  // namespace kafka

// ---------------------------------------------------------------------------

namespace {

struct Delivery {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};

std::string with_last(std::string message, const std::string& last) {
  if (!last.empty()) message += " (last broker error: " + last + ")";
  return message;
}

}  // namespace

KafkaBus::Producer::~Producer() {
  // Publishes wait for their reports, so little is in flight; give it a moment.
  rd_kafka_flush(rk, 2000);
  rd_kafka_destroy(rk);
}

KafkaBus::KafkaBus(Config config, std::string client_id, kafka::Properties properties)
    : config_(std::move(config)),
      client_id_(std::move(client_id)),
      properties_(std::move(properties)),
      message_timeout_(kafka::message_timeout(properties_)) {}

Result<std::shared_ptr<KafkaBus>> KafkaBus::create(const Config& config, const std::string& client_id) {
  auto properties = kafka::client_properties(config, kafka::Role::producer, client_id);
  if (!properties) return std::move(properties).error();
  // The consumers' settings are checked now too: a bad one must stop the start-up, not the first subscribe.
  auto consumer_properties = kafka::client_properties(config, kafka::Role::consumer, client_id, "check");
  if (!consumer_properties) return std::move(consumer_properties).error();
  if (auto conf = kafka::make_conf(*consumer_properties); !conf) return std::move(conf).error();

  std::shared_ptr<KafkaBus> bus(new KafkaBus(config, client_id, std::move(properties).value()));
  auto producer = bus->start_producer();
  if (!producer) return std::move(producer).error();
  bus->producer_ = std::move(producer).value();
  bus->poller_ = std::thread([raw = bus.get()] { raw->poll_producer(); });
  return bus;
}

KafkaBus::~KafkaBus() {
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  std::lock_guard lock(mutex_);
  producer_.reset();
}

Result<std::shared_ptr<KafkaBus::Producer>> KafkaBus::start_producer() {
  auto conf = kafka::make_conf(properties_);
  if (!conf) return std::move(conf).error();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaBus::on_delivery);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaBus::on_error);
  rd_kafka_conf_set_log_cb(conf->get(), &kafka::log_callback);
  char errstr[512] = "";
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof errstr);
  if (rk == nullptr) return make_error(Errc::invalid_argument, std::string("kafka producer: ") + errstr);
  (void)conf->release();  // rd_kafka_new took it
  return std::make_shared<Producer>(rk);
}

Result<std::shared_ptr<KafkaBus::Producer>> KafkaBus::producer() {
  std::lock_guard lock(mutex_);
  if (!producer_) return make_error(Errc::cancelled, "kafka bus closed");
  char reason[512] = "";
  if (rd_kafka_fatal_error(producer_->rk, reason, sizeof reason) == RD_KAFKA_RESP_ERR_NO_ERROR) return producer_;
  // An idempotent producer that lost its sequence state cannot go on: start a fresh one.
  log::error("kafka producer hit a fatal error; replacing it", {{"client", client_id_}, {"error", reason}});
  auto fresh = start_producer();
  if (!fresh) return std::move(fresh).error();
  producer_ = std::move(fresh).value();
  return producer_;
}

void KafkaBus::poll_producer() {
  while (!stopping_) {
    std::shared_ptr<Producer> p;
    {
      std::lock_guard lock(mutex_);
      p = producer_;
    }
    if (p) rd_kafka_poll(p->rk, 100);  // serves delivery reports and errors
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void KafkaBus::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* holder = static_cast<std::shared_ptr<Delivery>*>(message->_private);
  if (holder == nullptr) return;
  {
    std::lock_guard lock((*holder)->mutex);
    (*holder)->done = true;
    (*holder)->err = message->err;
  }
  (*holder)->cv.notify_all();
  delete holder;
}

void KafkaBus::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  static_cast<KafkaBus*>(opaque)->errors_.note(rd_kafka_name(rk), static_cast<rd_kafka_resp_err_t>(err), reason);
}

namespace {

// Hands one message to librdkafka (waiting out a full local queue until
// `deadline`); its delivery report lands in the returned Delivery.
Result<std::shared_ptr<Delivery>> enqueue(rd_kafka_t* rk, const std::string& topic, const OutgoingMessage& m,
                                          std::chrono::steady_clock::time_point deadline, const std::string& last) {
  auto delivery = std::make_shared<Delivery>();
  while (true) {
    auto* holder = new std::shared_ptr<Delivery>(delivery);
    kafka::HeadersPtr kafka_headers = m.headers.empty() ? nullptr : kafka::to_kafka_headers(m.headers);
    std::vector<rd_kafka_vu_t> vus;
    vus.push_back({.vtype = RD_KAFKA_VTYPE_TOPIC, .u = {.cstr = topic.c_str()}});
    if (!m.key.empty()) {
      rd_kafka_vu_t k{.vtype = RD_KAFKA_VTYPE_KEY, .u = {}};
      k.u.mem = {const_cast<char*>(m.key.data()), m.key.size()};
      vus.push_back(k);
    }
    rd_kafka_vu_t v{.vtype = RD_KAFKA_VTYPE_VALUE, .u = {}};
    v.u.mem = {const_cast<char*>(m.value.data()), m.value.size()};
    vus.push_back(v);
    vus.push_back({.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u = {.i = RD_KAFKA_MSG_F_COPY}});
    if (kafka_headers) vus.push_back({.vtype = RD_KAFKA_VTYPE_HEADERS, .u = {.headers = kafka_headers.get()}});
    vus.push_back({.vtype = RD_KAFKA_VTYPE_OPAQUE, .u = {.ptr = holder}});

    rd_kafka_error_t* error = rd_kafka_produceva(rk, vus.data(), vus.size());
    if (error == nullptr) {
      (void)kafka_headers.release();  // librdkafka owns them now
      return delivery;
    }
    delete holder;
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    const std::string text = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the poller drains the queue
      continue;
    }
    return make_error(kafka::errc_for(code), with_last("kafka: publish to " + topic + " failed: " + text, last));
  }
}

}  // namespace

Status KafkaBus::publish(const std::string& topic, const std::string& key, const std::string& value,
                         const MessageHeaders& headers) {
  return publish_batch(topic, {OutgoingMessage{key, value, headers}});
}

Status KafkaBus::publish_batch(const std::string& topic, const std::vector<OutgoingMessage>& messages) {
  if (topic.empty()) return make_error(Errc::invalid_argument, "kafka: publish needs a topic");
  if (messages.empty()) return {};
  ETL_RETURN_IF_ERROR(ensure_topics({topic}, std::min<std::chrono::milliseconds>(message_timeout_, std::chrono::seconds(10))));
  auto producer = this->producer();
  if (!producer) return std::move(producer).error();
  rd_kafka_t* rk = (*producer)->rk;

  // The reports come within message.timeout.ms; the margin only guards against a lost one.
  const auto deadline = std::chrono::steady_clock::now() + message_timeout_ + std::chrono::seconds(10);
  std::vector<std::shared_ptr<Delivery>> deliveries;
  std::optional<Error> failed;
  for (const auto& m : messages) {
    auto delivery = enqueue(rk, topic, m, deadline, last_error());
    if (!delivery) {
      failed = std::move(delivery).error();
      break;  // the ones already handed over are still awaited below
    }
    deliveries.push_back(std::move(delivery).value());
  }
  for (const auto& delivery : deliveries) {
    std::unique_lock lock(delivery->mutex);
    if (!delivery->cv.wait_until(lock, deadline, [&] { return delivery->done; })) {
      if (!failed) failed = make_error(Errc::timeout, with_last("kafka: no delivery report for " + topic + " in time", last_error()));
      continue;
    }
    if (delivery->err != RD_KAFKA_RESP_ERR_NO_ERROR && !failed)
      failed = make_error(kafka::errc_for(delivery->err),
                          with_last("kafka: publish to " + topic + " not acknowledged: " + rd_kafka_err2str(delivery->err),
                                    last_error()));
  }
  if (failed) return *failed;
  return {};
}

Result<std::unique_ptr<Consumer>> KafkaBus::subscribe(const std::vector<std::string>& topics, const std::string& group) {
  auto consumer = KafkaConsumer::create(shared_from_this(), topics, group);
  if (!consumer) return std::move(consumer).error();
  return std::unique_ptr<Consumer>(std::move(consumer).value());
}

Status KafkaBus::ping() {
  auto producer = this->producer();
  if (!producer) return std::move(producer).error();
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata((*producer)->rk, 0, nullptr, &raw, 2000);
  kafka::MetadataPtr metadata(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(Errc::unavailable, with_last("kafka brokers " + config_.kafka_bootstrap_servers +
                                                       " unreachable: " + rd_kafka_err2str(err),
                                                   last_error()));
  return {};
}

}  // namespace etl
