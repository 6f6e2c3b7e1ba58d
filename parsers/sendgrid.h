// Parser for SendGrid Event Webhook events (LOG_FORMATS.md §6): one flat object per event, posted as a
// JSON array (a record may be the whole array or one element of it).
//
// Events: delivered → delivered; deferred → deferred (`attempt` is a string); bounce → bounced, or
// rejected when its `type` is "blocked"; dropped → rejected, SendGrid's own decision (locally generated);
// spamreport → complaint; processed, open, click, unsubscribe, group_(un|re)subscribe → not a delivery.
// Event names are compared ignoring case (a documented example says "Processed").
// The reply is `response` (delivered, deferred) or `reason` (bounce, dropped); its leading "550 5.1.1" gives
// code and enhanced code, `status` (often a generic 5.0.0) is the fallback enhanced code.
// `timestamp` may be a number or a numeric string. Campaign: marketing_campaign_id, else the (first)
// category. Message id: sg_message_id, else smtp-id. Sending IP: `ip`.
#ifndef BOUNCESTREAM_PARSERS_SENDGRID_H_
#define BOUNCESTREAM_PARSERS_SENDGRID_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewSendGridParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_SENDGRID_H_
