#include "avro_container.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <array>
#include <cstring>
#include <memory>
#include <set>

namespace etl::cataloger::iceberg::avro {
namespace {

constexpr std::string_view kMagic{"Obj\x01", 4};
constexpr std::size_t kSyncSize = 16;
constexpr std::size_t kBlockBytes = 64 * 1024;               // a block is flushed past this size
constexpr std::size_t kMaxInflatedBlock = 256 * 1024 * 1024;  // a deflate block may not grow past this
constexpr int kMaxDepth = 64;                                 // datum nesting (recursive schemas)

struct SchemaDeleter {
  void operator()(avro_obj_t* s) const { avro_schema_decref(s); }
};
using SchemaPtr = std::unique_ptr<avro_obj_t, SchemaDeleter>;
struct IfaceDeleter {
  void operator()(avro_value_iface_t* i) const { avro_value_iface_decref(i); }
};
using IfacePtr = std::unique_ptr<avro_value_iface_t, IfaceDeleter>;
struct ReaderDeleter {
  void operator()(avro_reader_t_* r) const { avro_reader_free(r); }
};
using ReaderPtr = std::unique_ptr<avro_reader_t_, ReaderDeleter>;
struct WriterDeleter {
  void operator()(avro_writer_t_* w) const { avro_writer_free(w); }
};
using WriterPtr = std::unique_ptr<avro_writer_t_, WriterDeleter>;

// A generic value of a schema, decref'd on scope exit.
class Value {
 public:
  Value() = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value() {
    if (v_.self) avro_value_decref(&v_);
  }
  static Result<std::pair<IfacePtr, std::unique_ptr<Value>>> make(avro_schema_t schema) {
    IfacePtr iface(avro_generic_class_from_schema(schema));
    if (!iface) return avro_error(Errc::invalid_argument, "no value class for the schema");
    auto value = std::make_unique<Value>();
    if (avro_generic_value_new(iface.get(), &value->v_) != 0) {
      value->v_ = {};
      return avro_error(Errc::internal, "cannot create a value");
    }
    return std::pair{std::move(iface), std::move(value)};
  }
  avro_value_t& get() { return v_; }

 private:
  avro_value_t v_{};
};

// Avro C 1.11.1 leaks the second definition of a named type (its "Cannot save record
// schema" path returns without a decref), so a schema defining a name twice is refused
// here first. Stricter than Avro (the same name in two namespaces is refused too):
// Iceberg names its records by field id, unique within a file.
bool defines_a_name_twice(const nlohmann::json& j, std::set<std::string>& names, int depth = 0) {
  if (depth > 256) return true;
  if (j.is_array()) {
    for (const auto& x : j)
      if (defines_a_name_twice(x, names, depth + 1)) return true;
    return false;
  }
  if (!j.is_object()) return false;
  auto type = j.find("type");
  auto name = j.find("name");
  if (type != j.end() && type->is_string() && name != j.end() && name->is_string()) {
    const auto& t = type->get_ref<const std::string&>();
    if (t == "record" || t == "error" || t == "enum" || t == "fixed") {
      auto n = name->get<std::string>();
      if (auto dot = n.rfind('.'); dot != std::string::npos) n = n.substr(dot + 1);
      if (!names.insert(n).second) return true;
    }
  }
  for (const auto& [key, value] : j.items())
    if (defines_a_name_twice(value, names, depth + 1)) return true;
  return false;
}

Result<SchemaPtr> parse_schema(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::invalid_argument, "Avro schema is not JSON");
  std::set<std::string> names;
  if (defines_a_name_twice(doc, names))
    return make_error(Errc::invalid_argument, "Avro schema defines a type name twice (or nests too deep)");
  avro_schema_t schema = nullptr;  // on failure Avro C has already released it
  if (avro_schema_from_json_length(json.data(), json.size(), &schema) != 0 || !schema)
    return avro_error(Errc::invalid_argument, "bad Avro schema");
  return SchemaPtr(schema);
}

void put_long(std::string& out, std::int64_t v) {
  auto z = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));
}

void put_bytes(std::string& out, std::string_view s) {
  put_long(out, static_cast<std::int64_t>(s.size()));
  out.append(s);
}

// Reads the binary encoding with every length checked against what is left.
struct Cursor {
  std::string_view data;
  std::size_t pos = 0;

  std::size_t left() const { return data.size() - pos; }
  bool long_(std::int64_t& v) {
    std::uint64_t z = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= data.size()) return false;
      auto b = static_cast<std::uint8_t>(data[pos++]);
      z |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        v = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
        return true;
      }
    }
    return false;  // over 10 bytes
  }
  bool skip(std::size_t n) {
    if (n > left()) return false;
    pos += n;
    return true;
  }
  bool bytes(std::string_view& out) {
    std::int64_t n = 0;
    if (!long_(n) || n < 0 || static_cast<std::uint64_t>(n) > left()) return false;
    out = data.substr(pos, static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return true;
  }
};

