// The ESP's own verdict (DeliveryEvent::esp_class: SES bounceType/bounceSubType, SparkPost bounce_class,
// SendGrid type/bounce_classification, Mailgun severity/reason) as a classification, for the events whose
// reply says too little for the rule set.
//
// Precedence (ApplyEspClass): the SMTP reply's classification wins whenever the rule set recognised it.
// The ESP's verdict is used only when the reply's classification is weak: `unknown` (no text, or text no
// rule knows) or `generic.local.other` (a reply the ESP/MTA made up that no specific rule matched, such as
// SendGrid's "Bounced Address"). Code and enhanced code stay those of the reply.
//
// Safety (DECISIONS.md, the first rule): a suppression action comes only from classes that name a
// recipient failure (SES Permanent/NoEmail, SparkPost 10, SendGrid "Invalid Address", the ESPs' own
// bounce lists); every block / reputation / content / rate class maps to an alert-side scope
// (sending_ip, content, sender_config) with a non-suppressing action; SendGrid `type: blocked` never
// suppresses whatever its bounce_classification says; and a verdict with a suppression action is not
// applied to deferrals or deliveries. Whether a locally generated event (an ESP's suppression-list
// rejection) then becomes a suppression is still the decider's call.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_ESP_CLASS_H_
#define BOUNCESTREAM_PIPELINE_WORKER_ESP_CLASS_H_

#include <optional>
#include <string>

#include "parsers/delivery_event.h"
#include "rules/classification.h"

namespace bs {

// "ses:Permanent/NoEmail", "sparkpost:10", "sendgrid:blocked", or "" when the event has no ESP class.
std::string EspClassText(const EspClass& c);

// The ESP class's meaning as a classification (rule "esp.<esp>.<class>"; provider, code and enhanced
// left default), or nullopt for classes that say nothing useful (SES Undetermined, SparkPost 1/40,
// Mailgun "generic").
std::optional<Classification> EspClassification(const EspClass& c);

// True when `cls` is weak enough for the ESP's verdict to replace it (see above).
bool IsWeakClassification(const Classification& cls);

// Replaces a weak `cls` by the event's ESP verdict when there is one that applies to the event's outcome.
// Returns true when it did.
bool ApplyEspClass(const DeliveryEvent& e, Classification& cls);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_ESP_CLASS_H_
