// Small field readers shared by the PowerMTA, Exim and ESP parsers: the shapes that recur across formats
// ("smtp;550 …" diagnostics, "host (ip)", "Name <addr>", epoch numbers written as text, syslog stamps).
// Everything returns views into its argument and never allocates; nothing reads the wall clock.
#ifndef BOUNCESTREAM_PARSERS_TEXT_FIELDS_H_
#define BOUNCESTREAM_PARSERS_TEXT_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsers/delivery_event.h"

namespace bs {

std::string_view TrimSpaces(std::string_view s);

// Removes a trailing "\n", "\r\n" or "\r" (several, if present): sources may hand lines with or without
// their terminator.
std::string_view StripLineEnd(std::string_view s);

// Strips an RFC 3464 diagnostic-type prefix ("smtp;550 …", "Smtp; 550 …", "X-Postfix; …") and the spaces
// after it. `had_prefix` tells whether one was there. Text without a prefix is returned trimmed.
std::string_view StripDiagnosticType(std::string_view s, bool* had_prefix = nullptr);

// "mta7.am0.yahoodns.net (66.196.118.35)" → host, ip. Without the parenthesis, the whole (trimmed) text is
// the host. A "dns; host" / "dsn; host" reporting-MTA prefix is removed.
void SplitHostParenIp(std::string_view s, std::string_view& host, std::string_view& ip);

// "Sender Name <sender@example.com>" → "sender@example.com"; a bare address is returned trimmed.
std::string_view AddressInAngles(std::string_view s);

// A light sanity check of an envelope address: something before and after the last '@', no control
// characters, no unquoted spaces or angle brackets in the local part, and a domain made of host-name
// characters (letters, digits, '-', '.', '_', UTF-8) or an address literal "[…]". Rejects log artefacts
// ("[email]a@b[/email]", "Name <a@b>") without judging deliverability.
bool IsPlausibleAddress(std::string_view address);

// Splits a logged reply: the lead's ParseSmtpReply, plus a bare leading enhanced code when there is no
// basic code ("5.1.1 The email account …", "4.7.652 The mail server …").
SmtpReply ReplyFromText(std::string_view text);

// Parses an unsigned decimal number (no sign, no spaces), at most 18 digits.
std::optional<uint64_t> ParseDecimal(std::string_view s);

// Epoch time written as text: "1454442600", "1529692199.626182" (seconds, fraction kept to the
// millisecond, truncated), or 13-digit milliseconds ("1591726752372"). nullopt on anything else.
std::optional<int64_t> EpochTextToMs(std::string_view s);

// A time field that may be epoch text or ISO 8601 (see ParseIsoTime); nullopt when it is neither.
std::optional<int64_t> EpochOrIsoToMs(std::string_view s);

// Reads a classic syslog stamp "Mmm dd HH:MM:SS" (day zero-, space- or un-padded) at the start of `s`
// and advances `s` past it and the following spaces. The year is the one that puts the stamp at or before
// `reference_ms` + 1 day (ParserOptions::reference_time_ms), so logs that cross New Year work.
std::optional<int64_t> ReadSyslogStamp(std::string_view& s, int64_t reference_ms);

// True for a valid SMTP basic reply code (2xx–5xx with a second digit 0–5); ESPs log internal numbers
// (Mailgun 498, 605) in the same field.
constexpr bool IsSmtpCode(uint64_t code) {
  return code >= 200 && code <= 559 && (code / 10) % 10 <= 5;
}

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_TEXT_FIELDS_H_
