#include "tools/samples.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>

#include "pipeline/base/strings.h"
#include "absl/strings/str_cat.h"

namespace bs::tools {

absl::StatusOr<std::vector<ReplayInput>> BundledSamples() {
  std::string dir = std::getenv("BOUNCESTREAM_SAMPLES") ? std::getenv("BOUNCESTREAM_SAMPLES")
                                                         : std::string(BS_SOURCE_DIR) + "/tools/samples";
  DIR* d = opendir(dir.c_str());
  if (!d) {
    return absl::NotFoundError(absl::StrCat("no bundled samples at ", dir,
                                            " (set BOUNCESTREAM_SAMPLES or pass log files)"));
  }
  std::vector<std::string> names;
  while (dirent* ent = readdir(d)) {
    std::string n = ent->d_name;
    if (EndsWith(n, ".zst") || EndsWith(n, ".gz") || EndsWith(n, ".log") ||
        EndsWith(n, ".jsonl")) {
      names.push_back(n);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  if (names.empty()) return absl::NotFoundError(absl::StrCat("no sample logs in ", dir));
  std::vector<ReplayInput> out;
  for (const auto& n : names) out.push_back({absl::StrCat(dir, "/", n), absl::StrCat("samples/", n)});
  return out;
}

}  // namespace bs::tools
