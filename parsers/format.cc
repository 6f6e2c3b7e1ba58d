#include "parsers/format.h"

#include "pipeline/base/strings.h"
#include "absl/strings/str_cat.h"
#include "parsers/exim.h"
#include "parsers/json_mapping.h"
#include "parsers/kumomta.h"
#include "parsers/mailgun.h"
#include "parsers/postfix.h"
#include "parsers/powermta.h"
#include "parsers/sendgrid.h"
#include "parsers/ses.h"
#include "parsers/sparkpost.h"

namespace bs {
namespace {

struct FormatEntry {
  Format format;
  std::string_view name;
};
constexpr FormatEntry kFormats[] = {
    {Format::kAuto, "auto"},         {Format::kKumoMta, "kumomta"},   {Format::kPostfix, "postfix"},
    {Format::kPowerMta, "powermta"}, {Format::kExim, "exim"},         {Format::kSendGrid, "sendgrid"},
    {Format::kMailgun, "mailgun"},   {Format::kSes, "ses"},           {Format::kSparkPost, "sparkpost"},
    {Format::kJsonMapping, "json"},
};

}  // namespace

std::string_view FormatName(Format f) {
  for (const auto& e : kFormats) {
    if (e.format == f) return e.name;
  }
  return "unknown";
}

std::optional<Format> FormatFromName(std::string_view name) {
  for (const auto& e : kFormats) {
    if (e.name == name) return e.format;
  }
  return std::nullopt;
}

Format DetectFormat(std::string_view head) {
  size_t i = 0;
  while (i < head.size() && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) ++i;
  std::string_view rest = head.substr(i);
  std::string_view first_line = rest.substr(0, rest.find('\n'));
  if (StartsWith(rest, "{")) {
    if (Contains(first_line, "\"type\"") &&
        (Contains(first_line, "\"queue\"") || Contains(first_line, "\"response\""))) {
      return Format::kKumoMta;
    }
    return Format::kAuto;
  }
  if (Contains(first_line, "postfix") || Contains(first_line, "/smtp[") ||
      Contains(first_line, "/qmgr[")) {
    return Format::kPostfix;
  }
  return Format::kAuto;
}

absl::StatusOr<std::unique_ptr<Parser>> CreateParser(Format format, const ParserOptions& options) {
  switch (format) {
    case Format::kKumoMta: return NewKumoMtaParser(options);
    case Format::kPostfix: return NewPostfixParser(options);
    case Format::kPowerMta: return NewPowerMtaParser(options);
    case Format::kExim: return NewEximParser(options);
    case Format::kSendGrid: return NewSendGridParser(options);
    case Format::kSes: return NewSesParser(options);
    case Format::kMailgun: return NewMailgunParser(options);
    case Format::kSparkPost: return NewSparkPostParser(options);
    case Format::kJsonMapping: {
      absl::Status valid = ValidateJsonFieldMap(options.json);
      if (!valid.ok()) return valid;
      return NewJsonMappingParser(options);
    }
    case Format::kAuto: return absl::InvalidArgumentError("format 'auto' must be resolved before parsing");
    default: break;
  }
  return absl::UnimplementedError(absl::StrCat("the ", Av(FormatName(format)), " parser is not built yet"));
}

}  // namespace bs
