#include "etl/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <typeinfo>

#include <cxxabi.h>

#include "etl/sanitizers.h"

namespace etl {
namespace {

// Written before any crash, read in the handler: fixed buffers, no allocation.
char g_service[64] = "spotify-etl";
std::atomic<bool> g_json{true};
std::atomic<bool> g_reported{false};  // one report, even when terminate's abort() raises SIGABRT

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// Appends to a fixed buffer, dropping what does not fit (async-signal-safe).
struct Line {
  char text[1024];
  std::size_t size = 0;
  void add(const char* s) {
    while (*s && size + 1 < sizeof text) text[size++] = *s++;
  }
  // JSON string content: quotes, backslashes and control bytes escaped.
  void add_escaped(const char* s) {
    for (; *s && size + 7 < sizeof text; ++s) {
      auto c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        text[size++] = '\\';
        text[size++] = static_cast<char>(c);
      } else if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        add("\\u00");
        text[size++] = hex[c >> 4];
        text[size++] = hex[c & 15];
      } else {
        text[size++] = static_cast<char>(c);
      }
    }
  }
  void add_number(long long v, int width = 0) {
    char digits[24];
    int n = 0;
    bool negative = v < 0;
    unsigned long long u = negative ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0 && n < 23);
    while (n < width && n < 23) digits[n++] = '0';
    if (negative) add("-");
    while (n > 0 && size + 1 < sizeof text) text[size++] = digits[--n];
  }
  void add_hex(std::uintptr_t v) {
    static const char hex[] = "0123456789abcdef";
    char digits[2 * sizeof v];
    int n = 0;
    do {
      digits[n++] = hex[v & 15];
      v >>= 4;
    } while (v != 0);
    add("0x");
    while (n > 0 && size + 1 < sizeof text) text[size++] = digits[--n];
  }
  void write_out() {
    add("\n");
    const char* p = text;
    std::size_t left = size;
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n <= 0) return;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
};

// UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" from clock_gettime, by arithmetic (gmtime_r is
// not async-signal-safe). Days to civil date: H. Hinnant's algorithm.
void add_timestamp(Line& line) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  long long secs = ts.tv_sec;
  long long days = secs / 86400, rem = secs % 86400;
  long long z = days + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp < 10 ? mp + 3 : mp - 9;
  long long y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  line.add_number(y, 4);
  line.add("-");
  line.add_number(m, 2);
  line.add("-");
  line.add_number(d, 2);
  line.add("T");
  line.add_number(rem / 3600, 2);
  line.add(":");
  line.add_number(rem / 60 % 60, 2);
  line.add(":");
  line.add_number(rem % 60, 2);
  line.add(".");
  line.add_number(ts.tv_nsec / 1000000, 3);
  line.add("Z");
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

// The log line, then the frames (one per line, as backtrace_symbols_fd writes them).
void report(const char* what, const char* detail) {
  Line line;
  if (g_json.load()) {
    line.add("{\"ts\":\"");
    add_timestamp(line);
    line.add("\",\"level\":\"critical\",\"service\":\"");
    line.add_escaped(g_service);
    line.add("\",\"msg\":\"crashed: ");
    line.add_escaped(what);
    line.add("\",\"detail\":\"");
    line.add_escaped(detail);
    line.add("\",\"pid\":");
    line.add_number(::getpid());
    line.add(",\"backtrace\":\"follows on stderr\"}");
  } else {
    add_timestamp(line);
    line.add(" critical ");
    line.add(g_service);
    line.add(": crashed: ");
    line.add(what);
    line.add(" (");
    line.add(detail);
    line.add("); backtrace follows");
  }
  line.write_out();
  void* frames[64];
  int n = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void on_fatal_signal(int sig, siginfo_t* info, void*) {
  if (!g_reported.exchange(true)) {
    Line detail;
    detail.add("signal ");
    detail.add_number(sig);
    if (info->si_code <= 0) {  // kill(), tgkill() or sigqueue() from a process: which one
      detail.add(" sent by pid ");
      detail.add_number(info->si_pid);
    } else if (sig == SIGSEGV || sig == SIGBUS) {
      detail.add(" at address ");
      detail.add_hex(reinterpret_cast<std::uintptr_t>(info->si_addr));
    } else if (sig == SIGABRT) {
      detail.add(": abort() (a failed check of the C++ library or of glibc's allocator says why above)");
    }
    detail.text[detail.size] = '\0';
    report(signal_name(sig), detail.text);
  }
  // The handler was reset (SA_RESETHAND): the signal again ends the process as it would have.
  ::raise(sig);
}

[[noreturn]] void on_terminate() {
  std::string what = "std::terminate with no exception (a joinable std::thread destroyed, or a noexcept function "
                     "that threw)";
  if (auto current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& e) {
      int status = 0;
      char* type = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
      what = std::string("uncaught ") + (status == 0 && type ? type : typeid(e).name()) + ": " + e.what();
      std::free(type);
    } catch (...) {
      what = "uncaught exception of a type that is not std::exception";
    }
  }
  if (!g_reported.exchange(true)) report("uncaught exception", what.c_str());
  std::abort();
}

}  // namespace

void install_crash_report(std::string_view service, bool json) {
  std::size_t n = std::min(service.size(), sizeof g_service - 1);
  std::memcpy(g_service, service.data(), n);
  g_service[n] = '\0';
  g_json = json;
  static const bool installed = [] {
    // backtrace() loads libgcc on its first call, which allocates: done here, not in a handler.
    void* warm[1];
    (void)::backtrace(warm, 1);
    std::set_terminate(on_terminate);
    if (kAddressSanitizer) return true;  // its own reports on these signals say more
    for (int sig : kSignals) {
      struct sigaction action {};
      action.sa_sigaction = on_fatal_signal;
      action.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
      sigemptyset(&action.sa_mask);
      ::sigaction(sig, &action, nullptr);
    }
    return true;
  }();
  (void)installed;
}

}  // namespace etl
