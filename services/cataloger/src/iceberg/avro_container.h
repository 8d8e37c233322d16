// Avro object container files in memory (Avro spec, "Object Container Files"),
// framed here because Avro C's file writer cannot add our own file metadata and
// its reader wants a FILE*. Avro C serializes and deserializes the datums.
//
// The reader takes the writer schema from the file and checks every datum
// against it (lengths within the block, union branches and enum symbols in range,
// bounded nesting and element counts) before Avro C reads it: Avro C allocates
// whatever length a byte string claims, so unchecked garbage could ask for
// gigabytes. Codecs read: "null" and "deflate"; written: "null".
#pragma once

#include <avro.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::cataloger::iceberg::avro {

// The file's key-value metadata, avro.schema and avro.codec included.
using Metadata = std::map<std::string, std::string, std::less<>>;

// A file of `count` datums of `schema_json`; fill(datum, i) sets the i-th (the
// datum comes reset). `metadata` must not hold avro.* keys.
Result<std::string> write_container(std::string_view schema_json, const Metadata& metadata, std::size_t count,
                                    const std::function<Status(avro_value_t& datum, std::size_t index)>& fill);

// The header's metadata. invalid_argument when the bytes are not an Avro container.
Result<Metadata> read_container_metadata(std::string_view bytes);

// Calls each(datum) for every datum in file order, the datum in the file's own
// (writer) schema. Stops at the first error.
Status read_container(std::string_view bytes, const std::function<Status(avro_value_t& datum)>& each);

// ---- reading and setting fields of a record value, by name --------------------

// The field's value with a ["null", T] union unwrapped; nullopt when the record has
// no such field or its value is null.
std::optional<avro_value_t> field(avro_value_t& record, const char* name);

Result<std::int32_t> as_int(avro_value_t& v, const char* name);     // int
Result<std::int64_t> as_long(avro_value_t& v, const char* name);    // int or long
Result<bool> as_bool(avro_value_t& v, const char* name);            // boolean
Result<std::string> as_bytes(avro_value_t& v, const char* name);    // string or bytes

Status set_int(avro_value_t& record, const char* name, std::int32_t value);
Status set_long(avro_value_t& record, const char* name, std::int64_t value);
Status set_bool(avro_value_t& record, const char* name, bool value);
Status set_string(avro_value_t& record, const char* name, std::string_view value);
// A ["null", T] field: branch 0 (null) for nullopt, else branch 1 set to the value.
Status set_optional_long(avro_value_t& record, const char* name, std::optional<std::int64_t> value);
Status set_optional_bool(avro_value_t& record, const char* name, std::optional<bool> value);
Status set_optional_string(avro_value_t& record, const char* name, const std::optional<std::string>& value);
Status set_optional_bytes(avro_value_t& record, const char* name, const std::optional<std::string>& value);
// The record (or union-wrapped record/array: branch 1) under `name`.
Result<avro_value_t> child(avro_value_t& record, const char* name, bool in_union = false);
Status set_null(avro_value_t& record, const char* name);

// An Avro C failure as an Error: what we were doing plus avro_strerror().
Error avro_error(Errc code, std::string_view what);

}  // namespace etl::cataloger::iceberg::avro
