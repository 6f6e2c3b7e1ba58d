// simdjson On-Demand helpers (see json_fields.h).
#include "parsers/json_fields.h"

#include <cmath>
#include <cstring>

#include "parsers/text_fields.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::value;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The raw token of `v` without the whitespace simdjson leaves between it and the next structural byte.
std::string_view RawToken(value& v) {
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && IsJsonSpace(raw.back())) raw.remove_suffix(1);
  return raw;
}

}  // namespace

void ScratchArena::Reset(size_t capacity) {
  used_ = 0;
  if (capacity <= capacity_) return;
  size_t grown = capacity_ * 2 > capacity ? capacity_ * 2 : capacity;
  buf_ = std::make_unique<char[]>(grown);
  capacity_ = grown;
}

char* ScratchArena::Allocate(size_t n) {
  if (n > capacity_ - used_) return nullptr;
  char* p = buf_.get() + used_;
  used_ += n;
  return p;
}

std::string_view ScratchArena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = Allocate(s.size());
  if (p == nullptr) return {};
  std::memcpy(p, s.data(), s.size());
  return std::string_view(p, s.size());
}

std::string_view ScratchArena::CopyPadded(std::string_view s, size_t padding) {
  char* p = Allocate(s.size() + padding);
  if (p == nullptr) return {};
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  std::memset(p + s.size(), 0, padding);
  return std::string_view(p, s.size());
}

ParseError ErrorFromSimdjson(simdjson::error_code e) {
  switch (e) {
    case simdjson::UTF8_ERROR: return ParseError::kInvalidUtf8;
    case simdjson::UNCLOSED_STRING:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return ParseError::kTruncated;
    case simdjson::EMPTY: return ParseError::kEmpty;
    case simdjson::CAPACITY: return ParseError::kTooLarge;
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_OUT_OF_RANGE: return ParseError::kBadFieldType;
    default: return ParseError::kInvalidJson;
  }
}

simdjson::error_code JsonString(value v, ScratchArena& arena, std::string_view& out) {
  std::string_view raw = RawToken(v);
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return simdjson::INCORRECT_TYPE;
  std::string_view inner = raw.substr(1, raw.size() - 2);
  if (inner.find('\\') == std::string_view::npos) {
    out = inner;
    return simdjson::SUCCESS;
  }
  std::string_view unescaped;
  if (auto err = v.get_string().get(unescaped)) return err;
  // simdjson's own string buffer is rewound by at_pointer(); the arena is not.
  out = arena.Copy(unescaped);
  if (out.data() == nullptr && !unescaped.empty()) return simdjson::CAPACITY;
  return simdjson::SUCCESS;
}

simdjson::error_code JsonScalarText(value v, ScratchArena& arena, std::string_view& out) {
  std::string_view raw = RawToken(v);
  if (raw.empty()) return simdjson::INCORRECT_TYPE;
  if (raw.front() == '"') return JsonString(v, arena, out);
  if (raw.front() == '-' || (raw.front() >= '0' && raw.front() <= '9')) {
    out = raw;
    return simdjson::SUCCESS;
  }
  return simdjson::INCORRECT_TYPE;
}

std::optional<int64_t> JsonTimeMs(value v, ScratchArena& arena) {
  std::string_view raw = RawToken(v);
  if (raw.empty()) return std::nullopt;
  if (raw.front() == '"') {
    std::string_view s;
    if (JsonString(v, arena, s)) return std::nullopt;
    return EpochOrIsoToMs(TrimSpaces(s));
  }
  if (raw.find_first_of("eE") != std::string_view::npos) {
    double d;
    if (v.get_double().get(d) || !std::isfinite(d) || d < 0 || d > 1e11) return std::nullopt;
    return static_cast<int64_t>(d * 1000);
  }
  return EpochTextToMs(raw);
}

std::optional<uint64_t> JsonUint(value v, ScratchArena& arena) {
  std::string_view text;
  if (JsonScalarText(v, arena, text)) return std::nullopt;
  return ParseDecimal(TrimSpaces(text));
}

std::optional<json_type> JsonTypeOf(value v) {
  json_type t;
  if (v.type().get(t)) return std::nullopt;
  return t;
}

}  // namespace bs
