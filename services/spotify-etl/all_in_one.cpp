#include "all_in_one.h"

#include "cataloger_service.h"
#include "etl/log.h"
#include "extractor_service.h"
#include "transformer_service.h"

namespace etl::app {

Result<std::unique_ptr<AllInOne>> AllInOne::create(const Config& config) {
  std::unique_ptr<AllInOne> app(new AllInOne());
  auto bus = open_event_bus(config, "spotify-etl");
  if (!bus) return std::move(bus).error();
  app->bus_ = *bus;
  auto cataloger = cataloger::CatalogerService::create(config, app->bus_);
  if (!cataloger) return std::move(cataloger).error();
  app->cataloger_ = std::move(cataloger).value();
  auto transformer = transformer::TransformerService::create(config, app->bus_);
  if (!transformer) return std::move(transformer).error();
  app->transformer_ = std::move(transformer).value();
  auto extractor = extractor::ExtractorService::create(config, app->bus_);
  if (!extractor) return std::move(extractor).error();
  app->extractor_ = std::move(extractor).value();
  return app;
}

AllInOne::~AllInOne() { stop(); }

Status AllInOne::start() {
  // Downstream first, so no event is published before its consumer exists.
  ETL_RETURN_IF_ERROR(cataloger_->start());
  if (Status s = transformer_->start(); !s.ok()) {
    cataloger_->stop();
    return s;
  }
  if (Status s = extractor_->start(); !s.ok()) {
    transformer_->stop();
    cataloger_->stop();
    return s;
  }
  started_ = true;
  return {};
}

void AllInOne::stop() {
  if (!started_) return;
  started_ = false;
  // Upstream first: no new runs, then drain the transformer, then the catalog.
  extractor_->stop();
  transformer_->stop();
  cataloger_->stop();
}

std::string AllInOne::extractor_url() const { return extractor_->base_url(); }
std::string AllInOne::transformer_url() const { return transformer_->base_url(); }
std::string AllInOne::cataloger_url() const { return cataloger_->base_url(); }
int AllInOne::pg_port() const { return cataloger_->pg_port(); }

}  // namespace etl::app
