// libFuzzer target: format detection and the JSON array splitter on arbitrary bytes. DetectFormat must
// return, and the splitter's spans must stay inside the input, in order.
#include <string_view>
#include <vector>

#include "parsers/format.h"
#include "parsers/json_array.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bs::Format f = bs::DetectFormat(text);
  if (bs::FormatName(f).empty()) __builtin_trap();
  std::vector<bs::RecordSpan> spans;
  bs::SplitJsonArray(text, spans);
  size_t last_end = 0;
  for (const bs::RecordSpan& s : spans) {
    if (s.begin > s.end || s.end > size || s.begin < last_end) __builtin_trap();
    last_end = s.end;
  }
  return 0;
}
