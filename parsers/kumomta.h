// Parser for KumoMTA JSON log records (one object per line or Kafka message).
#ifndef BOUNCESTREAM_PARSERS_KUMOMTA_H_
#define BOUNCESTREAM_PARSERS_KUMOMTA_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_KUMOMTA_H_
