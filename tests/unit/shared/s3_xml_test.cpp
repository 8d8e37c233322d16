// The small XML reader behind the S3 backend: the documents S3 and MinIO send, and
// input no server should send (truncated, hostile, absurdly nested).
#include "s3_xml.h"

#include <gtest/gtest.h>

namespace etl::s3 {
namespace {

TEST(S3Xml, ParsesAListingPageAsAwsSendsIt) {
  const char* body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>raw/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>raw/a.json</Key><LastModified>2026-03-03T10:00:00.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>raw/b &amp; c.json</Key><Size>0</Size><ETag>"x"</ETag></Contents>
</ListBucketResult>)";
  auto page = parse_list_objects_v2(body);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].key, "raw/a.json");
  EXPECT_EQ(page->entries[0].size, 434234u);
  EXPECT_EQ(page->entries[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(page->entries[0].last_modified, "2026-03-03T10:00:00.000Z");
  EXPECT_EQ(page->entries[1].key, "raw/b & c.json");
}

TEST(S3Xml, UrlEncodedListingKeysAreDecoded) {
  auto page = parse_list_objects_v2(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
      "<Contents><Key>raw/a+b%2Bc%C3%A4%01.json</Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].key, "raw/a b+c\xC3\xA4\x01.json");
  EXPECT_FALSE(page->truncated);
}

TEST(S3Xml, KeysAreNotDecodedWhenTheServerIgnoredEncodingType) {
  auto page = parse_list_objects_v2("<ListBucketResult><Contents><Key>a%20b+c</Key><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries[0].key, "a%20b+c");
}

TEST(S3Xml, ListingWithABadSizeOrNoKeyIsBadData) {
  auto size = parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>");
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().code, Errc::bad_data);
  auto key = parse_list_objects_v2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Errc::bad_data);
}

TEST(S3Xml, ErrorDocumentsGiveCodeMessageAndRegion) {
  auto err = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>
<Region>eu-west-1</Region><RequestId>4442587FB7D0A2F9</RequestId></Error>)");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(err->message, "the region 'us-east-1' is wrong; expecting 'eu-west-1'");
  EXPECT_EQ(err->region, "eu-west-1");
  EXPECT_EQ(err->request_id, "4442587FB7D0A2F9");
}

TEST(S3Xml, OnlyAnErrorRootIsAnError) {
  EXPECT_FALSE(parse_error("<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>").has_value());
  EXPECT_FALSE(parse_error("").has_value());
  EXPECT_FALSE(parse_error("not xml at all").has_value());
  EXPECT_FALSE(parse_error("<Error><Code>Truncated").has_value());
}

TEST(S3Xml, MultipartAndCopyResults) {
  auto id = parse_initiate_multipart_upload(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket>"
      "<Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(parse_initiate_multipart_upload("<InitiateMultipartUploadResult/>").ok());

  auto done = parse_complete_multipart_upload(
      "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
      "</CompleteMultipartUploadResult>");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->etag, "\"3858f62230ac3c915f300c664312c11f-9\"");

  auto copy = parse_copy_object("  \n<CopyObjectResult><LastModified>2009-10-28T22:32:00Z</LastModified>"
                                "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->etag, "\"9b2cf535f27731c974343645a3985328\"");
  EXPECT_EQ(copy->last_modified, "2009-10-28T22:32:00Z");

  auto wrong = parse_copy_object("<Error><Code>InternalError</Code></Error>");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::bad_data);
}

