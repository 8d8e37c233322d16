// Expected failures as values. Exceptions from libraries are caught in the adapter
// that calls them and turned into an Error here; `http::http_status()` in http_server.h
// is the one place an Errc becomes an HTTP status.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace etl {

enum class Errc {
  invalid_argument,  // the caller's input is wrong (400)
  unauthorized,      // missing or wrong credentials (401)
  forbidden,         // authenticated but not allowed (403 upstream)
  not_found,         // unknown id, key or table (404)
  conflict,          // state does not allow it now (409)
  too_large,         // over a configured size limit (413)
  rate_limited,      // upstream 429 we could not wait out (503)
  quota_exceeded,    // Spotify's development-mode quota: stop all calls (503)
  bad_data,          // input that parses wrong: a poison raw object (422)
  unavailable,       // a dependency is down or refused (503)
  timeout,           // took longer than allowed (504)
  cancelled,         // stopped on request or shutdown
  internal,          // a bug or an unexpected library failure (500)
};

const char* to_string(Errc code) noexcept;

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace etl

// Propagates the error of an expression returning Result<T>/Status.
#define ETL_RETURN_IF_ERROR(expr)                          \
  do {                                                     \
    auto etl_status_ = (expr);                             \
    if (!etl_status_.ok()) return std::move(etl_status_).error(); \
  } while (0)
