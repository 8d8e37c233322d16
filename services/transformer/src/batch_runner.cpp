#include "batch_runner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "etl/consumer_loop.h"
#include "etl/log.h"
#include "etl/lake.h"

namespace etl::transformer {
namespace {

Error keyed(const std::string& key, Error e) {
  e.message = key + ": " + e.message;
  return e;
}

// Does every member of `m` up to the batch's last offset come with the event at its offset?
bool describes(const BatchManifest& m, const Batch& batch) {
  if (m.topic != batch.topic || m.partition != batch.partition || m.first != batch.first) return false;
  for (const auto& member : m.members) {
    if (member.offset > batch.last) continue;
    auto e = std::find_if(batch.events.begin(), batch.events.end(),
                          [&](const BatchEvent& ev) { return ev.message.offset == member.offset; });
    if (e == batch.events.end() || std::find(e->rests.begin(), e->rests.end(), member.rest) == e->rests.end())
      return false;
  }
  return true;
}

}  // namespace

Batch batch_of(const BatchManifest& manifest) {
  Batch batch;
  batch.topic = manifest.topic;
  batch.partition = manifest.partition;
  batch.first = manifest.first;
  batch.last = manifest.last;
  batch.manifest = manifest;
  batch.cut = "manifest";
  for (const auto& m : manifest.members) {
    BatchEvent e;
    e.message.offset = m.offset;
    e.rests = {m.rest};
    batch.events.push_back(std::move(e));
  }
  return batch;
}

struct BatchRunner::Member {
  std::size_t event = 0;  // index in Batch::events
  std::int64_t offset = 0;
  std::string rest;
  // redo: in to_be_processed/ and in processed/ too (put back to be transformed again):
  // left out of the batch and redone on its own after it (BatchOutcome::redos).
  enum class State { pending, ok, skipped, already_done, missing, poison, transient, redo } state = State::pending;
  bool from_pending = true;  // read from to_be_processed/ (so it is moved), else from processed/
  std::optional<TransformOutput> out;
  std::uint64_t bytes_in = 0;
  Error error;
};

struct BatchRunner::Fetched {
  Member::State state = Member::State::poison;
  bool from_pending = true;
  std::optional<TransformOutput> out;
  std::uint64_t bytes_in = 0;
  Error error;
  static Fetched with(Member::State state, Error error = {}) {
    Fetched f;
    f.state = state;
    f.error = std::move(error);
    return f;
  }
};

BatchRunner::BatchRunner(Pipeline& pipeline, TaskPool& pool, int max_attempts, ErrorSink on_error, BatchIndex* index)
    : pipeline_(pipeline),
      pool_(pool),
      max_attempts_(std::max(1, max_attempts)),
      on_error_(std::move(on_error)),
      index_(index) {}

// GET (to_be_processed/, or processed/ when replaying a member the manifest names) and
// transform. A permanent failure is tried max_attempts times (the old loop's contract).
BatchRunner::Fetched BatchRunner::fetch(const Member& m, bool replaying) {
  ObjectStore& raw = pipeline_.raw();
  const std::string pending = std::string(kPendingPrefix) + m.rest, processed = std::string(kProcessedPrefix) + m.rest;
  Fetched f;
  for (int attempt = 1; attempt <= max_attempts_; ++attempt) {
    std::string from = pending;
    auto bytes = raw.get(from, pipeline_.options().max_raw_bytes);
    if (!bytes && bytes.error().code == Errc::not_found) {
      if (replaying) {
        from = processed;
        bytes = raw.get(from, pipeline_.options().max_raw_bytes);
      } else {
        // Moved already: by an earlier batch (a repeated event), whose files hold its rows.
        auto moved = raw.head(processed);
        if (moved) return Fetched::with(Member::State::already_done);
        if (moved.error().code != Errc::not_found) bytes = std::move(moved).error();
      }
      if (!bytes && bytes.error().code == Errc::not_found) return Fetched::with(Member::State::missing);
    }
    if (!bytes) {
      f.error = keyed(from, std::move(bytes).error());
      if (is_transient_error(f.error.code)) return Fetched::with(Member::State::transient, f.error);
      pipeline_.metrics().record_error(f.error.code);
      on_error_(from, f.error);
      continue;
    }
    RawObjectMeta meta{from, std::nullopt};
    if (!parse_raw_object_name(from).extracted_at)
      if (auto info = raw.head(from)) meta.last_modified = info->last_modified;
    const std::uint64_t size = bytes->size();
    auto out = transform_raw_in_place(*bytes, meta);
    if (!out) {
      f.error = keyed(from, std::move(out).error());
      pipeline_.metrics().record_error(f.error.code);
      on_error_(from, f.error);
      continue;
    }
    if (!replaying && from == pending) {
      // Put back into to_be_processed/ after its rows were written (a copy back, the
      // classic way to trigger an S3 pipeline again): its rows are in the files of the
      // batch or run that moved it, so it is redone there, not added to this batch (a poison
      // one is found above, like any other, and its old rows stay).
      auto twin = raw.head(processed);
      if (twin) return Fetched::with(Member::State::redo);
      if (twin.error().code != Errc::not_found && is_transient_error(twin.error().code))
        return Fetched::with(Member::State::transient, keyed(processed, std::move(twin).error()));
    }
    Fetched ok = Fetched::with(Member::State::ok);
    ok.from_pending = from == pending;
    ok.out = std::move(out).value();
    ok.bytes_in = size;
    return ok;
  }
  return f;
}

// The data files of a batch: per day, per table, the rows of every member in offset order.
// `generation` (not 0): a redo's new generation of the files.
std::vector<BatchRunner::Planned> BatchRunner::plan(const BatchManifest& manifest, std::vector<Member>& members,
                                                    std::int64_t generation) {
  std::set<std::string> days;
  for (const auto& m : members)
    if (m.out) days.insert(m.out->dt);
  const OutputFormat format = pipeline_.options().format;
  const std::string stem =
      generation ? generation_stem(batch_file_stem(manifest), generation) : batch_file_stem(manifest);
  std::vector<Planned> planned;
  for (const auto& dt : days) {
    for (std::size_t t = 0; t < table_schemas().size(); ++t) {
      const TableSchema& schema = *table_schemas()[t];
      Planned p{DataKey::make(schema.name, dt, stem, file_extension(format)), Table(schema)};
      for (const auto& m : members)
        if (m.out && m.out->dt == dt) p.table.append(*m.out->tables()[t]);
      if (p.table.rows() == 0 && !writes_empty_tables(format)) continue;
      planned.push_back(std::move(p));
    }
  }
  return planned;
}

// Writes the open manifest of a batch cut here, if no other consumer cut one at
// this offset first (a conditional put: the partition's previous owner may still
// be running the batch it cut before a rebalance). Theirs wins: `taken_over`.
Status BatchRunner::pin(Batch& batch, const BatchManifest& manifest) {
  const std::string key = manifest_key(kOpenManifests, batch.topic, batch.partition, batch.first);
  const std::string text = encode_manifest(manifest);
  auto put = pipeline_.transformed().put_if_absent(key, text);
  if (put.ok()) return {};
  if (put.error().code != Errc::conflict) return failed_at(key, std::move(put).error());
  auto existing = pipeline_.transformed().get(key, 64ull << 20);
  if (!existing && existing.error().code == Errc::not_found) return pin(batch, manifest);  // finished meanwhile
  if (!existing) return failed_at(key, std::move(existing).error());
  auto theirs = decode_manifest(*existing);
  if (theirs && *theirs == manifest) return {};  // ours: a retried put whose first reply was lost
  if (theirs && describes(*theirs, batch)) {
    batch.taken_over = std::move(theirs).value();
    log::warn("another consumer cut a batch here first; finishing it as it was cut",
              {{"key", key}, {"their_last", batch.taken_over->last}, {"our_last", batch.last}});
    return make_error(Errc::conflict, key + ": another consumer cut a batch here first");
  }
  // Not a batch of these events (a recreated topic left it): replaced.
  log::warn("a stale batch manifest is replaced", {{"key", key}});
  auto replaced = pipeline_.transformed().put(key, text);
  if (!replaced) return failed_at(key, std::move(replaced).error());
  return {};
}

// A failure of the whole batch (it runs again): recorded for /v1/status under the
// object it was about, so an operator sees which read or write waits and why.
Error BatchRunner::failed_at(const std::string& key, Error error) {
  pipeline_.metrics().record_error(error.code);
  on_error_(key, error);
  return error;
}

Result<BatchOutcome> BatchRunner::run(Batch& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Member> members = collect(batch);
  std::vector<std::string> names;
  for (const auto& m : members) names.push_back(m.rest);
  // Another batch (or an HTTP run) of this process holding one of ours finishes first.
  Pipeline::NameLock lock(pipeline_, names);

  const bool replaying = batch.manifest.has_value();
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
  const auto fetch_started = Clock::now();
  pool_.run_all(members.size(), [&](std::size_t i) {
    Member& m = members[i];
    if (m.state != Member::State::pending) return;
    Fetched f = fetch(m, replaying);
    m.state = f.state;
    m.from_pending = f.from_pending;
    m.out = std::move(f.out);
    m.bytes_in = f.bytes_in;
    m.error = std::move(f.error);
  });
  for (const auto& m : members)
    if (m.state == Member::State::transient) return failed_at(std::string(kPendingPrefix) + m.rest, m.error);

  BatchManifest manifest = replaying ? *batch.manifest : BatchManifest{batch.topic, batch.partition, batch.first, batch.last, {}, {}};
  if (!replaying)
    for (const auto& m : members)
      if (m.state == Member::State::ok) manifest.members.push_back({m.offset, m.rest});
  // A finished batch run again writes, with Iceberg tables, a new generation of its files.
  std::vector<Planned> planned = plan(manifest, members, batch.finished ? pipeline_.redo_generation() : 0);
  BatchOutcome outcome;
  for (const auto& m : members) {
    if (m.state == Member::State::ok) {
      ++outcome.objects;
      outcome.bytes_in += m.bytes_in;
      outcome.skipped += m.out->skipped;
    }
    if (m.state == Member::State::already_done) ++outcome.already_done;
    if (m.state == Member::State::missing) ++outcome.missing;
    if (m.state == Member::State::poison) outcome.poison.emplace_back(m.event, m.error);
    if (m.state == Member::State::redo) outcome.redos.emplace_back(m.event, m.rest);
    if (replaying && m.state == Member::State::missing)
      log::warn("a raw object of a replayed batch is gone: its rows are missing from the rewritten files",
                {{"raw", m.rest}, {"manifest", manifest_key(kOpenManifests, batch.topic, batch.partition, batch.first)}});
  }
  for (auto& m : members)
    if (m.out) {
      m.out->albums = Table(albums_schema());
      m.out->artists = Table(artists_schema());
      m.out->songs = Table(songs_schema());
    }

  if (!replaying && !manifest.members.empty()) {
    for (const auto& p : planned) manifest.files.push_back(p.key);
    ETL_RETURN_IF_ERROR(pin(batch, manifest));
  }
  if (!manifest.members.empty()) batch.manifest = manifest;  // from here on, a retry is a replay

  const double fetch_ms = ms_since(fetch_started);
  // Every data file, then every move, then the announcement: each step only after the last is durable.
  const auto write_started = Clock::now();
  std::vector<ObjectInfo> infos(planned.size());
  std::vector<std::optional<Error>> failed(planned.size());
  pool_.run_all(planned.size(), [&](std::size_t i) {
    Pipeline::WriterLease writer(pipeline_);
    auto bytes = writer->write(planned[i].table, pipeline_.options().format);
    if (!bytes) return void(failed[i] = keyed(planned[i].key, std::move(bytes).error()));
    auto info = pipeline_.transformed().put(planned[i].key, *bytes);
    if (!info) return void(failed[i] = keyed(planned[i].key, std::move(info).error()));
    infos[i] = *info;
  });
  for (std::size_t i = 0; i < planned.size(); ++i)
    if (failed[i]) return failed_at(planned[i].key, *failed[i]);
  const double write_ms = ms_since(write_started);
  std::vector<std::string> keys;
  for (const auto& p : planned) keys.push_back(p.key);
  // A redo over hive tables writes in place: what it wrote before and not now goes
  // (the days its first run wrote too, from the manifest: a member may have changed).
  std::vector<std::string> removed;
  if (batch.finished) {
    std::set<std::string> days;
    for (const auto& k : keys) days.insert(DataKey::parse(k)->dt);
    for (const auto& k : manifest.files)
      if (auto data = DataKey::parse(k)) days.insert(data->dt);
    auto stale = pipeline_.remove_stale(batch_file_stem(manifest), days, keys);
    if (!stale) return failed_at(done_manifest_key(manifest), std::move(stale).error());
    removed = std::move(stale).value();
  }
  // The moves together: on S3 one copy each, then one DeleteObjects for them all.
  const auto move_started = Clock::now();
  std::vector<std::pair<std::string, std::string>> moves;
  for (const auto& m : members)
    if (m.state == Member::State::ok && m.from_pending)
      moves.emplace_back(std::string(kPendingPrefix) + m.rest, std::string(kProcessedPrefix) + m.rest);
  auto moved = pipeline_.raw().move_all(
      moves, [this](std::size_t n, const std::function<void(std::size_t)>& body) { pool_.run_all(n, body); });
  for (std::size_t i = 0; i < moves.size(); ++i)
    if (!moved[i].ok()) return failed_at(moves[i].first, keyed(moves[i].first, std::move(moved[i]).error()));
  const double move_ms = ms_since(move_started);
  if (!keys.empty() || !removed.empty())
    if (Status announced = pipeline_.announce(keys, infos, removed); !announced.ok())
      return failed_at(keys.empty() ? removed.front() : keys.front(), std::move(announced).error());
  if (!manifest.members.empty() && !batch.finished) {
    const std::string open_key = manifest_key(kOpenManifests, batch.topic, batch.partition, batch.first);
    if (Status done = pipeline_.transformed().move(open_key, done_manifest_key(manifest)); !done.ok())
      return failed_at(open_key, std::move(done).error());
    if (index_) index_->add(done_manifest_key(manifest), manifest);
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& info : infos) outcome.bytes_out += info.size;
  for (const auto& p : planned) {
    if (p.table.name() == albums_schema().name) outcome.albums_rows += p.table.rows();
    else if (p.table.name() == artists_schema().name) outcome.artists_rows += p.table.rows();
    else outcome.songs_rows += p.table.rows();
  }
  outcome.files = std::move(keys);
  pipeline_.metrics().record_batch(outcome, seconds);
  log::info("batch transformed", {{"topic", batch.topic}, {"partition", batch.partition}, {"first", batch.first},
                                  {"last", batch.last}, {"events", batch.events.size()}, {"objects", outcome.objects},
                                  {"files", outcome.files.size()}, {"songs", outcome.songs_rows}, {"cut", batch.cut},
                                  {"replay", replaying}, {"ms", seconds * 1000},
                                  {"fetch_ms", fetch_ms}, {"write_ms", write_ms}, {"move_ms", move_ms}});
  return outcome;
}

std::vector<BatchRunner::Member> BatchRunner::collect(const Batch& batch) {
  std::set<std::string> seen, included;
  if (batch.manifest)
    for (const auto& m : batch.manifest->members) included.insert(m.rest);
  std::vector<Member> members;
  for (std::size_t e = 0; e < batch.events.size(); ++e)
    for (const auto& rest : batch.events[e].rests) {
      if (!seen.insert(rest).second) continue;  // named twice in one batch: once is enough
      Member m;
      m.event = e;
      m.offset = batch.events[e].message.offset;
      m.rest = rest;
      if (batch.manifest && !included.count(rest)) m.state = Member::State::skipped;
      members.push_back(std::move(m));
    }
  return members;
}

Status BatchRunner::recover() {
  auto open = pipeline_.transformed().list(std::string(kOpenManifests));
  if (!open) return std::move(open).error();
  for (const auto& info : *open) {
    auto text = pipeline_.transformed().get(info.key, 64ull << 20);
    if (!text && text.error().code == Errc::not_found) continue;  // finished meanwhile
    if (!text) return std::move(text).error();
    auto manifest = decode_manifest(*text);
    if (!manifest) {
      log::warn("unreadable batch manifest left as it is", {{"key", info.key}, {"error", manifest.error().message}});
      continue;
    }
    Batch batch = batch_of(*manifest);
    log::info("finishing a batch a stopped transformer left open", {{"key", info.key}, {"objects", manifest->members.size()}});
    auto done = run(batch);
    if (!done) return std::move(done).error();
  }
  return {};
}

Result<BatchOutcome> BatchRunner::redo(const BatchManifest& manifest) {
  Batch batch = batch_of(manifest);
  batch.finished = true;
  log::info("redoing a finished batch", {{"manifest", done_manifest_key(manifest)}, {"objects", manifest.members.size()}});
  return run(batch);
}

Result<bool> BatchRunner::exists(const std::string& key) {
  auto head = pipeline_.raw().head(key);
  if (head) return true;
  if (head.error().code == Errc::not_found) return false;
  return std::move(head).error();
}

Result<bool> BatchRunner::pending(const std::string& rest) { return exists(std::string(kPendingPrefix) + rest); }

Result<bool> BatchRunner::processed(const std::string& rest) { return exists(std::string(kProcessedPrefix) + rest); }

}  // namespace etl::transformer
