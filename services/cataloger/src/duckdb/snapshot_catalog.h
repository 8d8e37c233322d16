// The query engine process's copy of the catalog (engine_process.h): what the
// cataloger last sent, read by the child's DuckDbEngine::sync_views as the
// cataloger's own catalog would be. Built from "catalog" messages only.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_wire.h"
#include "etl/catalog.h"

namespace etl::cataloger {

// The catalog as the cataloger last sent it: tables, and the partitions of each.
class SnapshotCatalog final : public Catalog {
 public:
  explicit SnapshotCatalog(std::string database) : database_(std::move(database)) {}

  // A "catalog" message: every table; partitions for those that changed (the
  // others keep theirs while their data_version stands: a table whose new
  // partitions the cataloger could not send has none here, so its view keeps
  // its previous version and is built again later); tables not named are gone.
  void apply(const nlohmann::json& message) {
    std::lock_guard lock(mutex_);
    std::vector<TableInfo> tables;
    std::map<std::string, Partitions> partitions;
    const nlohmann::json sent = message.value("partitions", nlohmann::json::object());
    for (const auto& t : message.value("tables", nlohmann::json::array())) {
      TableInfo table = engine_wire::table_from_json(t);
      if (auto it = sent.find(table.name); it != sent.end()) {
        auto& held = partitions[table.name];
        held.data_version = table.data_version;
        for (const auto& p : *it) held.list.push_back(engine_wire::partition_from_json(p));
      } else if (auto kept = partitions_.find(table.name);
                 kept != partitions_.end() && kept->second.data_version == table.data_version) {
        partitions[table.name] = std::move(kept->second);
      }
      tables.push_back(std::move(table));
    }
    tables_ = std::move(tables);
    partitions_ = std::move(partitions);
    generation_ = message.value("generation", std::uint64_t{0});
  }

  std::string name() const override { return "local"; }
  std::string database() const override { return database_; }
  Result<std::vector<TableInfo>> list_tables() override {
    std::lock_guard lock(mutex_);
    return tables_;
  }
  Result<TableInfo> get_table(const std::string& name) override {
    std::lock_guard lock(mutex_);
    for (const auto& t : tables_)
      if (t.name == name) return t;
    return make_error(Errc::not_found, "no table " + name);
  }
  Result<std::vector<PartitionInfo>> get_partitions(const std::string& table) override {
    std::lock_guard lock(mutex_);
    auto it = partitions_.find(table);
    if (it == partitions_.end()) return make_error(Errc::not_found, "no partitions of " + table + " were sent");
    return it->second.list;
  }
  Result<CrawlInfo> start_crawl(const CrawlRequest&) override { return not_here(); }
  Result<CrawlInfo> get_crawl(const std::string&) override { return not_here(); }
  Result<CrawlInfo> wait_crawl(const std::string&, std::chrono::milliseconds) override { return not_here(); }
  std::uint64_t generation() const override {
    std::lock_guard lock(mutex_);
    return generation_;
  }
  Status ping() override { return {}; }

 private:
  static Error not_here() { return make_error(Errc::invalid_argument, "the query engine process does not crawl"); }
  mutable std::mutex mutex_;
  std::string database_;
  struct Partitions {
    std::int64_t data_version = 0;  // of the table they were sent with
    std::vector<PartitionInfo> list;
  };
  std::vector<TableInfo> tables_;
  std::map<std::string, Partitions> partitions_;
  std::uint64_t generation_ = 0;
};

}  // namespace etl::cataloger
