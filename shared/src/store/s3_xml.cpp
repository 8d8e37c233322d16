#include "s3_xml.h"

#include <charconv>

#include "etl/http_client.h"

namespace etl::s3 {
namespace {

Error malformed(std::string_view what) { return make_error(Errc::bad_data, "malformed XML from S3: " + std::string(what)); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool all_space(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

bool is_name_end(char c) { return is_space(c) || c == '/' || c == '>' || c == '=' || c == '<'; }

std::string_view local_name(std::string_view qualified) {
  auto colon = qualified.rfind(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<std::uint32_t> parse_char_ref(std::string_view ref) {  // "#65" or "#x41"
  if (ref.size() < 2 || ref.size() > 10 || ref[0] != '#') return std::nullopt;
  int base = 10;
  ref.remove_prefix(1);
  if (ref[0] == 'x' || ref[0] == 'X') {
    base = 16;
    ref.remove_prefix(1);
  }
  if (ref.empty()) return std::nullopt;
  std::uint32_t cp = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), cp, base);
  if (ec != std::errc() || end != ref.data() + ref.size()) return std::nullopt;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

// Where a quoted attribute value or a tag ends; npos when it never does.
std::size_t end_of_tag(std::string_view doc, std::size_t i) {
  while (i < doc.size()) {
    char c = doc[i];
    if (c == '>') return i;
    if (c == '<') return std::string_view::npos;
    if (c == '"' || c == '\'') {
      auto close = doc.find(c, i + 1);
      if (close == std::string_view::npos) return std::string_view::npos;
      i = close + 1;
      continue;
    }
    ++i;
  }
  return std::string_view::npos;
}

Result<XmlElement> parse_root(std::string_view body, std::string_view expected_root) {
  auto root = parse_xml(body);
  if (!root.ok()) return std::move(root).error();
  if (root->name != expected_root)
    return make_error(Errc::bad_data, "S3 answered <" + root->name.substr(0, 64) + "> where <" +
                                          std::string(expected_root) + "> was expected");
  return root;
}

}  // namespace

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const auto& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

std::string XmlElement::child_text(std::string_view child_name) const {
  const XmlElement* c = child(child_name);
  return c ? c->text : std::string();
}

std::optional<std::string> decode_xml_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, amp - i));
    auto semi = text.find(';', amp + 1);
    if (semi == std::string_view::npos || semi - amp > 12) return std::nullopt;
    auto ref = text.substr(amp + 1, semi - amp - 1);
    if (ref == "amp") out += '&';
    else if (ref == "lt") out += '<';
    else if (ref == "gt") out += '>';
    else if (ref == "quot") out += '"';
    else if (ref == "apos") out += '\'';
    else if (auto cp = parse_char_ref(ref)) append_utf8(out, *cp);
    else return std::nullopt;
    i = semi + 1;
  }
  return out;
}

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<XmlElement> parse_xml(std::string_view doc, const XmlLimits& limits) {
  std::size_t i = doc.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  std::vector<XmlElement> open;          // the elements not closed yet, outermost first
  std::vector<std::string_view> qnames;  // their names as written, to match the end tags
  std::optional<XmlElement> root;
  std::size_t elements = 0;

  auto close_top = [&] {
    XmlElement done = std::move(open.back());
    open.pop_back();
    qnames.pop_back();
    if (open.empty()) root = std::move(done);
    else open.back().children.push_back(std::move(done));
  };

  while (i < doc.size()) {
    if (doc[i] != '<') {
      auto end = std::min(doc.find('<', i), doc.size());
      auto raw = doc.substr(i, end - i);
      if (open.empty()) {
        if (!all_space(raw)) return malformed("text outside the root element");
      } else {
        auto decoded = decode_xml_entities(raw);
        if (!decoded) return malformed("an unknown or broken '&' reference");
        open.back().text += *decoded;
      }
      i = end;
      continue;
    }
    auto rest = doc.substr(i);
    if (rest.starts_with("<?")) {
      auto end = doc.find("?>", i + 2);
      if (end == std::string_view::npos) return malformed("an unterminated <?...?>");
      i = end + 2;
    } else if (rest.starts_with("<!--")) {
      auto end = doc.find("-->", i + 4);
      if (end == std::string_view::npos) return malformed("an unterminated comment");
      i = end + 3;
    } else if (rest.starts_with("<![CDATA[")) {
      if (open.empty()) return malformed("CDATA outside the root element");
      auto end = doc.find("]]>", i + 9);
      if (end == std::string_view::npos) return malformed("an unterminated CDATA section");
      open.back().text.append(doc.substr(i + 9, end - i - 9));
      i = end + 3;
    } else if (rest.starts_with("<!")) {
      return malformed("DTDs and other declarations are not accepted");
    } else if (rest.starts_with("</")) {
      std::size_t j = i + 2;
      while (j < doc.size() && !is_name_end(doc[j])) ++j;
      auto name = doc.substr(i + 2, j - i - 2);
      while (j < doc.size() && is_space(doc[j])) ++j;
      if (j >= doc.size() || doc[j] != '>') return malformed("a broken end tag");
      if (open.empty() || qnames.back() != name) return malformed("an end tag that does not match its start tag");
      close_top();
      i = j + 1;
    } else {
      if (root) return malformed("content after the root element");
      std::size_t j = i + 1;
      while (j < doc.size() && !is_name_end(doc[j])) ++j;
      auto name = doc.substr(i + 1, j - i - 1);
      if (name.empty()) return malformed("a tag without a name");
      auto end = end_of_tag(doc, j);
      if (end == std::string_view::npos) return malformed("an unterminated tag");
      bool self_closing = doc[end - 1] == '/';
      if (++elements > limits.max_elements) return malformed("too many elements");
      if (open.size() >= limits.max_depth) return malformed("elements nested too deeply");
      XmlElement element;
      element.name = std::string(local_name(name));
      open.push_back(std::move(element));
      qnames.push_back(name);
      if (self_closing) close_top();
      i = end + 1;
    }
  }
  if (!open.empty()) return malformed("<" + std::string(qnames.back().substr(0, 64)) + "> is never closed");
  if (!root) return malformed("no root element");
  return std::move(*root);
}

