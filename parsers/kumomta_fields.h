// KumoMTA record semantics shared by the two parsing paths (parsers/kumomta.cc's On-Demand walk and the
// fast scanner of parsers/kumomta_fast.cc): record types, SMTP stage from the command, and the step after
// the field loop that turns the gathered fields into an outcome, a time and campaign/tenant. Keeping one
// copy of this is what lets the fast path promise the same events as the slow one.
#ifndef BOUNCESTREAM_PARSERS_KUMOMTA_FIELDS_H_
#define BOUNCESTREAM_PARSERS_KUMOMTA_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsers/delivery_event.h"
#include "parsers/parser.h"

namespace bs::kumomta {

enum class RecordType { kDelivery, kTransient, kBounce, kExpiration, kAdminBounce, kOob, kFeedback, kSkip, kUnknown };

RecordType TypeFromName(std::string_view t);

// "RCPT TO:<a@b>\r\n" → kRcpt, "." → kData, ...
SmtpStage StageFromCommand(std::string_view c);

// "ip:port" or "[v6]:port" → ip.
std::string_view StripPort(std::string_view a);

// The top-level values that the field loop gathers but only interprets once the whole object is read.
struct RecordFields {
  std::string_view type_name;
  std::string_view event_time;
  std::string_view queue;
  int64_t timestamp_s = -1;
  bool have_response = false;
  // event_time already read by the fast path (CanonicalIsoTimeMs); nullopt: FinishRecord parses it.
  std::optional<int64_t> event_time_ms;
};

// The canonical UTC stamp "YYYY-MM-DDTHH:MM:SS[.fraction]Z", as ParseIsoTime reads it, in a few fixed-offset
// checks; nullopt for anything else (ParseIsoTime then decides: offsets, ',' or ' ' separators, errors).
std::optional<int64_t> CanonicalIsoTimeMs(std::string_view s);

// After a field loop without errors: sets outcome, event time and (when the meta object gave none)
// campaign/tenant from the queue name; returns the record's error or skip, or ok.
ParseResult FinishRecord(const RecordFields& f, DeliveryEvent& e);

}  // namespace bs::kumomta

#endif  // BOUNCESTREAM_PARSERS_KUMOMTA_FIELDS_H_
