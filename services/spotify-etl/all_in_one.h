// `spotify-etl up`: the three services in one process, sharing one event bus
// (in-process by default) and the configured stores.
#pragma once

#include <memory>

#include "etl/config.h"
#include "etl/event_bus.h"
#include "etl/service_main.h"

namespace etl::extractor { class ExtractorService; }
namespace etl::transformer { class TransformerService; }
namespace etl::cataloger { class CatalogerService; }

namespace etl::app {

class AllInOne final : public Runnable {
 public:
  // The Spotify API comes from the configuration (SPOTIFY_* variables).
  static Result<std::unique_ptr<AllInOne>> create(const Config& config);
  ~AllInOne() override;

  Status start() override;
  void stop() override;

  std::string extractor_url() const;
  std::string transformer_url() const;
  std::string cataloger_url() const;
  int pg_port() const;  // the cataloger's PostgreSQL endpoint; 0 when ETL_PG_ADDR=off

 private:
  AllInOne() = default;
  std::shared_ptr<EventBus> bus_;
  std::unique_ptr<extractor::ExtractorService> extractor_;
  std::unique_ptr<transformer::TransformerService> transformer_;
  std::unique_ptr<cataloger::CatalogerService> cataloger_;
  bool started_ = false;
};

}  // namespace etl::app
