// A generated log held in memory as padded records, for benchmarks that call a parser directly: the
// bytes are followed by kRecordPadding readable bytes, as every source guarantees.
#ifndef BOUNCESTREAM_BENCH_LOADGEN_RECORD_SET_H_
#define BOUNCESTREAM_BENCH_LOADGEN_RECORD_SET_H_

#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/generator.h"

namespace bs::loadgen {

struct RecordSet {
  std::string bytes;
  std::vector<std::string_view> records;  // one per line, without the newline
};

// Generates with `options` and splits into records. Returned by pointer: the views point into `bytes`.
const RecordSet* GenerateRecordSet(const GeneratorOptions& options);

}  // namespace bs::loadgen

#endif  // BOUNCESTREAM_BENCH_LOADGEN_RECORD_SET_H_
