// Pure encoders: output record → one line of `schema: 1` JSON (no trailing newline). No I/O, no clock;
// the same record always gives the same bytes. Field order is fixed here (byte-identical replays).
#ifndef BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_
#define BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_

#include <string>
#include <string_view>

#include "parsers/parse_error.h"
#include "pipeline/sink/records.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

// The deterministic id of a suppression: the same key and action always give the same id, so a replay
// or a redelivery de-duplicates downstream.
std::string SuppressionId(const SuppressionRecord& r);

void EncodeSuppression(const SuppressionRecord& r, std::string& out);
void EncodeAlert(const AlertRecord& r, std::string& out);
// Dead letter: the record's bytes (base64 when not valid UTF-8), the reason and the position.
void EncodeDeadLetter(const DeadLetter& d, std::string& out);
// One classified event (the optional `classified` output).
void EncodeClassified(const ClassifiedEvent& e, std::string_view ruleset_version, std::string& out);

// "5.7.26", or "" when absent.
std::string EnhancedToString(const EnhancedCode& e);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_
