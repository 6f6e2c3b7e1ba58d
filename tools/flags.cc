#include "tools/flags.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace bs::tools {

absl::Status Flags::Parse(const Args& args, const std::set<std::string>& with_value,
                          const std::set<std::string>& booleans) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-" || a.size() < 2 || a.substr(0, 2) != "--") {
      positional_.emplace_back(a);
      continue;
    }
    if (a == "--") {
      for (++i; i < args.size(); ++i) positional_.emplace_back(args[i]);
      break;
    }
    std::string name(a.substr(2));
    std::string value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
        value = std::string(args[++i]);
      }
      values_.emplace(name, value);
    } else if (booleans.count(name)) {
      if (inline_value) return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      values_.emplace(name, "true");
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  return absl::OkStatus();
}

std::string Flags::Get(const std::string& name, const std::string& fallback) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return fallback;
  return std::prev(range.second)->second;
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

int UsageError(std::string_view subcommand, std::string_view message) {
  std::fprintf(stderr, "bouncestream %.*s: %.*s\nTry 'bouncestream %.*s --help'.\n",
               static_cast<int>(subcommand.size()), subcommand.data(), static_cast<int>(message.size()),
               message.data(), static_cast<int>(subcommand.size()), subcommand.data());
  return 2;
}

}  // namespace bs::tools