std::optional<ErrorDoc> parse_error(std::string_view body) {
  auto root = parse_xml(body);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  return ErrorDoc{root->child_text("Code"), root->child_text("Message"), root->child_text("RequestId"),
                  root->child_text("Region"), root->child_text("Endpoint")};
}

Result<ListPage> parse_list_objects_v2(std::string_view body) {
  auto root = parse_root(body, "ListBucketResult");
  if (!root.ok()) return std::move(root).error();
  const bool url_encoded = root->child_text("EncodingType") == "url";
  ListPage page;
  page.truncated = root->child_text("IsTruncated") == "true";
  page.next_continuation_token = root->child_text("NextContinuationToken");
  for (const auto& c : root->children) {
    if (c.name != "Contents") continue;
    ListEntry entry;
    entry.key = url_encoded ? http::url_decode(c.child_text("Key"), true) : c.child_text("Key");
    if (entry.key.empty()) return make_error(Errc::bad_data, "S3 listed an object without a key");
    auto size = c.child_text("Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), entry.size);
    if (ec != std::errc() || end != size.data() + size.size())
      return make_error(Errc::bad_data, "S3 listed an object with a size of '" + size.substr(0, 32) + "'");
    entry.etag = c.child_text("ETag");
    entry.last_modified = c.child_text("LastModified");
    page.entries.push_back(std::move(entry));
  }
  return page;
}

Result<std::string> parse_initiate_multipart_upload(std::string_view body) {
  auto root = parse_root(body, "InitiateMultipartUploadResult");
  if (!root.ok()) return std::move(root).error();
  auto id = root->child_text("UploadId");
  if (id.empty()) return make_error(Errc::bad_data, "S3 started a multipart upload without an UploadId");
  return id;
}

Result<WriteResult> parse_complete_multipart_upload(std::string_view body) {
  auto root = parse_root(body, "CompleteMultipartUploadResult");
  if (!root.ok()) return std::move(root).error();
  return WriteResult{root->child_text("ETag"), {}};
}

Result<WriteResult> parse_copy_object(std::string_view body) {
  auto root = parse_root(body, "CopyObjectResult");
  if (!root.ok()) return std::move(root).error();
  return WriteResult{root->child_text("ETag"), root->child_text("LastModified")};
}

std::string complete_multipart_upload_body(const std::vector<std::string>& etags) {
  std::string out = R"(<?xml version="1.0" encoding="UTF-8"?>)"
                    R"(<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)";
  for (std::size_t i = 0; i < etags.size(); ++i)
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + escape_xml(etags[i]) +
           "</ETag></Part>";
  out += "</CompleteMultipartUpload>";
  return out;
}

std::string delete_objects_body(const std::vector<std::string>& full_keys) {
  std::string out = R"(<?xml version="1.0" encoding="UTF-8"?>)"
                    R"(<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>)";
  for (const auto& key : full_keys) out += "<Object><Key>" + escape_xml(key) + "</Key></Object>";
  out += "</Delete>";
  return out;
}

Result<DeleteResult> parse_delete_result(std::string_view body) {
  auto root = parse_root(body, "DeleteResult");
  if (!root.ok()) return std::move(root).error();
  DeleteResult result;
  for (const auto& c : root->children) {
    if (c.name != "Error") continue;
    DeleteFailure f{c.child_text("Key"), c.child_text("Code"), c.child_text("Message")};
    if (f.code.empty()) return make_error(Errc::bad_data, "S3 could not delete '" + f.key.substr(0, 256) + "' and gave no code");
    result.failed.push_back(std::move(f));
  }
  return result;
}

}  // namespace etl::s3
