// Parser for Amazon SES notifications (LOG_FORMATS.md §8), bare or inside their SNS envelope.
//
// Input: the SNS envelope ({"Type":"Notification","Message":"<JSON text>",…}, the Message decoded a second
// time), or the message itself. Both kinds of message are read: classic notifications (`notificationType`)
// and configuration-set event publishing (`eventType`). SNS subscription confirmations and other
// non-notification envelopes are skipped (not a delivery).
//
// Outcomes, one event per recipient of the notification: Delivery → delivered (delivery.recipients, the
// shared smtpResponse); DeliveryDelay → deferred (delayedRecipients); Bounce → bounced
// (bouncedRecipients, for Permanent, Transient — SES already gave up — and Undetermined), except the
// suppression-list subtypes (Suppressed, OnAccountSuppressionList, OnTenantSuppressionList): SES refused
// to send, so rejected and locally generated; Complaint → complaint (complainedRecipients); Reject →
// rejected for each mail.destination (SES's own decision). Send, Open, Click, Rendering Failure and
// Subscription are not deliveries.
//
// Fields: diagnosticCode ("smtp; 550 5.1.1 …") gives the reply, `status` the enhanced code when the text
// has none; remoteMtaIp → mx_ip; reportingMTA (without its "dsn; " prefix) → mta_host; mail.source →
// sender (the address inside "Name <addr>"); mail.messageId → message_id; the first
// `ses:configuration-set` tag → campaign; the first `ses:outgoing-ip` tag → sending_ip. Time: the
// section's timestamp, else mail.timestamp; a notification with neither is dead-lettered.
//
// Owns two simdjson parsers (the envelope's, which may be an array element still being iterated, and the
// Message's). Not thread-safe; event views valid until the next Parse.
#ifndef BOUNCESTREAM_PARSERS_SES_H_
#define BOUNCESTREAM_PARSERS_SES_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewSesParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_SES_H_
