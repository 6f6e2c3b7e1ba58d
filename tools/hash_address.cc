// `bouncestream hash-address [--key K | --config FILE] ADDRESS…`: prints the keyed hash that outputs use
// for each address with [privacy] hash_addresses (pipeline/base/address_hash.h), so a user can find the
// suppression or classified event of an address without the outputs carrying raw addresses.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pipeline/base/address_hash.h"
#include "pipeline/config/config.h"
#include "tools/flags.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream hash-address [--key K | --config FILE] ADDRESS...

Prints, one per line, "ADDRESS HASH": HMAC-SHA256(key, lower-cased ADDRESS) in hex, the value that
outputs carry for ADDRESS with [privacy] hash_addresses = true (suppression keys, classified recipients)
and that reply texts and dead letters carry as "addr:HASH". The key comes from --key, else from
[privacy] hash_key of --config FILE (with its environment overrides), else from the environment variable
BOUNCESTREAM_PRIVACY_HASH_KEY. Prefer the environment: a --key value stays in the shell history.
Same as: printf '%s' ADDRESS | tr A-Z a-z | openssl dgst -sha256 -hmac "$KEY"

exit codes: 0 ok, 1 no key, 2 usage error)";

}  // namespace

int RunHashAddress(const Args& args) {
  Flags flags;
  if (absl::Status s = flags.Parse(args, {"key", "config"}, {"help"}); !s.ok()) return UsageError("hash-address", s);
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  if (flags.positional().empty()) return UsageError("hash-address", "expected one or more ADDRESS");
  std::string key;
  if (flags.Has("key")) {
    key = flags.Get("key");
  } else if (flags.Has("config")) {
    absl::StatusOr<Config> config = LoadConfigFile(flags.Get("config"), ProcessEnvironment(), ConfigUse::kReplay);
    if (!config.ok()) {
      std::fprintf(stderr, "bouncestream hash-address: %s\n", std::string(config.status().message()).c_str());
      return 1;
    }
    key = config->privacy.hash_key;
  } else if (const char* env = std::getenv("BOUNCESTREAM_PRIVACY_HASH_KEY")) {
    key = env;
  }
  if (key.empty()) {
    std::fprintf(stderr, "bouncestream hash-address: no key (--key, --config FILE or BOUNCESTREAM_PRIVACY_HASH_KEY)\n");
    return 1;
  }
  const AddressHasher hasher(key);
  for (const std::string& a : flags.positional()) std::printf("%s %s\n", a.c_str(), hasher.Hash(a).c_str());
  return 0;
}

}  // namespace bs::tools