// Walks one datum of `schema` without allocating; false when the bytes do not fit it.
// `budget` bounds the values visited (zero-byte values such as null cost nothing in
// the input but still cost Avro C an allocation each).
bool check_datum(Cursor& c, avro_schema_t schema, int depth, std::size_t& budget) {
  if (depth > kMaxDepth || budget == 0) return false;
  --budget;
  std::int64_t n = 0;
  switch (avro_typeof(schema)) {
    case AVRO_NULL:
      return true;
    case AVRO_BOOLEAN:
      return c.skip(1);
    case AVRO_INT32:
    case AVRO_INT64:
      return c.long_(n);
    case AVRO_FLOAT:
      return c.skip(4);
    case AVRO_DOUBLE:
      return c.skip(8);
    case AVRO_STRING:
    case AVRO_BYTES: {
      std::string_view s;
      return c.bytes(s);
    }
    case AVRO_FIXED: {
      auto size = avro_schema_fixed_size(schema);
      return size >= 0 && c.skip(static_cast<std::size_t>(size));
    }
    case AVRO_ENUM:
      return c.long_(n) && n >= 0 && n < avro_schema_enum_number_of_symbols(schema);
    case AVRO_RECORD:
      for (std::size_t i = 0; i < avro_schema_record_size(schema); ++i)
        if (!check_datum(c, avro_schema_record_field_get_by_index(schema, static_cast<int>(i)), depth + 1, budget))
          return false;
      return true;
    case AVRO_UNION: {
      if (!c.long_(n) || n < 0 || static_cast<std::uint64_t>(n) >= avro_schema_union_size(schema)) return false;
      return check_datum(c, avro_schema_union_branch(schema, static_cast<int>(n)), depth + 1, budget);
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
      bool is_map = avro_typeof(schema) == AVRO_MAP;
      auto items = is_map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
      while (true) {
        std::int64_t count = 0;
        if (!c.long_(count)) return false;
        if (count == 0) return true;
        if (count < 0) {
          std::int64_t block_size = 0;
          if (count == INT64_MIN || !c.long_(block_size)) return false;
          count = -count;
        }
        if (static_cast<std::uint64_t>(count) > c.left() + budget) return false;
        for (std::int64_t i = 0; i < count; ++i) {
          std::string_view key;
          if (is_map && !c.bytes(key)) return false;
          if (!check_datum(c, items, depth + 1, budget)) return false;
        }
      }
    }
    case AVRO_LINK:
      return check_datum(c, avro_schema_link_target(schema), depth + 1, budget);
    default:
      return false;
  }
}

Result<std::string> inflate_block(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return make_error(Errc::internal, "zlib: inflateInit2 failed");
  std::string out;
  std::array<char, 64 * 1024> chunk{};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(chunk.data(), chunk.size() - zs.avail_out);
    if (out.size() > kMaxInflatedBlock) {
      rc = Z_MEM_ERROR;
      break;
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_DATA_ERROR;  // the stream ends early
      break;
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return make_error(Errc::invalid_argument, "Avro block: bad deflate data");
  return out;
}

// The header: metadata and sync marker; c ends at the first block.
Status read_header(Cursor& c, Metadata& metadata, std::string_view& sync) {
  if (c.data.substr(0, kMagic.size()) != kMagic)
    return make_error(Errc::invalid_argument, "not an Avro object container file (no Obj\\x01 magic)");
  c.pos = kMagic.size();
  auto bad = [] { return make_error(Errc::invalid_argument, "Avro file header: truncated or malformed metadata"); };
  while (true) {
    std::int64_t count = 0;
    if (!c.long_(count)) return bad();
    if (count == 0) break;
    if (count < 0) {
      std::int64_t block_size = 0;
      if (count == INT64_MIN || !c.long_(block_size)) return bad();
      count = -count;
    }
    if (static_cast<std::uint64_t>(count) > c.left()) return bad();
    for (std::int64_t i = 0; i < count; ++i) {
      std::string_view key, value;
      if (!c.bytes(key) || !c.bytes(value)) return bad();
      metadata.insert_or_assign(std::string(key), std::string(value));
    }
  }
  if (c.left() < kSyncSize) return bad();
  sync = c.data.substr(c.pos, kSyncSize);
  c.pos += kSyncSize;
  return ok_status();
}

// The sync marker only has to be unlikely inside blocks; deriving it from the header
// keeps the output a function of the input (the same manifest, the same bytes).
std::string sync_marker(std::string_view header) {
  std::string sync;
  for (std::uint64_t seed : {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL}) {
    std::uint64_t h = seed;
    for (unsigned char ch : header) h = (h ^ ch) * 0x100000001b3ULL;
    for (int i = 0; i < 8; ++i) sync.push_back(static_cast<char>(h >> (8 * i)));
  }
  return sync;
}

}  // namespace

Error avro_error(Errc code, std::string_view what) {
  std::string message(what);
  const char* detail = avro_strerror();
  if (detail && *detail) message += std::string(": ") + detail;
  return make_error(code, std::move(message));
}

