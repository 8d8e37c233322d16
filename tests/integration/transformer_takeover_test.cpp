// Two consumers of one partition at once: after a rebalance the partition's
// previous owner (a zombie) may still run the batch it cut while the new owner
// opens a batch at the same committed offset. Whoever pins its manifest first
// (a conditional put) decides the cut; the other finishes that batch as it was
// cut, so the rows land once. Driven here without a service: a BatchConsumer
// and BatchRunners over file stores and the in-process bus.
#include <gtest/gtest.h>

#include <map>

#include "batch_consumer.h"
#include "batch_runner.h"
#include "etl/lake.h"
#include "forwarding_store.h"
#include "transformer_env.h"
#include "transformer_metrics.h"

namespace etl::transformer {
namespace {

using namespace std::chrono_literals;
using testenv::Env;
using testenv::raw_name;
using testenv::raw_playlist;
using testenv::read_event;
using testenv::Side;

// Forwards to a store; moves can be made to fail, and gets can be made to find nothing.
class Gate final : public etl::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool fail_moves = false, find_nothing = false;
  Result<std::string> get(const std::string& k, std::uint64_t max) override {
    if (find_nothing) return make_error(Errc::not_found, "no object " + k);
    return inner_->get(k, max);
  }
  Status move(const std::string& from, const std::string& to) override {
    if (fail_moves) return make_error(Errc::unavailable, "moves fail here");
    return inner_->move(from, to);
  }
};

// The partition's new owner: a BatchConsumer of group `group` over the raw topic,
// its manifest lookups through `lookups`, run until `events` are committed.
void run_new_owner(Env& env, ObjectStore& lookups, const std::string& group, std::int64_t events) {
  const std::string topic = env.config.topic_raw;
  Side owner(env.raw, env.transformed, env);
  BatchConsumerOptions options;
  options.topics = {topic};
  options.group = group;
  options.dlq_topic = env.config.topic_dlq;
  options.linger = 200ms;
  BatchConsumer consumer(env.bus, options, [&](Message m) { return read_event(*env.raw, std::move(m)); }, *owner.runner,
                         lookups, owner.registry);
  ASSERT_TRUE(consumer.start().ok());
  ASSERT_TRUE(etl::testing::wait_until([&] { return env.bus->committed(group, topic) >= events; }, 30s));
  consumer.stop();
}

TEST(TransformerTakeover, ABatchAnotherConsumerCutFirstIsFinishedAsItWasCutAndEveryRowLandsOnce) {
  Env env;  // not started: the consumers are driven here
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(env.land(raw_name(i), raw_playlist(i)));
  for (const auto& k : keys) env.publish_created(k);  // offsets 0..3 of partition 0
  const std::string topic = env.config.topic_raw;

  // The zombie cut offsets 0..1, pinned its manifest and wrote its files, and
  // was cut off before it moved its objects (its moves fail here).
  auto zombie_raw = std::make_shared<Gate>(env.raw);
  zombie_raw->fail_moves = true;
  Side zombie(zombie_raw, env.transformed, env);
  BatchManifest theirs{topic, 0, 0, 1, {{0, raw_name(0)}, {1, raw_name(1)}}, {}};
  Batch cut = batch_of(theirs);
  cut.manifest.reset();  // a fresh cut: run() pins it
  for (std::size_t i = 0; i < cut.events.size(); ++i) cut.events[i].message.offset = static_cast<std::int64_t>(i);
  ASSERT_FALSE(zombie.runner->run(cut).ok()) << "the zombie's moves were meant to fail";
  ASSERT_EQ(env.transformed_keys("_transformer/open/").size(), 1u);
  ASSERT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "20");

