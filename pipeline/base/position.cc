#include "pipeline/base/position.h"

#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"

namespace bs {

std::string Position::ToString() const {
  if (partition < 0) return absl::StrCat(Av(source), ":", offset);
  return absl::StrCat(Av(source), "/", partition, "@", offset);
}

}  // namespace bs
