// Parser for Postfix syslog, RFC 3339-prefixed and maillog_file lines.
#ifndef BOUNCESTREAM_PARSERS_POSTFIX_H_
#define BOUNCESTREAM_PARSERS_POSTFIX_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewPostfixParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_POSTFIX_H_
