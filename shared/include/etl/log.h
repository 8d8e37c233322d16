// Structured logging on stderr through spdlog: one JSON object per line
// (`{"ts","level","service","msg",...fields}`), or plain text with ETL_LOG_FORMAT=text.
// Never pass secrets as fields: values are written as given.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace etl::log {

enum class Level { trace, debug, info, warn, error };

// Sets up the process-wide logger; `service` is written into every line.
void init(std::string_view service, std::string_view level = "info", std::string_view format = "json");

void write(Level level, std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());
inline void debug(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) { write(Level::debug, msg, f); }
inline void info(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) { write(Level::info, msg, f); }
inline void warn(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) { write(Level::warn, msg, f); }
inline void error(std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) { write(Level::error, msg, f); }

}  // namespace etl::log
