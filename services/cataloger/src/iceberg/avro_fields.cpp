// Reading and setting the fields of Avro C record values by name (avro_container.h):
// ["null", T] unions unwrapped on read and picked on write, type mismatches as errors.
#include "avro_container.h"

#include <string>

namespace etl::cataloger::iceberg::avro {

std::optional<avro_value_t> field(avro_value_t& record, const char* name) {
  if (avro_value_get_type(&record) != AVRO_RECORD) return std::nullopt;
  avro_value_t v;
  if (avro_value_get_by_name(&record, name, &v, nullptr) != 0) return std::nullopt;
  if (avro_value_get_type(&v) == AVRO_UNION) {
    avro_value_t branch;
    if (avro_value_get_current_branch(&v, &branch) != 0) return std::nullopt;
    v = branch;
  }
  if (avro_value_get_type(&v) == AVRO_NULL) return std::nullopt;
  return v;
}

namespace {
Error wrong_type(const char* name, const char* want) {
  return make_error(Errc::invalid_argument, std::string("field ") + name + " is not " + want);
}
}  // namespace

Result<std::int32_t> as_int(avro_value_t& v, const char* name) {
  std::int32_t out = 0;
  if (avro_value_get_type(&v) != AVRO_INT32 || avro_value_get_int(&v, &out) != 0) return wrong_type(name, "an int");
  return out;
}

Result<std::int64_t> as_long(avro_value_t& v, const char* name) {
  if (avro_value_get_type(&v) == AVRO_INT32) {
    auto i = as_int(v, name);
    if (!i) return std::move(i).error();
    return std::int64_t{*i};
  }
  std::int64_t out = 0;
  if (avro_value_get_type(&v) != AVRO_INT64 || avro_value_get_long(&v, &out) != 0) return wrong_type(name, "a long");
  return out;
}

Result<bool> as_bool(avro_value_t& v, const char* name) {
  int out = 0;
  if (avro_value_get_type(&v) != AVRO_BOOLEAN || avro_value_get_boolean(&v, &out) != 0)
    return wrong_type(name, "a boolean");
  return out != 0;
}

Result<std::string> as_bytes(avro_value_t& v, const char* name) {
  const void* buf = nullptr;
  const char* str = nullptr;
  std::size_t size = 0;
  switch (avro_value_get_type(&v)) {
    case AVRO_STRING:  // the size counts the terminating NUL
      if (avro_value_get_string(&v, &str, &size) != 0 || size == 0) break;
      return std::string(str, size - 1);
    case AVRO_BYTES:
      if (avro_value_get_bytes(&v, &buf, &size) != 0) break;
      return size == 0 ? std::string() : std::string(static_cast<const char*>(buf), size);
    default:
      break;
  }
  return wrong_type(name, "a string");
}

Result<avro_value_t> child(avro_value_t& record, const char* name, bool in_union) {
  avro_value_t v;
  if (avro_value_get_by_name(&record, name, &v, nullptr) != 0)
    return avro_error(Errc::internal, std::string("schema has no field ") + name);
  if (in_union) {
    avro_value_t branch;
    if (avro_value_set_branch(&v, 1, &branch) != 0) return avro_error(Errc::internal, std::string("set ") + name);
    return branch;
  }
  return v;
}

namespace {
// The value to set under `name`: the field itself, or its union's null/value branch.
Result<avro_value_t> slot(avro_value_t& record, const char* name, bool optional, bool present) {
  if (!optional) return child(record, name, false);
  avro_value_t v, branch;
  if (avro_value_get_by_name(&record, name, &v, nullptr) != 0 || avro_value_set_branch(&v, present ? 1 : 0, &branch) != 0)
    return avro_error(Errc::internal, std::string("set ") + name);
  return branch;
}

Status check(int rc, const char* name) {
  if (rc != 0) return avro_error(Errc::internal, std::string("set ") + name);
  return ok_status();
}
}  // namespace

Status set_int(avro_value_t& record, const char* name, std::int32_t value) {
  auto v = slot(record, name, false, true);
  if (!v) return std::move(v).error();
  return check(avro_value_set_int(&*v, value), name);
}

Status set_long(avro_value_t& record, const char* name, std::int64_t value) {
  auto v = slot(record, name, false, true);
  if (!v) return std::move(v).error();
  return check(avro_value_set_long(&*v, value), name);
}

Status set_bool(avro_value_t& record, const char* name, bool value) {
  auto v = slot(record, name, false, true);
  if (!v) return std::move(v).error();
  return check(avro_value_set_boolean(&*v, value ? 1 : 0), name);
}

Status set_string(avro_value_t& record, const char* name, std::string_view value) {
  auto v = slot(record, name, false, true);
  if (!v) return std::move(v).error();
  std::string copy(value);  // NUL-terminated; Avro C's length counts the NUL
  return check(avro_value_set_string_len(&*v, copy.c_str(), copy.size() + 1), name);
}

Status set_null(avro_value_t& record, const char* name) {
  auto v = slot(record, name, true, false);
  if (!v) return std::move(v).error();
  return check(avro_value_set_null(&*v), name);
}

Status set_optional_long(avro_value_t& record, const char* name, std::optional<std::int64_t> value) {
  auto v = slot(record, name, true, value.has_value());
  if (!v) return std::move(v).error();
  return check(value ? avro_value_set_long(&*v, *value) : avro_value_set_null(&*v), name);
}

Status set_optional_bool(avro_value_t& record, const char* name, std::optional<bool> value) {
  auto v = slot(record, name, true, value.has_value());
  if (!v) return std::move(v).error();
  return check(value ? avro_value_set_boolean(&*v, *value ? 1 : 0) : avro_value_set_null(&*v), name);
}

Status set_optional_string(avro_value_t& record, const char* name, const std::optional<std::string>& value) {
  auto v = slot(record, name, true, value.has_value());
  if (!v) return std::move(v).error();
  if (!value) return check(avro_value_set_null(&*v), name);
  return check(avro_value_set_string_len(&*v, value->c_str(), value->size() + 1), name);
}

Status set_optional_bytes(avro_value_t& record, const char* name, const std::optional<std::string>& value) {
  auto v = slot(record, name, true, value.has_value());
  if (!v) return std::move(v).error();
  if (!value) return check(avro_value_set_null(&*v), name);
  return check(avro_value_set_bytes(&*v, const_cast<char*>(value->data()), value->size()), name);
}

}  // namespace etl::cataloger::iceberg::avro
