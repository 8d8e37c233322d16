// The S3 answer parsers (s3_xml.h) on arbitrary documents: what a store, a proxy
// in front of it or anything listening at ETL's configured endpoint can send
// back. An error or a bounded tree, never a crash; an error answer is never
// also a listing, and a delete result lists only failures that carry a code.
#include <cstdlib>

#include "s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace etl::s3;
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  if (auto tree = parse_xml(doc); tree) {
    // Bounded by the defaults (32 deep, 200,000 elements): walk it without recursion limits of our own.
    std::size_t elements = 0;
    std::vector<const XmlElement*> todo = {&*tree};
    while (!todo.empty()) {
      const XmlElement* e = todo.back();
      todo.pop_back();
      if (++elements > XmlLimits{}.max_elements) std::abort();
      for (const auto& c : e->children) todo.push_back(&c);
    }
  }
  const bool is_error = parse_error(doc).has_value();
  if (is_error && parse_list_objects_v2(doc).ok()) std::abort();
  if (auto deleted = parse_delete_result(doc); deleted)
    for (const auto& f : deleted->failed)
      if (f.code.empty()) std::abort();
  (void)parse_initiate_multipart_upload(doc);
  (void)parse_complete_multipart_upload(doc);
  (void)parse_copy_object(doc);
  if (auto text = decode_xml_entities(doc); text && decode_xml_entities(escape_xml(*text)) != text) std::abort();
  return 0;
}
