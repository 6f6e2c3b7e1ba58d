// Parser for SparkPost / Momentum events (LOG_FORMATS.md §5): webhook batches (an array of
// {"msys":{"<kind>_event":{…}}}, possibly with a "cust" sibling; the ping is {"msys":{}}) and the flat
// objects of the Events / Message Events APIs.
//
// Types: delivery → delivered; delay → deferred; bounce → bounced; out_of_band → out of band;
// policy_rejection, generation_failure, generation_rejection → rejected (never attempted: locally
// generated); spam_complaint → complaint; injection, sms_status, opens, clicks, amp_*, unsubscribes and
// relay_* → not a delivery. bounce_class (a number sent as a string) is validated and used where it
// changes the meaning: classes 60 (auto-reply), 80 (subscribe), 90 (unsubscribe) and 100
// (challenge-response) are replies to the mail, not failures (skipped as not a delivery); class 25
// (admin failure) is SparkPost's own policy (locally generated).
//
// Numbers come as strings (error_code, num_retries, bounce_class, subaccount_id); timestamps as integers,
// numeric strings or ISO text. Reply: raw_reason (else the redacted reason), code from error_code when it
// is an SMTP code, else from the text. Also: rcpt_to (else raw_rcpt_to), msg_from, campaign_id,
// subaccount_id → tenant, sending_ip, ip_pool, ip_address → mx_ip (remote MX on delivery events),
// message_id, and num_retries + 1 → attempt.
#ifndef BOUNCESTREAM_PARSERS_SPARKPOST_H_
#define BOUNCESTREAM_PARSERS_SPARKPOST_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewSparkPostParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_SPARKPOST_H_
