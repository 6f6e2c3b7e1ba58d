// Parser for KumoMTA JSON log records (one object per line or Kafka message).
#ifndef BOUNCESTREAM_PARSERS_KUMOMTA_H_
#define BOUNCESTREAM_PARSERS_KUMOMTA_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions& options);

// Which reading of a record the parser does. The default tries the fast scanner (parsers/kumomta_fast.h)
// and falls back to the simdjson On-Demand walk whenever it bails; kOnDemandOnly skips the scanner, so
// tests and benchmarks can compare the two on the same records.
enum class KumoMtaPath { kFastWithFallback, kOnDemandOnly };
std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions& options, KumoMtaPath path);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_KUMOMTA_H_
