#include "pgwire/patterns.h"

namespace etl::pgwire {

namespace {

// What one client pattern may compile to. psql's \d patterns and BI tools' filters
// compile to a few KB; the statement holding a pattern is at most 8 KB (execution.cpp).
constexpr std::int64_t kMaxPatternMemory = 1 << 20;

}  // namespace

std::optional<Match> match_at(std::string_view text, const RE2& re, std::size_t from, RE2::Anchor anchor) {
  if (from > text.size()) return std::nullopt;
  const int n = 1 + re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(n));
  if (!re.Match(re2::StringPiece(text.data(), text.size()), from, text.size(), anchor, pieces.data(), n))
    return std::nullopt;
  Match m;
  m.groups_.reserve(pieces.size());
  for (const auto& p : pieces)
    m.groups_.push_back(p.data() == nullptr ? std::nullopt : std::optional<std::string>(std::string(p.data(), p.size())));
  m.position_ = static_cast<std::size_t>(pieces[0].data() - text.data());
  return m;
}

std::string like_to_regex(std::string_view like) {
  std::string out = "(?s)";  // % and _ match newlines too
  for (std::size_t i = 0; i < like.size(); ++i) {
    char ch = like[i];
    if (ch == '\\' && i + 1 < like.size()) {
      ch = like[++i];
    } else if (ch == '%') {
      out += ".*";
      continue;
    } else if (ch == '_') {
      out += '.';
      continue;
    }
    out += RE2::QuoteMeta(re2::StringPiece(&ch, 1));
  }
  return out;
}

Result<ValuePattern> ValuePattern::compile(std::string_view op, std::string_view pattern) {
  const bool like = op.find("like") != std::string_view::npos;
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxPatternMemory);
  options.set_case_sensitive(op.find("ilike") == std::string_view::npos);
  options.set_dot_nl(true);  // PostgreSQL's `.` matches a newline
  const std::string text = like ? like_to_regex(pattern) : std::string(pattern);
  auto re = std::make_shared<const RE2>(re2::StringPiece(text.data(), text.size()), options);
  if (!re->ok())
    return make_error(Errc::invalid_argument, "the pattern '" + std::string(pattern.substr(0, 200)) + "' (" + re->error() + ")");
  ValuePattern p;
  p.re_ = std::move(re);
  p.whole_ = like;
  return p;
}

bool ValuePattern::matches(std::string_view value) const {
  const re2::StringPiece v(value.data(), value.size());
  return whole_ ? RE2::FullMatch(v, *re_) : RE2::PartialMatch(v, *re_);
}

}  // namespace etl::pgwire
