// The transformer in-process with a MemoryBus and temporary stores, for the
// transformer_*_test.cpp integration tests; plus raw objects with unique ids.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "../unit/transformer/fixtures.h"
#include "etl/duck.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "test_support.h"
#include "batch_runner.h"
#include "transformer_metrics.h"
#include "transformer_service.h"

namespace etl::transformer::testenv {

using fixtures::json;

// A 22-character id that is unique per (object, item).
inline std::string id22(char kind, int object, int item) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%06d%06dAbCdEfGhI", kind, object, item);
  return std::string(buf).substr(0, 22);
}

inline std::string raw_name(int object, const std::string& type = "playlist") {
  return "spotify_raw_20261121T060000Z_" + type + "_" + id22('p', object, 0) + "_run" + std::to_string(object) + ".json";
}

// A playlist envelope: `pages` pages of `per_page` tracks (unique ids), one
// null item per page, one album and one artist per object.
inline std::string raw_playlist(int object, int pages = 2, int per_page = 5) {
  std::vector<json> page_list;
  int position = 0;
  for (int p = 0; p < pages; ++p) {
    json items = json::array();
    for (int i = 0; i < per_page; ++i) {
      fixtures::TrackSpec t;
      t.id = id22('t', object, position++);
      t.name = "Song " + std::to_string(object) + "/" + std::to_string(position);
      fixtures::AlbumSpec a;
      a.id = id22('a', object, 0);
      a.artists = {fixtures::artist(id22('r', object, 0), "Artist " + std::to_string(object))};
      t.album = fixtures::album(a);
      t.artists = a.artists;
      items.push_back(fixtures::playlist_item(fixtures::track(t)));
    }
    items.push_back(fixtures::playlist_item(nullptr));
    ++position;
    page_list.push_back(fixtures::paging(items));
  }
  return fixtures::envelope("playlist", id22('p', object, 0), page_list, "run" + std::to_string(object));
}

struct Env {
  etl::testing::TempDir dir;
  std::shared_ptr<MemoryBus> bus = make_memory_bus();
  Config config;
  std::shared_ptr<ObjectStore> raw;
  std::shared_ptr<ObjectStore> transformed;
  std::unique_ptr<TransformerService> svc;

  Env() {
    config.raw_url = dir.url("raw");
    config.transformed_url = dir.url("transformed");
    config.transformer_addr = {"127.0.0.1", 0};
    config.bus = "memory";
    raw = open_object_store(config.raw_url, config.aws).value();
    transformed = open_object_store(config.transformed_url, config.aws).value();
  }
  ~Env() {
    if (svc) svc->stop();
  }

  void start() {
    auto created = TransformerService::create(config, bus);
    ASSERT_TRUE(created.ok()) << created.error().message;
    svc = std::move(created).value();
    ASSERT_TRUE(svc->start().ok());
  }

  // Starts and waits until the start-up scan of to_be_processed/ is over, so a
  // test's own objects are not raced by it.
  void start_idle() {
    start();
    ASSERT_TRUE(etl::testing::wait_until([&] {
      auto j = svc->job(svc->startup_job_id());
      return j && j->state != JobState::queued && j->state != JobState::running;
    })) << "the start-up scan did not finish";
  }

  std::string land(const std::string& name, const std::string& bytes) {
    std::string key = "to_be_processed/" + name;
    EXPECT_TRUE(raw->put(key, bytes).ok());
    return key;
  }

  // The S3 ObjectCreated event of a raw object, as published on the raw topic.
  std::string created_event(const std::string& key, const std::string& event_name = "ObjectCreated:Put",
                            std::string bucket = {}) const {
    ObjectCreated e;
    e.bucket = bucket.empty() ? raw->bucket() : bucket;
    e.key = raw->event_key(key);
    e.size = 1;
    e.event_name = event_name;
    return build_s3_event(e);
  }

  void publish_created(const std::string& key, const std::string& event_name = "ObjectCreated:Put",
                       std::string bucket = {}) {
    ASSERT_TRUE(bus->publish(config.topic_raw, raw->event_key(key), created_event(key, event_name, std::move(bucket))).ok());
  }

  std::int64_t consumed() const { return bus->committed(kConsumerGroup, config.topic_raw); }
  bool wait_consumed(std::int64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return etl::testing::wait_until([&] { return consumed() >= n; }, timeout);
  }

  bool exists_raw(const std::string& key) { return raw->head(key).ok(); }

  std::vector<std::string> transformed_keys(const std::string& prefix = "") {
    std::vector<std::string> keys;
    auto listed = transformed->list(prefix);
    EXPECT_TRUE(listed.ok());
    if (listed.ok())
      for (const auto& o : *listed) keys.push_back(o.key);
    return keys;
  }

  // The tables' files (without the transformer's batch manifests under _transformer/).
  std::vector<std::string> table_keys() {
    std::vector<std::string> keys;
    for (auto& k : transformed_keys())
      if (k.rfind("_transformer/", 0) != 0) keys.push_back(std::move(k));
    return keys;
  }

  std::string transformed_bytes(const std::string& key) { return transformed->get(key).value(); }

  // One SQL value over the transformed folder (use {root} for its path).
  std::string sql_value(std::string sql) {
    auto at = sql.find("{root}");
    if (at != std::string::npos) sql.replace(at, 6, (dir.path() / "transformed").string());
    auto db = duck::Database::open(":memory:").value();
    auto conn = db->connect().value();
    auto r = conn->query(sql);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok() || r->row_count() == 0) return "";
    return r->text(0, 0).value_or("NULL");
  }

  // One SQL value over the newest generation of each songs_data file (what the
  // catalog takes): `select` is the query without its FROM.
  std::string newest_rows(const std::string& select) {
    const std::vector<std::string> keys = table_keys();
    const std::set<std::string> superseded = superseded_keys(keys);
    const std::string root = (dir.path() / "transformed").string();
    std::string list;
    for (const auto& k : keys)
      if (k.starts_with("songs_data/") && !superseded.count(k))
        list += (list.empty() ? "" : ", ") + duck::quote_literal(root + "/" + k);
    return sql_value(select + " FROM read_parquet([" + list + "])");
  }

  std::string url(const std::string& path) const { return svc->base_url() + path; }
};

// A pipeline and a BatchRunner of their own over the given stores and env's bus, for
// tests that drive BatchConsumers or runs without a service.
struct Side {
  MetricsRegistry registry;
  TransformerMetrics metrics{registry};
  TaskPool pool{2};
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<BatchRunner> runner;
  Side(std::shared_ptr<ObjectStore> raw, std::shared_ptr<ObjectStore> transformed, Env& env) {
    pipeline = std::make_unique<Pipeline>(
        std::move(raw), std::move(transformed), env.bus,
        PipelineOptions{OutputFormat::parquet, env.config.max_raw_object_bytes, env.config.topic_transformed}, metrics);
    runner = std::make_unique<BatchRunner>(*pipeline, pool, 3, [](const std::string&, const Error&) {});
  }
};

// A BatchConsumer's reader: the raw objects of `raw` an event names (none for an unreadable one).
inline BatchEvent read_event(const ObjectStore& raw, Message m) {
  BatchEvent e;
  auto events = parse_s3_events(m.value);
  e.message = std::move(m);
  if (!events) return e;
  for (const auto& ev : *events)
    if (auto key = raw.relative_key(ev.bucket, ev.key)) e.rests.push_back(key->substr(kPendingPrefix.size()));
  return e;
}

}  // namespace etl::transformer::testenv
