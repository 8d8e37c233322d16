// What a process says when it crashes: a fatal signal (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGABRT) or an exception no one caught writes one log line (JSON or
// text, as the logger) and a backtrace to stderr, then ends the process as the
// signal would have (so exit codes and core dumps stay as they were).
// log::init installs it; installing again only renames the service.
#pragma once

#include <string_view>

namespace etl {

void install_crash_report(std::string_view service, bool json);

}  // namespace etl
