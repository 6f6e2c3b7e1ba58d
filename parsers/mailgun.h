// Parser for Mailgun events (LOG_FORMATS.md §7): webhook bodies ({"signature":…,"event-data":{…}}), Events
// API pages ({"items":[…]}, one event per item) and bare event objects.
//
// Events: delivered → delivered; failed with severity temporary → deferred, permanent → bounced, except
// flags.is-delayed-bounce (an asynchronous bounce: out of band) and reason "suppress-*" (Mailgun did not
// send: rejected, locally generated); rejected → rejected (never accepted; the recipient comes from the
// To header when the event has none); complained → complaint; accepted, stored, opened, clicked,
// unsubscribed and list_* → not a delivery.
//
// Reply: delivery-status.message (else .description), its "smtp;" prefix removed; code from
// delivery-status.code when it is an SMTP code — Mailgun also logs its own numbers there (498 "No MX",
// 605 "previously bounced"), which become code 0 and a locally generated reply; enhanced code from
// enhanced-code / bounce-code, else the text. Time: the float `timestamp` (kept to the millisecond).
// Also: envelope.sender, envelope.sending-ip, delivery-status.mx-host and attempt-no, the Message-ID
// header, the first campaign.
#ifndef BOUNCESTREAM_PARSERS_MAILGUN_H_
#define BOUNCESTREAM_PARSERS_MAILGUN_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewMailgunParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_MAILGUN_H_