TEST(S3Xml, EntitiesAreDecoded) {
  EXPECT_EQ(decode_xml_entities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(decode_xml_entities("&#65;&#x42;&#X43;&#228;&#x1F600;"), "ABC\xC3\xA4\xF0\x9F\x98\x80");
  EXPECT_EQ(decode_xml_entities("no entities"), "no entities");
  for (const char* bad : {"&", "&amp", "&nbsp;", "&#;", "&#x;", "&#0;", "&#xD800;", "&#x110000;", "&#12a;",
                          "&#99999999999999;", "&verylongentityname;"})
    EXPECT_FALSE(decode_xml_entities(bad).has_value()) << bad;
}

TEST(S3Xml, EscapeRoundTripsThroughDecode) {
  const std::string text = "a&b<c>d\"e'f";
  EXPECT_EQ(escape_xml(text), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(decode_xml_entities(escape_xml(text)), text);
}

TEST(S3Xml, CommentsCdataDeclarationsAttributesAndPrefixesAreHandled) {
  auto doc = parse_xml(
      "\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- a comment --><s3:Root xmlns:s3=\"urn:x\" a='1>2' b=\"/>\">"
      "<s3:Key><![CDATA[a<b>&amp;]]>tail</s3:Key><Empty/><Spaced   ></Spaced  ></s3:Root><!-- trailing -->\n");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(doc->name, "Root");
  EXPECT_EQ(doc->child_text("Key"), "a<b>&amp;tail");
  ASSERT_NE(doc->child("Empty"), nullptr);
  EXPECT_EQ(doc->child("Empty")->text, "");
  ASSERT_NE(doc->child("Spaced"), nullptr);
  EXPECT_EQ(doc->child("Missing"), nullptr);
  EXPECT_EQ(doc->child_text("Missing"), "");
}

TEST(S3Xml, MalformedDocumentsAreBadDataNotCrashes) {
  for (const char* bad :
       {"", "   ", "text", "<a>", "<a></b>", "<a><b></a></b>", "</a>", "<a></a><b></b>", "<a></a>trailing", "<>",
        "<a", "<a b='x></a>", "<a>&bogus;</a>", "<!-- open", "<a><![CDATA[ open</a>", "<?xml", "<a><</a>",
        "<a>\x00</a", "text<a></a>"}) {
    auto doc = parse_xml(bad);
    ASSERT_FALSE(doc.ok()) << "accepted: " << bad;
    EXPECT_EQ(doc.error().code, Errc::bad_data);
  }
}

TEST(S3Xml, DtdsAreRefusedSoEntitiesNeverExpand) {
  auto laughs = parse_xml(R"(<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Error><Code>&lol2;</Code></Error>)");
  ASSERT_FALSE(laughs.ok());
  EXPECT_NE(laughs.error().message.find("DTD"), std::string::npos) << laughs.error().message;
  auto external = parse_xml(R"(<!DOCTYPE x SYSTEM "file:///etc/passwd"><x>&xxe;</x>)");
  EXPECT_FALSE(external.ok());
}

TEST(S3Xml, DeepNestingAndElementFloodsAreBounded) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  auto too_deep = parse_xml(deep);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().code, Errc::bad_data);

  std::string many = "<r>";
  for (int i = 0; i < 300000; ++i) many += "<e/>";
  many += "</r>";
  auto flood = parse_xml(many);
  ASSERT_FALSE(flood.ok());
  auto fine = parse_xml(many, XmlLimits{32, 400000});
  EXPECT_TRUE(fine.ok());
}

TEST(S3Xml, ArbitraryTruncationsNeverCrash) {
  const std::string doc = R"(<?xml version="1.0"?><ListBucketResult><Contents><Key>a&amp;b</Key><Size>3</Size>)"
                          R"(<![CDATA[x]]><!-- c --></Contents><IsTruncated>false</IsTruncated></ListBucketResult>)";
  for (std::size_t n = 0; n < doc.size(); ++n) {
    auto prefix = parse_list_objects_v2(doc.substr(0, n));
    EXPECT_FALSE(prefix.ok()) << "a truncated document parsed: " << doc.substr(0, n);
  }
  EXPECT_TRUE(parse_list_objects_v2(doc).ok());
}

TEST(S3Xml, CompleteManifestListsPartsInOrderWithEscapedEtags) {
  auto body = complete_multipart_upload_body({"\"a\"", "\"b\""});
  auto doc = parse_xml(body);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(doc->name, "CompleteMultipartUpload");
  ASSERT_EQ(doc->children.size(), 2u);
  EXPECT_EQ(doc->children[0].child_text("PartNumber"), "1");
  EXPECT_EQ(doc->children[0].child_text("ETag"), "\"a\"");
  EXPECT_EQ(doc->children[1].child_text("PartNumber"), "2");
  EXPECT_EQ(doc->children[1].child_text("ETag"), "\"b\"");
}

TEST(S3Xml, DeleteObjectsBodyIsQuietAndEscapesKeys) {
  auto doc = parse_xml(delete_objects_body({"p/a&b.json", "p/<c>.json"}));
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(doc->name, "Delete");
  EXPECT_EQ(doc->child_text("Quiet"), "true");
  std::vector<std::string> keys;
  for (const auto& c : doc->children)
    if (c.name == "Object") keys.push_back(c.child_text("Key"));
  EXPECT_EQ(keys, (std::vector<std::string>{"p/a&b.json", "p/<c>.json"}));
}

TEST(S3Xml, DeleteResultsListOnlyTheFailures) {
  auto result = parse_delete_result(
      "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Deleted><Key>a</Key></Deleted>"
      "<Error><Key>b&amp;c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->failed.size(), 1u);
  EXPECT_EQ(result->failed[0].key, "b&c");
  EXPECT_EQ(result->failed[0].code, "AccessDenied");
  EXPECT_EQ(result->failed[0].message, "Access Denied");
  EXPECT_TRUE(parse_delete_result("<DeleteResult/>")->failed.empty());
  EXPECT_EQ(parse_delete_result("<Error><Code>x</Code></Error>").error().code, Errc::bad_data);
  EXPECT_EQ(parse_delete_result("<DeleteResult><Error><Key>k</Key></Error></DeleteResult>").error().code, Errc::bad_data)
      << "a failure without a code says nothing a caller can act on";
}

}  // namespace
}  // namespace etl::s3
