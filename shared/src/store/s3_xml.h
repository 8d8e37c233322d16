// A tiny XML reader for the handful of documents S3 answers with (ListBucketResult,
// Error, InitiateMultipartUploadResult, CompleteMultipartUploadResult,
// CopyObjectResult). It builds a small element tree and never trusts the input:
// DTDs are refused (so no entity expansion), depth and element count are bounded,
// and anything malformed is bad_data, never a crash. Attributes are read past and
// dropped; namespace prefixes are dropped from element names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::s3 {

struct XmlElement {
  std::string name;  // local name: <s3:Key> is "Key"
  std::string text;  // the decoded character data directly inside (CDATA included), not trimmed
  std::vector<XmlElement> children;

  // The first child with that local name, or nullptr.
  const XmlElement* child(std::string_view child_name) const;
  // The first such child's text; "" when absent.
  std::string child_text(std::string_view child_name) const;
};

struct XmlLimits {
  std::size_t max_depth = 32;          // nesting; S3 documents need 3
  std::size_t max_elements = 200'000;  // a 1,000-key listing page holds about 8,000
};

// Parses one document: optional BOM, <?xml ...?> declaration, comments, one root.
Result<XmlElement> parse_xml(std::string_view document, const XmlLimits& limits = {});

// Decodes &amp; &lt; &gt; &quot; &apos; and &#NNN; / &#xHHH; (to UTF-8); nullopt on an
// unknown or malformed reference (a bare '&', &#0;, a surrogate, beyond U+10FFFF).
std::optional<std::string> decode_xml_entities(std::string_view text);
// Escapes & < > " ' for element text and attribute values.
std::string escape_xml(std::string_view text);

// ---- the S3 documents -----------------------------------------------------------

// <Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>
struct ErrorDoc {
  std::string code;
  std::string message;
  std::string request_id;
  std::string region;    // AuthorizationHeaderMalformed / IllegalLocationConstraint
  std::string endpoint;  // PermanentRedirect
};
// nullopt unless `body` is a well-formed document whose root is <Error>.
std::optional<ErrorDoc> parse_error(std::string_view body);

struct ListEntry {
  std::string key;  // full key in the bucket, URL-decoded when the listing was url-encoded
  std::uint64_t size = 0;
  std::string etag;           // as sent (quoted)
  std::string last_modified;  // ISO 8601, "2009-10-12T17:50:30.000Z"
};
struct ListPage {
  std::vector<ListEntry> entries;
  bool truncated = false;
  std::string next_continuation_token;
};
// ListObjectsV2's <ListBucketResult>. Keys are URL-decoded when <EncodingType>url</EncodingType>.
Result<ListPage> parse_list_objects_v2(std::string_view body);

// <InitiateMultipartUploadResult>'s UploadId (never empty on success).
Result<std::string> parse_initiate_multipart_upload(std::string_view body);

struct WriteResult {
  std::string etag;           // as sent (quoted)
  std::string last_modified;  // CopyObjectResult only
};
// <CompleteMultipartUploadResult> (ETag).
Result<WriteResult> parse_complete_multipart_upload(std::string_view body);
// <CopyObjectResult> (ETag, LastModified).
Result<WriteResult> parse_copy_object(std::string_view body);

// The CompleteMultipartUpload request body; part i+1 has etags[i].
std::string complete_multipart_upload_body(const std::vector<std::string>& etags);

// The DeleteObjects request body for `full_keys` (keys in the bucket), quiet: the
// answer lists only the keys that could not be deleted.
std::string delete_objects_body(const std::vector<std::string>& full_keys);
struct DeleteFailure {
  std::string key;  // full key in the bucket
  std::string code;
  std::string message;
};
struct DeleteResult {
  std::vector<DeleteFailure> failed;  // <Error> entries; <Deleted> ones are dropped
};
// DeleteObjects' <DeleteResult>.
Result<DeleteResult> parse_delete_result(std::string_view body);

}  // namespace etl::s3
