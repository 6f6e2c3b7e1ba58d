// Splits a JSON document whose top level is an array (ESP webhook dumps, pretty-printed or not) into its
// elements, so each element is one record with its own position. Strings and escapes are respected; the
// elements themselves are not validated here (the format's parser does that).
#ifndef BOUNCESTREAM_PARSERS_JSON_ARRAY_H_
#define BOUNCESTREAM_PARSERS_JSON_ARRAY_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace bs {

struct RecordSpan {
  size_t begin = 0;
  size_t end = 0;     // one past the last byte
  int64_t line = 0;   // 1-based line where the record starts
};

// True when the first non-whitespace byte of `data` is '['.
bool LooksLikeJsonArray(std::string_view data);

// Appends one span per top-level element. An unterminated array yields its complete elements and one
// final span covering the rest (which the parser then dead-letters as truncated).
void SplitJsonArray(std::string_view data, std::vector<RecordSpan>& out);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_JSON_ARRAY_H_
