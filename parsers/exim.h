// Parser for the Exim main log (LOG_FORMATS.md §4), written to a file or through syslog.
//
// Lines: `YYYY-MM-DD HH:MM:SS[.mmm][ +ZZZZ] [[pid]] <msgid> <flag> <address> [<orig>] key=value… [: text]`,
// optionally behind a syslog prefix (`Mmm d HH:MM:SS host exim[pid]: `, an RFC 3339 stamp, or a bare
// `exim[pid]: `). Message ids of both generations (6-6-2 before 4.97, 6-11-4 after) are accepted.
//
// Flags: `=>` `->` `>>` → delivered (without H= the delivery was local: skipped as local_delivery, as
// are pipes, files and :blackhole:); `**` → bounced, or expired for "retry timeout exceeded"; `==` →
// deferred, except "retry time not reached" / queue_smtp_domains lines, which record no attempt
// (informational); `<=` → an Outcome::kEnvelope event carrying the sender of the message id, for the
// pipeline's join (`<= <>` bounce messages carry none and are informational). Lines without a message id
// are informational, except `… rejected RCPT <addr>: reason`, a rejection (Outcome::kRejected).
// The reply is read from both layouts of the error text ("… after RCPT TO:<a>: 550 …" and the older
// "… after RCPT TO:<a>: host mx [ip]: 550 …"); the SMTP stage from the command named there or from the
// `defer (-44/-45/-46)` code. Exim's timestamps are local time without a zone unless log_timezone is set:
// they are read as UTC. Year-less syslog stamps use ParserOptions::reference_time_ms.
//
// State: syslog splits long lines into `[1/3]`, `[2/3]`, `[3/3]` parts (`[n\m]` where the split was at a
// newline). Parts before the last are skipped as continued_in_next_record; the last part yields the
// events of the joined line, with the first part's position. Up to four groups (keyed by the syslog
// program[pid]) are joined at once; a part whose first part was not seen is dead-lettered as truncated,
// and a group that never completes (lost syslog lines) yields nothing. So one parser must see a file's
// (or a partition's) lines in order, like PowerMTA's.
//
// Not thread-safe. Event views point into the record, or into the parser's join buffer; valid until the
// next Parse.
#ifndef BOUNCESTREAM_PARSERS_EXIM_H_
#define BOUNCESTREAM_PARSERS_EXIM_H_

#include <memory>
#include <string_view>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewEximParser(const ParserOptions& options);

// "1RwtZn-000Hp3-BF" (6-6-2 base62, before 4.97) or "10HmaX-000000005vi-0000" (6-11-4, 4.97 on).
// Format detection uses it too.
bool IsEximMessageId(std::string_view s);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_EXIM_H_
