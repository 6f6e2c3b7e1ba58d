// Pure encoders: output record → one line of `schema: 1` JSON (no trailing newline). No I/O, no clock;
// the same record always gives the same bytes. Field order is fixed here (byte-identical replays).
#ifndef BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_
#define BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_

#include <string>
#include <string_view>

#include "parsers/parse_error.h"
#include "pipeline/base/address_hash.h"
#include "pipeline/sink/records.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

// The deterministic id of a suppression: the same key and action always give the same id, so a replay
// or a redelivery de-duplicates downstream. `key` overrides r.key (the hashed key, see below).
std::string SuppressionId(const SuppressionRecord& r);
std::string SuppressionId(const SuppressionRecord& r, std::string_view key);

// `privacy` (optional, [privacy] hash_addresses): when enabled, addresses are written as their keyed hash
// (pipeline/base/address_hash.h):
//  - suppressions and hygiene events: an address `key` is the bare hash (a "@domain" key stays in clear),
//    the id is computed from the hashed key, and addresses inside reply.text, campaign and tenant become
//    "addr:<hash>";
//  - classified events: recipient and sender are bare hashes, addresses in reply.text "addr:<hash>";
//  - alerts: addresses inside samples become "addr:<hash>" (keys are IPs, hosts and domains: in clear);
//  - dead letters: every address inside the raw record becomes "addr:<hash>" and "redacted": true is
//    added (the record can no longer be replayed to the same result).
// Output keys (Kafka message keys) must be hashed the same way: AddressHasher::Key(r.key).
void EncodeSuppression(const SuppressionRecord& r, std::string& out, const AddressHasher* privacy = nullptr);
void EncodeAlert(const AlertRecord& r, std::string& out, const AddressHasher* privacy = nullptr);
// Dead letter: the record's bytes (base64 when not valid UTF-8), the reason and the position.
void EncodeDeadLetter(const DeadLetter& d, std::string& out, const AddressHasher* privacy = nullptr);
// One classified event (the optional `classified` output).
void EncodeClassified(const ClassifiedEvent& e, std::string_view ruleset_version, std::string& out,
                      const AddressHasher* privacy = nullptr);
// A late event (side output): {"schema":1,"late":{"watermark":…,"partition":…},"event":<classified>},
// where watermark is the alert watermark (epoch ms) it fell behind.
void EncodeLate(const ClassifiedEvent& e, int64_t watermark_ms, int partition, std::string_view ruleset_version,
                std::string& out, const AddressHasher* privacy = nullptr);

// "5.7.26", or "" when absent.
std::string EnhancedToString(const EnhancedCode& e);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_ENCODERS_H_
