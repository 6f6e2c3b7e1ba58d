#include "pipeline/sink/ndjson_sink.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"

namespace bs {

std::string_view NdjsonSink::FileName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kAlerts: return "alerts.jsonl";
    case OutputKind::kSuppressions: return "suppressions.jsonl";
    case OutputKind::kDeadLetters: return "dlq.jsonl";
    case OutputKind::kClassified: return "classified.jsonl";
    case OutputKind::kLate: return "late.jsonl";
  }
  return "unknown.jsonl";
}

absl::StatusOr<std::unique_ptr<NdjsonSink>> NdjsonSink::Open(const std::string& dir, bool classified, bool late) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create output directory ", dir, ": ", std::strerror(errno)));
  }
  auto sink = std::unique_ptr<NdjsonSink>(new NdjsonSink);
  for (int k = 0; k < kOutputKindCount; ++k) {
    auto kind = static_cast<OutputKind>(k);
    if (kind == OutputKind::kClassified && !classified) continue;
    if (kind == OutputKind::kLate && !late) continue;
    std::string path = absl::StrCat(dir, "/", Av(FileName(kind)));
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
    sink->files_[k] = f;
    sink->paths_[k] = path;
  }
  return sink;
}

NdjsonSink::~NdjsonSink() {
  for (FILE* f : files_) {
    if (f) std::fclose(f);
  }
}

absl::Status NdjsonSink::Write(OutputKind kind, std::string_view, std::string_view json) {
  FILE* f = files_[static_cast<size_t>(kind)];
  if (!f) return absl::OkStatus();  // an output the user did not ask for
  if (std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fputc('\n', f) == EOF) {
    return absl::DataLossError(absl::StrCat("write failed: ", paths_[static_cast<size_t>(kind)]));
  }
  return absl::OkStatus();
}

absl::Status NdjsonSink::Flush() {
  for (size_t k = 0; k < files_.size(); ++k) {
    if (files_[k] && std::fflush(files_[k]) != 0) return absl::DataLossError(absl::StrCat("flush failed: ", paths_[k]));
  }
  return absl::OkStatus();
}

}  // namespace bs
