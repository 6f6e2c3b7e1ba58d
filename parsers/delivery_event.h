// DeliveryEvent: one delivery attempt's outcome for one recipient, as every parser produces it.
//
// Lifetime: every string_view points into the record buffer the event was parsed from (or into the
// parser's own scratch, for joined fields). An event is valid until its buffer is released: for replay,
// until the chunk it was read in has been decided; for Kafka, until the worker's next batch. Anything that
// must live longer (state keys, alert samples) is copied on purpose by the stage that keeps it.
#ifndef BOUNCESTREAM_PARSERS_DELIVERY_EVENT_H_
#define BOUNCESTREAM_PARSERS_DELIVERY_EVENT_H_

#include <cstdint>
#include <string_view>

#include "pipeline/base/position.h"

namespace bs {

enum class Outcome : uint8_t {
  kDelivered,
  kDeferred,
  kBounced,
  kExpired,
  kRejected,    // refused before queueing (NOQUEUE, ESP "dropped"/"blocked" before an attempt)
  kOutOfBand,   // asynchronous DSN received after acceptance
  kComplaint,   // feedback loop report
  kEnvelope,    // not an outcome: carries the sender of `message_id` for a later join (Postfix qmgr)
};
std::string_view OutcomeName(Outcome o);

enum class SmtpStage : uint8_t { kUnknown, kConnect, kHelo, kMail, kRcpt, kData };
std::string_view SmtpStageName(SmtpStage s);

// RFC 3463 enhanced status code; cls == 0 means absent.
struct EnhancedCode {
  uint8_t cls = 0;
  uint16_t subject = 0;
  uint16_t detail = 0;

  bool present() const { return cls != 0; }
  friend bool operator==(const EnhancedCode&, const EnhancedCode&) = default;
};

// The remote (or local) reply as logged: code 0 when the record has none (e.g. a connect timeout).
struct SmtpReply {
  uint16_t code = 0;
  EnhancedCode enhanced;
  std::string_view text;  // as logged; normalisation happens in classification
};

// The ESP's own verdict on an event, verbatim from its webhook (ESP events only; see
// pipeline/worker/esp_class.h for how classification uses it). `type` is the coarse class, `subtype` the
// fine one:
//   SES        bounce.bounceType / bounceSubType ("Permanent"/"NoEmail"); delays: "DeliveryDelay"/delayType
//   SparkPost  bounce_class ("10"), no subtype
//   SendGrid   type ("bounce"/"blocked") / bounce_classification ("Invalid Address"); dropped: "dropped"/reason
//   Mailgun    severity ("permanent"/"temporary") / reason ("suppress-bounce", "generic")
// Written as "ses:Permanent/NoEmail", "sparkpost:10" (EspClassText) in the classified output.
enum class Esp : uint8_t { kNone, kSendGrid, kMailgun, kSes, kSparkPost };
std::string_view EspName(Esp e);

struct EspClass {
  Esp esp = Esp::kNone;
  std::string_view type;
  std::string_view subtype;

  bool present() const { return esp != Esp::kNone; }
};

struct DeliveryEvent {
  int64_t event_time_ms = 0;
  Outcome outcome = Outcome::kDelivered;
  std::string_view recipient;
  std::string_view recipient_domain;
  std::string_view sender;
  std::string_view sender_domain;
  std::string_view message_id;  // MTA queue/spool id; joins Postfix qmgr lines
  std::string_view campaign;    // campaign / job id, empty when the format has none
  std::string_view tenant;
  std::string_view sending_ip;
  std::string_view egress_source;
  std::string_view egress_pool;
  std::string_view mta_host;    // our MTA that logged the record
  std::string_view mx_host;     // remote host that answered
  std::string_view mx_ip;
  SmtpStage stage = SmtpStage::kUnknown;
  SmtpReply reply;
  uint16_t attempt = 0;
  bool locally_generated = false;  // the MTA's own synthesized reply, not a remote one
  // With Outcome::kEnvelope: the MTA dropped `message_id` from its queue (Postfix qmgr `removed`), so
  // the join forgets its sender; not an outcome, and the record still counts as skipped.
  bool envelope_removed = false;
  EspClass esp_class;              // the ESP's verdict; absent for MTA logs
  Position position;
};

// Returns the part after the last '@', or "" when there is none.
std::string_view DomainOf(std::string_view address);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_DELIVERY_EVENT_H_
