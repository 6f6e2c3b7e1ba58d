#include "parsers/json_array.h"

namespace bs {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool LooksLikeJsonArray(std::string_view data) {
  for (char c : data) {
    if (IsSpace(c)) continue;
    return c == '[';
  }
  return false;
}

void SplitJsonArray(std::string_view data, std::vector<RecordSpan>& out) {
  size_t i = 0;
  int64_t line = 1;
  auto skip_space = [&] {
    while (i < data.size() && IsSpace(data[i])) {
      if (data[i] == '\n') ++line;
      ++i;
    }
  };
  skip_space();
  if (i >= data.size() || data[i] != '[') return;
  ++i;
  while (true) {
    skip_space();
    if (i >= data.size() || data[i] == ']') return;
    if (data[i] == ',') {
      ++i;
      continue;
    }
    RecordSpan span{i, i, line};
    int depth = 0;
    bool in_string = false;
    for (; i < data.size(); ++i) {
      char c = data[i];
      if (c == '\n') ++line;
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          if (c == ']') break;  // the closing bracket of the top-level array
          continue;             // a stray '}': part of a malformed element (the parser rejects it)
        }
        --depth;
        if (depth == 0) {
          ++i;
          break;
        }
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    span.end = i < data.size() ? i : data.size();
    // Trim trailing whitespace of scalar elements.
    while (span.end > span.begin && IsSpace(data[span.end - 1])) --span.end;
    out.push_back(span);
    if (i >= data.size()) return;
  }
}

}  // namespace bs