  // The new owner: its lookup at offset 0 ran before the zombie pinned (finds nothing).
  auto lookups = std::make_shared<Gate>(env.transformed);
  lookups->find_nothing = true;
  run_new_owner(env, *lookups, "takeover-test", 4);
  if (HasFatalFailure()) return;

  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "40")
      << "the zombie's rows once, the rest once";
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "40");
  const std::string stem = batch_file_stem(theirs);
  EXPECT_TRUE(env.transformed->head("songs_data/dt=2026-11-21/" + stem + ".parquet").ok())
      << "the zombie's cut kept its file names";
  EXPECT_TRUE(env.transformed_keys("_transformer/open/").empty());
  EXPECT_EQ(env.transformed_keys("_transformer/batches/").size(), 2u) << "theirs, then ours for offsets 2..3";
  EXPECT_TRUE(env.raw->list("to_be_processed/").value().empty());
}

// The zombie cut offsets 0..2, left the unreadable object at offset 1 out, pinned
// and wrote its files, and was cut off before its moves. The new owner either finds
// that manifest when it opens its batch (a replay) or only when it pins its own (a
// takeover): either way the left-out event is a dead letter, once.
void left_out_object_is_dead_lettered(bool owner_sees_the_manifest_at_open) {
  Env env;
  std::vector<std::string> keys;
  keys.push_back(env.land(raw_name(0), raw_playlist(0)));
  keys.push_back(env.land("spotify_raw_20261121T060000Z_playlist_bad_r1.json", "this is not JSON {"));
  keys.push_back(env.land(raw_name(2), raw_playlist(2)));
  for (const auto& k : keys) env.publish_created(k);  // offsets 0..2 of partition 0
  const std::string topic = env.config.topic_raw;

  auto zombie_raw = std::make_shared<Gate>(env.raw);
  zombie_raw->fail_moves = true;
  Side zombie(zombie_raw, env.transformed, env);
  Batch cut;
  cut.topic = topic;
  cut.first = 0;
  cut.last = 2;
  for (std::int64_t i = 0; i < 3; ++i) {
    BatchEvent e;
    e.message.offset = i;
    e.rests = {keys[static_cast<std::size_t>(i)].substr(kPendingPrefix.size())};
    cut.events.push_back(std::move(e));
  }
  ASSERT_FALSE(zombie.runner->run(cut).ok()) << "the zombie's moves were meant to fail";
  auto open = env.transformed_keys("_transformer/open/");
  ASSERT_EQ(open.size(), 1u);
  auto pinned = decode_manifest(env.transformed->get(open[0], 1 << 20).value());
  ASSERT_TRUE(pinned.ok());
  ASSERT_EQ(pinned->members.size(), 2u) << "the cut left the unreadable object out";

  auto lookups = std::make_shared<Gate>(env.transformed);
  lookups->find_nothing = !owner_sees_the_manifest_at_open;
  run_new_owner(env, *lookups, "takeover-poison-test", 3);
  if (::testing::Test::HasFatalFailure()) return;

  auto dlq = env.bus->messages(env.config.topic_dlq);
  ASSERT_EQ(dlq.size(), 1u) << "the left-out object's event, and only it, is a dead letter";
  std::map<std::string, std::string> headers(dlq[0].headers.begin(), dlq[0].headers.end());
  EXPECT_EQ(headers["x-source-offset"], "1");
  EXPECT_EQ(headers["x-error-code"], "bad_data");
  EXPECT_NE(headers["x-error"].find("bad_r1"), std::string::npos) << headers["x-error"];
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "20")
      << "the two readable objects' rows, once";
  EXPECT_EQ(env.raw->list("to_be_processed/").value().size(), 1u) << "the unreadable object stays for inspection";
}

TEST(TransformerTakeover, AnObjectTheCutLeftOutIsDeadLetteredWhenTheCutIsReplayed) {
  left_out_object_is_dead_lettered(true);
}

TEST(TransformerTakeover, AnObjectTheCutLeftOutIsDeadLetteredWhenTheCutIsTakenOver) {
  left_out_object_is_dead_lettered(false);
}

}  // namespace
}  // namespace etl::transformer
