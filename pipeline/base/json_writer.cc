#include "pipeline/base/json_writer.h"

#include <cmath>
#include <cstdio>

namespace bs {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
  if (c == 0xED && c1 >= 0xA0) return 0; // surrogates
  if (c == 0xF0 && c1 < 0x90) return 0;
  if (c == 0xF4 && c1 >= 0x90) return 0;
  return n;
}

}  // namespace

void JsonWriter::Key(std::string_view key) {
  Sep();
  out_ += '"';
  Escape(key, out_);
  out_ += "\":";
  after_key_ = true;
}

void JsonWriter::String(std::string_view s) {
  Sep();
  out_ += '"';
  Escape(s, out_);
  out_ += '"';
}

void JsonWriter::Int(int64_t v) {
  Sep();
  out_ += std::to_string(v);
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  out_ += std::to_string(v);
}

void JsonWriter::Double(double v) {
  Sep();
  if (!std::isfinite(v)) {
    out_ += "null";
    return;
  }
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string_view s(buf, n);
  while (s.size() > 1 && s.back() == '0') s.remove_suffix(1);
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s == "-0") s = "0";
  out_ += s;
}

void JsonWriter::Bool(bool v) {
  Sep();
  out_ += v ? "true" : "false";
}

void JsonWriter::Null() {
  Sep();
  out_ += "null";
}

void JsonWriter::Escape(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

}  // namespace bs
