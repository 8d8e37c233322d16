#include "etl/log.h"

#include "etl/crash_report.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace etl::log {
namespace {

std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;
std::atomic<bool> g_json{true};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard lock(g_mutex);
  if (!g_logger) {
    // Before init (tests, early errors): a plain JSON logger named "etl".
    g_logger = spdlog::stderr_logger_mt("etl-default");
    g_logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","service":"%n",%v})",
                          spdlog::pattern_time_type::utc);
  }
  return g_logger;
}

}  // namespace

void init(std::string_view service, std::string_view level, std::string_view format) {
  std::lock_guard lock(g_mutex);
  auto name = std::string(service);
  spdlog::drop(name);
  g_logger = spdlog::stderr_logger_mt(name);
  g_json = format != "text";
  if (g_json) {
    // The message is the already-serialised body of the JSON object minus its braces.
    g_logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","service":"%n",%v})",
                          spdlog::pattern_time_type::utc);
  } else {
    g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %n: %v", spdlog::pattern_time_type::utc);
  }
  g_logger->set_level(spdlog::level::from_str(std::string(level)));
  g_logger->flush_on(spdlog::level::info);
  install_crash_report(service, g_json);
}

void write(Level level, std::string_view msg, const nlohmann::json& fields) {
  auto lg = logger();
  auto lvl = to_spdlog(level);
  if (!lg->should_log(lvl)) return;
  if (g_json) {
    nlohmann::json line = nlohmann::json::object();
    line["msg"] = msg;
    if (fields.is_object())
      for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
    auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    lg->log(lvl, "{}", std::string_view(text).substr(1, text.size() - 2));
  } else {
    std::string text(msg);
    if (fields.is_object() && !fields.empty())
      text += " " + fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    lg->log(lvl, "{}", text);
  }
}

}  // namespace etl::log
