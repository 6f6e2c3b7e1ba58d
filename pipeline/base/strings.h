// std::string_view helpers. Debian 12's Abseil is built without ABSL_USES_STD_STRING_VIEW, so
// absl::string_view is a distinct type and absl::StartsWith/StrContains/StrCat do not take a
// std::string_view. Our code uses std::string_view everywhere; these small functions (and Av() to pass
// a view to absl::StrCat) keep it that way.
#ifndef BOUNCESTREAM_PIPELINE_BASE_STRINGS_H_
#define BOUNCESTREAM_PIPELINE_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace bs {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
inline bool Contains(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}
inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}
inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_STRINGS_H_
