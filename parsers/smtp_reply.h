// SMTP reply reading and normalisation, shared by the parsers (which split a logged reply line into
// code / enhanced / text) and by classification (which needs one canonical text to run regexes over).
//
// Normalisation (DECISIONS.md §1): the basic and enhanced codes are taken from the record, or from the
// text when the record has none (`550-5.7.26 …` flattened multi-line replies, Cisco's `#5.7.1`); the
// continuation tokens and repeated leading codes are removed from the text; runs of whitespace become one
// space. Provider tags (`[TSS04]`, `(S3150)`, `- gsmtp`) are kept: rules match on them.
#ifndef BOUNCESTREAM_PARSERS_SMTP_REPLY_H_
#define BOUNCESTREAM_PARSERS_SMTP_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/delivery_event.h"

namespace bs {

// Parses "X.Y.Z" exactly (class 2, 4 or 5; subject and detail 1–3 digits). Returns false otherwise.
bool ParseEnhancedCode(std::string_view s, EnhancedCode* out);

// Formats an enhanced code as "X.Y.Z" into `buf` (at least 12 bytes); returns the written view, or ""
// when absent.
std::string_view FormatEnhancedCode(const EnhancedCode& e, char* buf);

// Splits a raw reply as an MTA logs it ("550 5.1.1 <a@b>: user unknown", "550-5.7.26 …", "421 try later")
// into code, enhanced code and the rest. Views into `raw`; no allocation. A reply without a leading code
// gives code 0 and the whole (trimmed) text.
SmtpReply ParseSmtpReply(std::string_view raw);

struct NormalizedReply {
  uint16_t code = 0;
  EnhancedCode enhanced;
  std::string_view text;  // points into the caller's buffer
};

// Normalises (code, enhanced, text) into `buf`, which is reused across calls: once its capacity has grown
// to the longest text seen, no allocation happens. The returned text is valid until the next call with
// the same buffer.
NormalizedReply NormalizeReply(uint16_t code, const EnhancedCode& enhanced, std::string_view text,
                               std::string& buf);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_SMTP_REPLY_H_
