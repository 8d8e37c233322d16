// What every executable's main() shares: --help and --version, configuration
// from the environment (one line and exit 2 when it is bad), JSON logs, and a
// graceful stop on SIGTERM/SIGINT within 10 seconds (exit 0).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "etl/config.h"
#include "etl/result.h"

namespace etl {

// A started part of the program (a service, or the three of them in `spotify-etl up`).
class Runnable {
 public:
  virtual ~Runnable() = default;
  virtual Status start() = 0;
  // Stop accepting, finish or abandon in-flight work without corrupting anything.
  virtual void stop() = 0;
};

struct Program {
  std::string name;     // "extractor"
  std::string summary;  // one line for --help
  std::string help;     // the rest of --help (variables it reads)
  ConfigDefaults defaults;
  std::function<Result<std::unique_ptr<Runnable>>(const Config&)> make;
  // `--addr HOST:PORT` sets ETL_<NAME>_ADDR, unless this is set (a program with
  // several listeners, `spotify-etl up`): then the flag is refused with it.
  std::string addr_refused;
};

// Blocks SIGTERM/SIGINT in this thread (and the threads it starts later) so
// `wait_for_shutdown_signal` can take them. Call before starting threads.
void block_shutdown_signals();
// Waits for SIGTERM or SIGINT, logs "shutting down" with the signal and the
// sender's pid; returns its number.
int wait_for_shutdown_signal();
// Runs `stop` with a deadline; past it the process exits 0 at once (writes are
// atomic, so abandoning them corrupts nothing).
void stop_with_deadline(const std::function<void()>& stop, std::chrono::seconds deadline = std::chrono::seconds(9));

// main() for a service: `return run_program(program, argc, argv);`
int run_program(const Program& program, int argc, char** argv);

}  // namespace etl
