// Over 400 lines on purpose: AWS's published SigV4 test vectors, one short case each.
#include "etl/sigv4.h"

#include <gtest/gtest.h>

#include <atomic>
#include <initializer_list>
#include <thread>
#include <vector>

namespace etl {
namespace {

using namespace std::chrono;
using Query = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The published files hold one item per line; so do the expectations here.
std::string lines(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto part : parts) {
    if (!first) out += '\n';
    out += part;
    first = false;
  }
  return out;
}

// ---------------------------------------------------------------------------
// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30):
// each case's .creq, .sts and .authz files, verbatim.

const AwsCredentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const char* const kSuiteToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuw"
    "thAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcH"
    "NVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLx"
    "BA==";
const auto kSuiteTime = sys_days{2015y / 8 / 30} + 12h + 36min;

struct SuiteCase {
  std::string name;
  std::string method;
  std::string path;
  Query query;
  HeaderList headers;
  std::string body;
  std::string session_token;
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
};

void PrintTo(const SuiteCase& c, std::ostream* os) { *os << c.name; }

std::string suite_sts(std::string_view canonical_request_sha) {
  return lines({"AWS4-HMAC-SHA256", "20150830T123600Z", "20150830/us-east-1/service/aws4_request",
                canonical_request_sha});
}

std::string suite_authz(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

// A GET or POST with only the generated host and x-amz-date headers.
std::string plain_creq(std::string_view method, std::string_view uri, std::string_view query) {
  return lines({method, uri, query, "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "",
                "host;x-amz-date", kEmptySha});
}

std::vector<SuiteCase> suite_cases() {
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::string u1234 = "\xE1\x88\xB4";  // U+1234, the suite's UTF-8 character
  std::vector<SuiteCase> cases = {
      {"get_vanilla", "GET", "/", {}, {}, "", "", plain_creq("GET", "/", ""),
       suite_sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       suite_authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get_vanilla_empty_query_key", "GET", "/", {{"Param1", "value1"}}, {}, "", "",
       plain_creq("GET", "/", "Param1=value1"),
       suite_sts("1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab"),
       suite_authz("host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb")},
      {"get_vanilla_query_order_key", "GET", "/", {{"Param1", "value2"}, {"Param1", "Value1"}}, {}, "", "",
       plain_creq("GET", "/", "Param1=Value1&Param1=value2"),
       suite_sts("704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"),
       suite_authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")},
      {"get_vanilla_query_order_key_case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}, {}, "", "",
       plain_creq("GET", "/", "Param1=value1&Param2=value2"),
       suite_sts("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"),
       suite_authz("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")},
      {"get_vanilla_query_order_value", "GET", "/", {{"Param1", "value2"}, {"Param1", "value1"}}, {}, "", "",
       plain_creq("GET", "/", "Param1=value1&Param1=value2"),
       suite_sts("c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606"),
       suite_authz("host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")},
      {"get_vanilla_query_unreserved", "GET", "/", {{unreserved, unreserved}}, {}, "", "",
       plain_creq("GET", "/", unreserved + "=" + unreserved),
       suite_sts("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177"),
       suite_authz("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")},
      {"get_vanilla_utf8_query", "GET", "/", {{u1234, "bar"}}, {}, "", "",
       plain_creq("GET", "/", "%E1%88%B4=bar"),
       suite_sts("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"),
       suite_authz("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")},
      {"get_unreserved", "GET", "/" + unreserved, {}, {}, "", "", plain_creq("GET", "/" + unreserved, ""),
       suite_sts("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"),
       suite_authz("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")},
      {"get_utf8", "GET", "/" + u1234, {}, {}, "", "", plain_creq("GET", "/%E1%88%B4", ""),
       suite_sts("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102"),
       suite_authz("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")},
      {"get_space", "GET", "/example space/", {}, {}, "", "", plain_creq("GET", "/example%20space/", ""),
       suite_sts("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"),
       suite_authz("host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")},
      {"get_header_key_duplicate", "GET", "/", {},
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}, "", "",
       lines({"GET", "/", "", "host:example.amazonaws.com", "my-header1:value2,value2,value1",
              "x-amz-date:20150830T123600Z", "", "host;my-header1;x-amz-date", kEmptySha}),
       suite_sts("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"),
       suite_authz("host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")},
      {"get_header_value_order", "GET", "/", {},
       {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"}, {"My-Header1", "value2"}}, "",
       "",
       lines({"GET", "/", "", "host:example.amazonaws.com", "my-header1:value4,value1,value3,value2",
              "x-amz-date:20150830T123600Z", "", "host;my-header1;x-amz-date", kEmptySha}),
       suite_sts("31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86"),
       suite_authz("host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")},
      {"get_header_value_trim", "GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}, "", "",
       lines({"GET", "/", "", "host:example.amazonaws.com", "my-header1:value1", "my-header2:\"a b c\"",
              "x-amz-date:20150830T123600Z", "", "host;my-header1;my-header2;x-amz-date", kEmptySha}),
       suite_sts("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"),
       suite_authz("host;my-header1;my-header2;x-amz-date",
                   "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")},
      {"post_vanilla", "POST", "/", {}, {}, "", "", plain_creq("POST", "/", ""),
       suite_sts("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"),
       suite_authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")},
      {"post_vanilla_query", "POST", "/", {{"Param1", "value1"}}, {}, "", "", plain_creq("POST", "/", "Param1=value1"),
       suite_sts("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"),
       suite_authz("host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")},
      {"post_header_key_sort", "POST", "/", {}, {{"My-Header1", "value1"}}, "", "",
       lines({"POST", "/", "", "host:example.amazonaws.com", "my-header1:value1", "x-amz-date:20150830T123600Z", "",
              "host;my-header1;x-amz-date", kEmptySha}),
       suite_sts("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"),
       suite_authz("host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")},
      {"post_header_value_case", "POST", "/", {}, {{"My-Header1", "VALUE1"}}, "", "",
       lines({"POST", "/", "", "host:example.amazonaws.com", "my-header1:VALUE1", "x-amz-date:20150830T123600Z", "",
              "host;my-header1;x-amz-date", kEmptySha}),
       suite_sts("d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93"),
       suite_authz("host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")},
      {"post_x_www_form_urlencoded", "POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1", "",
       lines({"POST", "/", "", "content-type:application/x-www-form-urlencoded", "host:example.amazonaws.com",
              "x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date",
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}),
       suite_sts("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"),
       suite_authz("content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")},
      {"post_x_www_form_urlencoded_parameters", "POST", "/", {},
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}}, "Param1=value1", "",
       lines({"POST", "/", "", "content-type:application/x-www-form-urlencoded; charset=utf8",
              "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date",
              "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"}),
       suite_sts("2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c"),
       suite_authz("content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe")},
      // Path normalisation (the suite's normalize-path group).
      {"get_relative", "GET", "/example/..", {}, {}, "", "", plain_creq("GET", "/", ""),
       suite_sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       suite_authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get_relative_relative", "GET", "/example1/example2/../..", {}, {}, "", "", plain_creq("GET", "/", ""),
       suite_sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       suite_authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get_slash", "GET", "//", {}, {}, "", "", plain_creq("GET", "/", ""),
       suite_sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       suite_authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get_slash_dot_slash", "GET", "/./", {}, {}, "", "", plain_creq("GET", "/", ""),
       suite_sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
       suite_authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
      {"get_slash_pointless_dot", "GET", "/./example", {}, {}, "", "", plain_creq("GET", "/example", ""),
       suite_sts("214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702"),
       suite_authz("host;x-amz-date", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5")},
      {"get_slashes", "GET", "//example//", {}, {}, "", "", plain_creq("GET", "/example/", ""),
       suite_sts("cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015"),
       suite_authz("host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84")},
      // Temporary credentials: the token is sent and signed (post-sts-header-before).
      {"post_sts_header_before", "POST", "/", {}, {}, "", kSuiteToken,
       lines({"POST", "/", "", "host:example.amazonaws.com", "x-amz-date:20150830T123600Z",
              "x-amz-security-token:" + std::string(kSuiteToken), "", "host;x-amz-date;x-amz-security-token",
              kEmptySha}),
       suite_sts("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"),
       suite_authz("host;x-amz-date;x-amz-security-token",
                   "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")},
  };
  return cases;
}

class Sigv4Suite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(Sigv4Suite, MatchesPublishedCanonicalRequestStringToSignAndAuthorization) {
  const SuiteCase& c = GetParam();
  SigningRequest request{c.method, "example.amazonaws.com", c.path, c.query, c.headers, sha256_hex(c.body)};
  AwsCredentials credentials = kSuiteCredentials;
  credentials.session_token = c.session_token;
  const auto steps = sigv4_steps(request, credentials, "us-east-1", "service", kSuiteTime, false);
  EXPECT_EQ(steps.canonical_request, c.canonical_request) << "canonical request differs from " << c.name << ".creq";
  EXPECT_EQ(steps.string_to_sign, c.string_to_sign) << "string to sign differs from " << c.name << ".sts";
  ASSERT_FALSE(steps.headers_to_add.empty());
  EXPECT_EQ(steps.headers_to_add[0].first, "Authorization");
  EXPECT_EQ(steps.headers_to_add[0].second, c.authorization) << "Authorization differs from " << c.name << ".authz";
}

INSTANTIATE_TEST_SUITE_P(AwsTestSuite, Sigv4Suite, ::testing::ValuesIn(suite_cases()),
                         [](const ::testing::TestParamInfo<SuiteCase>& param) { return param.param.name; });

// ---------------------------------------------------------------------------
// Worked examples from AWS documentation.

TEST(Sigv4, DerivesTheDocumentedSigningKey) {
  // "Examples of how to derive a signing key" (IAM, 2015-08-30).
  EXPECT_EQ(hex_encode(sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(Sigv4, SignsTheDocumentedIamListUsersRequest) {
  // The general reference's walk-through: GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08
  SigningRequest request{"GET", "iam.amazonaws.com", "/", {{"Version", "2010-05-08"}, {"Action", "ListUsers"}},
                         {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, kEmptySha};
  const auto steps = sigv4_steps(request, kSuiteCredentials, "us-east-1", "iam", kSuiteTime, false);
  EXPECT_EQ(steps.canonical_request,
            lines({"GET", "/", "Action=ListUsers&Version=2010-05-08",
                   "content-type:application/x-www-form-urlencoded; charset=utf-8", "host:iam.amazonaws.com",
                   "x-amz-date:20150830T123600Z", "", "content-type;host;x-amz-date", kEmptySha}));
  EXPECT_EQ(steps.string_to_sign,
            lines({"AWS4-HMAC-SHA256", "20150830T123600Z", "20150830/us-east-1/iam/aws4_request",
                   "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"}));
  EXPECT_EQ(steps.signing_key_hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(steps.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

// S3 API reference, "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk". The documentation prints the header
// with bare commas between its parts; we emit ", " as the SDKs do, which S3
// accepts. The signature is what must match.
const AwsCredentials kS3Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const auto kS3Time = sys_days{2013y / 5 / 24};

std::string s3_sts(std::string_view canonical_request_sha) {
  return lines({"AWS4-HMAC-SHA256", "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canonical_request_sha});
}

TEST(Sigv4S3, GetObjectWithRangeMatchesTheDocumentedSignature) {
  SigningRequest request{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {{"Range", "bytes=0-9"}}, kEmptySha};
  const auto steps = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(steps.canonical_request,
            lines({"GET", "/test.txt", "", "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9",
                   std::string("x-amz-content-sha256:") + kEmptySha, "x-amz-date:20130524T000000Z", "",
                   "host;range;x-amz-content-sha256;x-amz-date", kEmptySha}));
  EXPECT_EQ(steps.string_to_sign, s3_sts("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
  EXPECT_EQ(steps.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sigv4_sign(request, kS3Credentials, "us-east-1", "s3", kS3Time, true),
            (HeaderList{{"Authorization",
                         "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                         "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
                        {"X-Amz-Date", "20130524T000000Z"},
                        {"X-Amz-Content-Sha256", kEmptySha}}));
}

TEST(Sigv4S3, PutObjectMatchesTheDocumentedSignature) {
  const std::string body = "Welcome to Amazon S3.";
  ASSERT_EQ(sha256_hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigningRequest request{"PUT",
                         "examplebucket.s3.amazonaws.com",
                         "/" + uri_encode("test$file.text", false),
                         {},
                         {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                         sha256_hex(body)};
  const auto steps = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(steps.canonical_request,
            lines({"PUT", "/test%24file.text", "", "date:Fri, 24 May 2013 00:00:00 GMT",
                   "host:examplebucket.s3.amazonaws.com",
                   "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
                   "x-amz-date:20130524T000000Z", "x-amz-storage-class:REDUCED_REDUNDANCY", "",
                   "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                   "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}));
  EXPECT_EQ(steps.string_to_sign, s3_sts("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
  EXPECT_EQ(steps.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(Sigv4S3, GetBucketLifecycleSignsAnEmptyQueryValue) {
  SigningRequest request{"GET", "examplebucket.s3.amazonaws.com", "/", {{"lifecycle", ""}}, {}, kEmptySha};
  const auto steps = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(steps.canonical_request,
            lines({"GET", "/", "lifecycle=", "host:examplebucket.s3.amazonaws.com",
                   std::string("x-amz-content-sha256:") + kEmptySha, "x-amz-date:20130524T000000Z", "",
                   "host;x-amz-content-sha256;x-amz-date", kEmptySha}));
  EXPECT_EQ(steps.string_to_sign, s3_sts("9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"));
  EXPECT_EQ(steps.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(Sigv4S3, ListObjectsSortsTheQuery) {
  SigningRequest request{"GET", "examplebucket.s3.amazonaws.com", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {},
                         kEmptySha};
  const auto steps = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(steps.string_to_sign, s3_sts("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"));
  EXPECT_EQ(steps.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// ---------------------------------------------------------------------------
// Behaviour the vectors do not pin.

TEST(Sigv4, S3PathIsSignedAsSentWithoutNormalisingOrReencoding) {
  SigningRequest request{"GET", "localhost:9000", "/raw/to_be_processed/a%20b//./c.json", {}, {}, "UNSIGNED-PAYLOAD"};
  const auto steps = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(steps.canonical_request,
            lines({"GET", "/raw/to_be_processed/a%20b//./c.json", "", "host:localhost:9000",
                   "x-amz-content-sha256:UNSIGNED-PAYLOAD", "x-amz-date:20130524T000000Z", "",
                   "host;x-amz-content-sha256;x-amz-date", "UNSIGNED-PAYLOAD"}))
      << "an S3 key is signed exactly as it is sent; the host keeps its port";
}

TEST(Sigv4, OtherServicesEncodeTheWirePathOnceMore) {
  SigningRequest request{"GET", "example.amazonaws.com", "/example%20space/", {}, {}, kEmptySha};
  const auto steps = sigv4_steps(request, kSuiteCredentials, "us-east-1", "service", kSuiteTime, false);
  EXPECT_EQ(steps.canonical_request, plain_creq("GET", "/example%2520space/", ""));
}

TEST(Sigv4, EmptyPathSignsAsRoot) {
  SigningRequest request{"POST", "glue.us-east-1.amazonaws.com", "", {}, {}, kEmptySha};
  const auto glue = sigv4_steps(request, kSuiteCredentials, "us-east-1", "glue", kSuiteTime, false);
  EXPECT_EQ(glue.canonical_request.substr(0, 7), "POST\n/\n");
  const auto s3 = sigv4_steps(request, kS3Credentials, "us-east-1", "s3", kS3Time, true);
  EXPECT_EQ(s3.canonical_request.substr(0, 7), "POST\n/\n");
}

TEST(Sigv4, ReturnsOnlyTheHeadersItAdds) {
  SigningRequest request{"POST",
                         "athena.us-east-1.amazonaws.com",
                         "/",
                         {},
                         {{"Content-Type", "application/x-amz-json-1.1"},
                          {"X-Amz-Target", "AmazonAthena.StartQueryExecution"}},
                         sha256_hex("{}")};
  const auto plain = sigv4_sign(request, kSuiteCredentials, "us-east-1", "athena", kSuiteTime, false);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].first, "Authorization");
  EXPECT_NE(plain[0].second.find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"), std::string::npos)
      << plain[0].second;
  EXPECT_EQ(plain[1], (std::pair<std::string, std::string>{"X-Amz-Date", "20150830T123600Z"}));

  AwsCredentials temporary = kSuiteCredentials;
  temporary.session_token = "token/with+chars=";
  const auto with_token = sigv4_sign(request, temporary, "us-east-1", "athena", kSuiteTime, true);
  ASSERT_EQ(with_token.size(), 4u);
  EXPECT_EQ(with_token[2], (std::pair<std::string, std::string>{"X-Amz-Content-Sha256", sha256_hex("{}")}));
  EXPECT_EQ(with_token[3], (std::pair<std::string, std::string>{"X-Amz-Security-Token", "token/with+chars="}));
  EXPECT_NE(with_token[0].second.find("x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target,"),
            std::string::npos)
      << with_token[0].second;
}

TEST(Sigv4, IgnoresCallerCopiesOfGeneratedHeaders) {
  SigningRequest base{"GET", "example.amazonaws.com", "/", {}, {}, kEmptySha};
  SigningRequest noisy = base;
  noisy.headers = {{"Host", "evil.example"}, {"X-Amz-Date", "19700101T000000Z"}, {"Authorization", "x"},
                   {"x-amz-security-token", "stale"}};
  EXPECT_EQ(sigv4_steps(noisy, kSuiteCredentials, "us-east-1", "service", kSuiteTime, false).canonical_request,
            sigv4_steps(base, kSuiteCredentials, "us-east-1", "service", kSuiteTime, false).canonical_request)
      << "host, date, token and authorization come from the signer, never twice";
}

TEST(Sigv4, HeaderNamesAreLowerCasedAndValuesCollapsed) {
  SigningRequest request{"GET", "example.amazonaws.com", "/", {}, {{" X-Custom ", "\t a \t\t b  "}}, kEmptySha};
  const auto steps = sigv4_steps(request, kSuiteCredentials, "us-east-1", "service", kSuiteTime, false);
  EXPECT_NE(steps.canonical_request.find("\nx-custom:a b\n"), std::string::npos) << steps.canonical_request;
  EXPECT_EQ(steps.signed_headers, "host;x-amz-date;x-custom");
}

TEST(Sigv4, AmzDateIsUtcWholeSeconds) {
  EXPECT_EQ(amz_date(sys_days{2026y / 1 / 2} + 3h + 4min + 5s + 678ms), "20260102T030405Z");
  EXPECT_EQ(amz_date(sys_days{1999y / 12 / 31} + 23h + 59min + 59s + 999ms), "19991231T235959Z");
}

TEST(Sigv4, QueryIsEncodedThenSortedByNameThenValue) {
  EXPECT_EQ(canonical_query_string({{"b", "2"}, {"a b", "x/y=z&"}, {"a", ""}, {"B", "1"}, {"b", "1"}}),
            "B=1&a=&a%20b=x%2Fy%3Dz%26&b=1&b=2");
  EXPECT_EQ(canonical_query_string({}), "");
}

TEST(Sigv4, PathNormalisation) {
  EXPECT_EQ(normalize_uri_path("/"), "/");
  EXPECT_EQ(normalize_uri_path("/a/./b/../c//"), "/a/c/");
  EXPECT_EQ(normalize_uri_path("/../.."), "/") << "cannot climb above the root";
  EXPECT_EQ(normalize_uri_path("a/b"), "/a/b");
}

TEST(UriEncode, KeepsUnreservedAndEncodesTheRestUpperCase) {
  EXPECT_EQ(uri_encode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(uri_encode("a b+c*d%e=f&g", true), "a%20b%2Bc%2Ad%25e%3Df%26g");
  EXPECT_EQ(uri_encode("to_be_processed/x y.json", false), "to_be_processed/x%20y.json");
  EXPECT_EQ(uri_encode("to_be_processed/x y.json", true), "to_be_processed%2Fx%20y.json");
  EXPECT_EQ(uri_encode("\xC3\xA9\xE1\x88\xB4", true), "%C3%A9%E1%88%B4") << "UTF-8 bytes, upper-case hex";
  EXPECT_EQ(uri_encode("", true), "");
}

TEST(Sha256, MatchesPublishedDigests) {
  EXPECT_EQ(sha256_hex(""), kEmptySha);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") << "FIPS 180-2";
  EXPECT_EQ(sha256_hex("Param1=value1"), "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// Each thread reuses one HMAC context; EVP_MAC_init reads a null key as "keep the
// previous key", so an empty key must still reach it as a key of its own.
TEST(HmacSha256, AnEmptyKeyIsNotThePreviousCallsKey) {
  const std::string empty = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";  // HMAC("", "")
  const std::string jefe = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(hex_encode(hmac_sha256("", "")), empty);
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")), jefe);
  EXPECT_EQ(hex_encode(hmac_sha256(std::string_view(), "")), empty);
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")), jefe);
}

TEST(HmacSha256, ThreadsSignAtOnceWithTheirOwnContexts) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      const std::string key = "key-" + std::to_string(t);
      const std::string expected = hex_encode(hmac_sha256(key, "data"));
      for (int i = 0; i < 2000; ++i)
        if (hex_encode(hmac_sha256(key, "data")) != expected || hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")) !=
                                                                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
          ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_NE(hex_encode(hmac_sha256("key-0", "data")), hex_encode(hmac_sha256("key-1", "data")));
}

// A thread keeps the last signing key it derived: a change of secret, day, region or
// service (and back) must derive the right one again.
TEST(Sigv4, TheKeptSigningKeyFollowsTheSecretDayRegionAndService) {
  struct Case {
    std::string secret, region, service;
    sys_seconds at;
  };
  const sys_seconds day1 = sys_days{2015y / 8 / 30} + 12h, day2 = sys_days{2015y / 8 / 31} + 1s;
  const std::vector<Case> cases = {
      {"secret-a", "us-east-1", "s3", day1}, {"secret-a", "us-east-1", "s3", day1}, {"secret-b", "us-east-1", "s3", day1},
      {"secret-a", "us-east-1", "s3", day2}, {"secret-a", "eu-west-1", "s3", day2}, {"secret-a", "eu-west-1", "iam", day2},
      {"secret-a", "us-east-1", "s3", day1}};
  for (const auto& c : cases) {
    SigningRequest request{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {}, kEmptySha};
    const auto steps = sigv4_steps(request, {"AKIDEXAMPLE", c.secret, ""}, c.region, c.service, c.at, true);
    const std::string key = sigv4_signing_key(c.secret, steps.amz_date.substr(0, 8), c.region, c.service);
    EXPECT_EQ(steps.signing_key_hex, hex_encode(key)) << c.secret << " " << steps.amz_date << " " << c.region << " " << c.service;
    EXPECT_EQ(steps.signature, hex_encode(hmac_sha256(key, steps.string_to_sign)));
  }
}

// RFC 1321's test suite: what S3 puts in a single-part ETag.
TEST(Md5, MatchesTheRfc1321Vectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  // RFC 1864's Content-MD5: base64 of the 16 digest bytes (RFC 1321 / RFC 4648 vectors).
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(md5_base64("abc"), "kAFQmDzST7DWlj99KOF/cg==");
}

}  // namespace
}  // namespace etl
