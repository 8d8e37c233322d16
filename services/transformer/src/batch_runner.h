// One batch of a partition's raw events through the pipeline, each step for all
// its objects at once (concurrently on the TaskPool):
//   GET + transform every object -> write the manifest (the cut, the members,
//   the files) -> PUT one data file per table and day with the rows of all
//   members -> move every member to processed/ -> announce every file with one
//   publish_batch. The caller acknowledges the batch's events after that.
// A transient failure (a store or the bus down) fails the whole batch; running it
// again redoes it exactly (the manifest pins its members), so the files are
// rewritten with the same names and bytes and nothing is added twice.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "batch_index.h"
#include "batch_manifest.h"
#include "etl/event_bus.h"
#include "pipeline.h"
#include "task_pool.h"

namespace etl::transformer {

struct BatchEvent {
  Message message;                 // acknowledged once the batch is done
  std::vector<std::string> rests;  // the raw objects it names (keys below to_be_processed/)
  std::optional<Error> error;      // not an event we can read: dead-lettered as is
  std::uint64_t bytes = 0;         // the objects' sizes, as the event says
};

struct Batch {
  std::string topic;  // as in its manifest: "<topic>" or "<topic>@<in-process bus id>"
  std::int32_t partition = 0;
  std::int64_t first = 0, last = 0;
  std::vector<BatchEvent> events;
  std::uint64_t bytes = 0;
  // Found at open (a replay of a batch cut before a crash), or written by an earlier attempt.
  std::optional<BatchManifest> manifest;
  bool finished = false;  // its manifest is kept among the finished ones already (a redo)
  // What closed it (logged): "events", "bytes", "quiet", "old", "room" (a full window,
  // a free worker), "manifest" (a replay cut as before), "gap" (a replay's missing offsets).
  const char* cut = "";
  // Set by run() when another consumer had cut a batch at this first offset (the
  // partition's previous owner, still running): run() then fails with conflict,
  // and the caller finishes that batch as it was cut (BatchConsumer::take_over).
  std::optional<BatchManifest> taken_over;
};

// A batch as its manifest cut it, with one event per member (no bus message to acknowledge).
Batch batch_of(const BatchManifest& manifest);

struct BatchOutcome {
  std::vector<std::pair<std::size_t, Error>> poison;  // event index -> why: to the dead-letter topic
  std::vector<std::string> files;                     // written and announced
  std::uint64_t objects = 0;        // transformed
  std::uint64_t already_done = 0;   // found in processed/ already (a repeated event)
  std::uint64_t missing = 0;        // in neither folder
  // event index -> raw object (below to_be_processed/) found in processed/ too: put
  // back to be transformed again, so left out and redone where its rows are (the
  // caller's redo, before it acknowledges the event)
  std::vector<std::pair<std::size_t, std::string>> redos;
  std::uint64_t albums_rows = 0, artists_rows = 0, songs_rows = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  SkipCounts skipped;
};

class BatchRunner final {
 public:
  using ErrorSink = std::function<void(const std::string& key, const Error& error)>;
  // `index` (optional) learns every batch finished here.
  BatchRunner(Pipeline& pipeline, TaskPool& pool, int max_attempts, ErrorSink on_error, BatchIndex* index = nullptr);

  // Any error: run the same batch again later (batch.manifest pins it from the first write on).
  Result<BatchOutcome> run(Batch& batch);
  // Finishes every batch whose manifest is still open (a crash; with an in-process
  // bus its events died with the process): same files, remaining moves, announcements.
  Status recover();
  // Runs a finished batch again (POST /v1/transform or /v1/reprocess of one of its
  // objects): the same members, read from processed/, into the same files, or,
  // with Iceberg tables, into a new generation of them (etl/lake.h "Generations").
  Result<BatchOutcome> redo(const BatchManifest& manifest);

  // Whether the raw object `rest` (a key below to_be_processed/) is still there.
  Result<bool> pending(const std::string& rest);
  // Whether processed/`rest` exists.
  Result<bool> processed(const std::string& rest);

 private:
  struct Member;
  struct Fetched;
  struct Planned {
    std::string key;
    Table table;
  };
  std::vector<Member> collect(const Batch& batch);
  Fetched fetch(const Member& member, bool replaying);
  std::vector<Planned> plan(const BatchManifest& manifest, std::vector<Member>& members, std::int64_t generation);
  Error failed_at(const std::string& key, Error error);
  Result<bool> exists(const std::string& raw_key);
  Status pin(Batch& batch, const BatchManifest& manifest);

  Pipeline& pipeline_;
  TaskPool& pool_;
  int max_attempts_;
  ErrorSink on_error_;
  BatchIndex* index_;
};

}  // namespace etl::transformer