Result<std::string> write_container(std::string_view schema_json, const Metadata& metadata, std::size_t count,
                                    const std::function<Status(avro_value_t&, std::size_t)>& fill) {
  auto schema = parse_schema(schema_json);
  if (!schema) return std::move(schema).error();
  auto made = Value::make(schema->get());
  if (!made) return std::move(made).error();
  auto& [iface, value] = *made;
  WriterPtr writer(avro_writer_memory(nullptr, 0));
  if (!writer) return avro_error(Errc::internal, "cannot create an Avro memory writer");

  std::string out(kMagic);
  std::string header;
  put_long(header, static_cast<std::int64_t>(metadata.size() + 2));
  put_bytes(header, "avro.schema");
  put_bytes(header, schema_json);
  put_bytes(header, "avro.codec");
  put_bytes(header, "null");
  for (const auto& [key, val] : metadata) {
    put_bytes(header, key);
    put_bytes(header, val);
  }
  put_long(header, 0);
  auto sync = sync_marker(header);
  out += header;
  out += sync;

  std::string block;
  std::size_t in_block = 0;
  auto flush = [&] {
    put_long(out, static_cast<std::int64_t>(in_block));
    put_long(out, static_cast<std::int64_t>(block.size()));
    out += block;
    out += sync;
    block.clear();
    in_block = 0;
  };
  for (std::size_t i = 0; i < count; ++i) {
    if (avro_value_reset(&value->get()) != 0) return avro_error(Errc::internal, "cannot reset a datum");
    ETL_RETURN_IF_ERROR(fill(value->get(), i));
    std::size_t size = 0;
    if (avro_value_sizeof(&value->get(), &size) != 0) return avro_error(Errc::internal, "cannot size a datum");
    auto at = block.size();
    block.resize(at + size);
    avro_writer_memory_set_dest(writer.get(), block.data() + at, static_cast<std::int64_t>(size));
    if (avro_value_write(writer.get(), &value->get()) != 0) return avro_error(Errc::internal, "cannot write a datum");
    ++in_block;
    if (block.size() >= kBlockBytes) flush();
  }
  if (in_block > 0) flush();
  return out;
}

Result<Metadata> read_container_metadata(std::string_view bytes) {
  Cursor c{bytes};
  Metadata metadata;
  std::string_view sync;
  ETL_RETURN_IF_ERROR(read_header(c, metadata, sync));
  return metadata;
}

Status read_container(std::string_view bytes, const std::function<Status(avro_value_t&)>& each) {
  Cursor c{bytes};
  Metadata metadata;
  std::string_view sync;
  ETL_RETURN_IF_ERROR(read_header(c, metadata, sync));
  auto codec_it = metadata.find("avro.codec");
  std::string codec = codec_it == metadata.end() ? "null" : codec_it->second;
  if (codec != "null" && codec != "deflate")
    return make_error(Errc::invalid_argument, "Avro codec '" + codec + "' is not supported (null, deflate)");
  auto schema_it = metadata.find("avro.schema");
  if (schema_it == metadata.end()) return make_error(Errc::invalid_argument, "Avro file header has no avro.schema");
  auto schema = parse_schema(schema_it->second);
  if (!schema) return std::move(schema).error();
  if (avro_typeof(schema->get()) != AVRO_RECORD)
    return make_error(Errc::invalid_argument, "Avro file schema is not a record");
  auto made = Value::make(schema->get());
  if (!made) return std::move(made).error();
  auto& [iface, value] = *made;
  ReaderPtr reader(avro_reader_memory(nullptr, 0));
  if (!reader) return avro_error(Errc::internal, "cannot create an Avro memory reader");

  auto bad = [](const char* what) { return make_error(Errc::invalid_argument, std::string("Avro block: ") + what); };
  while (c.left() > 0) {
    std::int64_t count = 0;
    std::string_view raw;
    if (!c.long_(count) || count < 0) return bad("bad datum count");
    if (!c.bytes(raw)) return bad("truncated");
    if (c.left() < kSyncSize || c.data.substr(c.pos, kSyncSize) != sync) return bad("sync marker does not match");
    c.pos += kSyncSize;
    std::string inflated;
    if (codec == "deflate") {
      auto data = inflate_block(raw);
      if (!data) return std::move(data).error();
      inflated = std::move(*data);
      raw = inflated;
    }
    if (static_cast<std::uint64_t>(count) > raw.size()) return bad("more datums than bytes");
    Cursor datums{raw};
    std::size_t budget = 16 * raw.size() + 1024;
    for (std::int64_t i = 0; i < count; ++i) {
      auto start = datums.pos;
      if (!check_datum(datums, schema->get(), 0, budget)) return bad("a datum does not match the file's schema");
      avro_reader_memory_set_source(reader.get(), raw.data() + start, static_cast<std::int64_t>(datums.pos - start));
      if (avro_value_read(reader.get(), &value->get()) != 0) return avro_error(Errc::invalid_argument, "Avro datum");
      ETL_RETURN_IF_ERROR(each(value->get()));
    }
    if (datums.left() != 0) return bad("bytes left after its datums");
  }
  return ok_status();
}

}  // namespace etl::cataloger::iceberg::avro
