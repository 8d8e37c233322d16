#include "etl/service_main.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "etl/log.h"

namespace etl {

void block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_shutdown_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  siginfo_t info{};
  int sig = -1;
  while ((sig = sigwaitinfo(&set, &info)) < 0) {
  }
  // Who asked: a shutdown nobody expected is then traced to its sender.
  log::info("shutting down",
            {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}, {"sender_pid", static_cast<long>(info.si_pid)}});
  return sig;
}

void stop_with_deadline(const std::function<void()>& stop, std::chrono::seconds deadline) {
  std::thread watchdog([deadline] {
    std::this_thread::sleep_for(deadline);
    log::warn("shutdown deadline reached; exiting with work abandoned", {{"deadline_s", deadline.count()}});
    std::fflush(nullptr);
    std::_Exit(0);
  });
  watchdog.detach();
  stop();
}

int run_program(const Program& program, int argc, char** argv) {
  Environment env = process_env();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s %s — %s\n\n", program.name.c_str(), ETL_VERSION, program.summary.c_str());
      if (program.addr_refused.empty()) std::printf("Usage: %s [--addr HOST:PORT]\n\n", program.name.c_str());
      std::printf("%s\n", program.help.c_str());
      return 0;
    }
    if (arg == "--version") {
      std::printf("%s %s\n", program.name.c_str(), ETL_VERSION);
      return 0;
    }
    if (arg == "--addr" && !program.addr_refused.empty()) {
      std::fprintf(stderr, "%s: --addr is not an option here: %s\n", program.name.c_str(), program.addr_refused.c_str());
      return 2;
    }
    if (arg == "--addr" && (i + 1 == argc || argv[i + 1][0] == '\0')) {
      std::fprintf(stderr, "%s: --addr needs HOST:PORT\n", program.name.c_str());
      return 2;
    }
    if (arg == "--addr") {
      // The flag overrides this service's address variable.
      std::string var = "ETL_" + program.name + "_ADDR";
      for (auto& c : var) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      env[var] = argv[++i];
      continue;
    }
    std::fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", program.name.c_str(), arg.c_str());
    return 2;
  }

  auto config = load_config(env, program.defaults);
  if (!config) {
    std::fprintf(stderr, "%s: configuration error: %s\n", program.name.c_str(), config.error().message.c_str());
    return 2;
  }
  log::init(program.name, config->log_level, config->log_format);
  block_shutdown_signals();

  auto runnable = program.make(*config);
  if (!runnable) {
    // One line, as for configuration errors: the reason and nothing else.
    std::fprintf(stderr, "%s: %s\n", program.name.c_str(), runnable.error().message.c_str());
    return runnable.error().code == Errc::invalid_argument ? 2 : 1;
  }
  if (Status s = (*runnable)->start(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.name.c_str(), s.error().message.c_str());
    return s.error().code == Errc::invalid_argument ? 2 : 1;  // e.g. refusing to listen open; a taken port is 1
  }
  log::info("started", {{"version", ETL_VERSION}, {"variables_set", config->set_variables}});
  (void)wait_for_shutdown_signal();
  stop_with_deadline([&] { (*runnable)->stop(); });
  runnable->reset();
  log::info("stopped");
  return 0;
}

}  // namespace etl
