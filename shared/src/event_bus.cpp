#include "etl/event_bus.h"

#include "etl/memory_bus.h"

namespace etl {

Result<std::shared_ptr<EventBus>> open_event_bus(const Config& config, const std::string& client_id) {
  (void)client_id;
  if (config.bus == "memory") return std::shared_ptr<EventBus>(make_memory_bus());
  if (config.bus == "kafka")
    return make_error(Errc::invalid_argument, "ETL_BUS=kafka is not available in this build yet; use ETL_BUS=memory");
  return make_error(Errc::invalid_argument, "ETL_BUS: unknown bus '" + config.bus + "'");
}

}  // namespace etl
