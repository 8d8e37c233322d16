// Which snapshot `as_of` names: a kept id, or the snapshot current at a time (the
// snapshot log), never an expired one.
#include <gtest/gtest.h>

#include "time_travel.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;

// Snapshots 1 (t=1000), 2 (t=2000), 3 (t=3000); 1 has expired (no longer kept)
// but the log still names it.
json metadata() {
  return json::parse(R"({
    "current-snapshot-id": 3,
    "snapshots": [{"snapshot-id": 2, "timestamp-ms": 2000}, {"snapshot-id": 3, "timestamp-ms": 3000}],
    "snapshot-log": [{"snapshot-id": 1, "timestamp-ms": 1000}, {"snapshot-id": 2, "timestamp-ms": 2000},
                     {"snapshot-id": 3, "timestamp-ms": 3000}]})");
}

AsOf at(std::int64_t ms) { return {std::nullopt, ms}; }
AsOf id(std::int64_t snapshot) { return {snapshot, std::nullopt}; }

TEST(TimeTravel, ASnapshotIdMustBeKept) {
  EXPECT_EQ(snapshot_as_of(metadata(), id(2)), 2);
  EXPECT_EQ(snapshot_as_of(metadata(), id(3)), 3);
  EXPECT_FALSE(snapshot_as_of(metadata(), id(1))) << "expired";
  EXPECT_FALSE(snapshot_as_of(metadata(), id(4)));
}

TEST(TimeTravel, ATimeNamesTheSnapshotCurrentThen) {
  EXPECT_EQ(snapshot_as_of(metadata(), at(2000)), 2) << "a snapshot is current from its own time";
  EXPECT_EQ(snapshot_as_of(metadata(), at(2999)), 2);
  EXPECT_EQ(snapshot_as_of(metadata(), at(3000)), 3);
  EXPECT_EQ(snapshot_as_of(metadata(), at(9'999'999)), 3);
  EXPECT_FALSE(snapshot_as_of(metadata(), at(1500))) << "snapshot 1 was current then, and it has expired";
  EXPECT_FALSE(snapshot_as_of(metadata(), at(999))) << "before the first commit";
}

TEST(TimeTravel, MalformedMetadataNamesNothing) {
  EXPECT_FALSE(snapshot_as_of(json::object(), id(2)));
  EXPECT_FALSE(snapshot_as_of(json::object(), at(5000)));
  EXPECT_FALSE(snapshot_as_of(json::parse(R"({"snapshots": 1, "snapshot-log": {"x": 1}})"), at(5000)));
  EXPECT_FALSE(snapshot_as_of(metadata(), AsOf{}));
}

}  // namespace
}  // namespace etl::cataloger::iceberg
