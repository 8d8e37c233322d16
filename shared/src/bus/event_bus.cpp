#include "etl/event_bus.h"

#include "etl/memory_bus.h"
#include "kafka_bus.h"

namespace etl {

Result<std::shared_ptr<EventBus>> open_event_bus(const Config& config, const std::string& client_id) {
  if (config.bus == "memory") return std::shared_ptr<EventBus>(make_memory_bus());
  if (config.bus == "kafka") {
    auto bus = KafkaBus::create(config, client_id);
    if (!bus) return std::move(bus).error();
    return std::shared_ptr<EventBus>(std::move(bus).value());
  }
  return make_error(Errc::invalid_argument, "ETL_BUS: unknown bus '" + config.bus + "'");
}

}  // namespace etl
