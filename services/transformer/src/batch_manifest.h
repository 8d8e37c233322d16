// What a batch is, durably: the cut (one partition's offsets first..last), the
// raw objects whose rows it holds, and the data files it writes. Pure: names,
// JSON form, no I/O.
//
// A batch's manifest is written to the transformed store before any of its data
// files or raw-object moves, and kept. A replay after a crash (the offsets were
// not committed) finds it under the same key and redoes exactly that batch: same
// members, same file names, same bytes. See README.md "Batches".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::transformer {

// While a batch is in progress its manifest is under open/; once its files are
// written, its objects moved and its files announced, it moves to done/ (kept:
// it says which raw objects a data file holds).
inline constexpr std::string_view kOpenManifests = "_transformer/open/";
inline constexpr std::string_view kDoneManifests = "_transformer/batches/";

struct ManifestMember {
  std::int64_t offset = 0;
  std::string rest;  // the raw key below to_be_processed/ (or processed/)
  bool operator==(const ManifestMember&) const = default;
};

struct BatchManifest {
  std::string topic;  // the raw topic; "<topic>@<id>" on an in-process bus (its offsets restart with the process)
  std::int32_t partition = 0;
  std::int64_t first = 0, last = 0;      // offsets of the cut, both included
  std::vector<ManifestMember> members;   // objects whose rows are in the files, offset order
  std::vector<std::string> files;        // transformed-store keys written
  bool operator==(const BatchManifest&) const = default;
};

// "<folder><topic>/<partition>/<first, 20 digits>.json" (folder: kOpenManifests or kDoneManifests).
std::string manifest_key(std::string_view folder, std::string_view topic, std::int32_t partition, std::int64_t first);

// Where a finished batch's manifest is kept: "_transformer/batches/<topic>/<partition>/<first>-<hash>.json"
// (the hash of batch_file_stem: two batches cut at one offset, e.g. by a replay after
// the in-process bus restarted, keep both their manifests).
std::string done_manifest_key(const BatchManifest& manifest);

// The data files' name without extension: "<topic>-<partition>-<first>-<hash>", the
// hash (16 hex) over the topic, partition, first offset and the members' keys. A
// stale manifest (a recreated topic) therefore never names another batch's files.
std::string batch_file_stem(const BatchManifest& manifest);

std::string encode_manifest(const BatchManifest& manifest);
// bad_data for anything that is not a manifest of ours.
Result<BatchManifest> decode_manifest(std::string_view text);

}  // namespace etl::transformer
