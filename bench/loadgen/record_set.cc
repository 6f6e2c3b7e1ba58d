#include "bench/loadgen/record_set.h"

#include "parsers/parser.h"

namespace bs::loadgen {

const RecordSet* GenerateRecordSet(const GeneratorOptions& options) {
  auto* set = new RecordSet;
  Generate(options, set->bytes);
  const size_t n = set->bytes.size();
  set->bytes.append(kRecordPadding, '\0');  // no reallocation after this: the views below stay valid
  size_t start = 0;
  while (start < n) {
    size_t nl = set->bytes.find('\n', start);
    if (nl == std::string::npos || nl > n) nl = n;
    set->records.emplace_back(set->bytes.data() + start, nl - start);
    start = nl + 1;
  }
  return set;
}

}  // namespace bs::loadgen
