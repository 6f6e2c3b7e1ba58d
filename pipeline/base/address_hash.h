// Keyed hashing of e-mail addresses, for outputs and logs that must not carry raw addresses yet must still
// be matchable ([privacy] hash_addresses, [log] hash_addresses).
//
// The recipe, so users can compute the same value: lower-case the address (ASCII), then
// HMAC-SHA256(key, address) as 64 lowercase hex digits. With OpenSSL's command line:
//   printf '%s' 'anna.2320@gmail.com' | openssl dgst -sha256 -hmac "$KEY"
// or `bouncestream hash-address ADDRESS…`. HMAC-SHA256 is a keyed pseudo-random function: without the
// key the value cannot be computed from a guessed address, so keep the key secret (environment, not the
// config file). It hides addresses from readers of the outputs; it is not encryption (the key holder can
// test guesses) and it does not hide domains written apart from an address ("@domain" suppressions).
#ifndef BOUNCESTREAM_PIPELINE_BASE_ADDRESS_HASH_H_
#define BOUNCESTREAM_PIPELINE_BASE_ADDRESS_HASH_H_

#include <string>
#include <string_view>

namespace bs {

class AddressHasher {
 public:
  AddressHasher() = default;  // off: everything passes through unchanged
  explicit AddressHasher(std::string key) : enabled_(true), key_(std::move(key)) {}

  bool enabled() const { return enabled_; }
  // HMAC-SHA256(key, lower-cased address) in hex; the address itself when off.
  std::string Hash(std::string_view address) const;
  // A suppression key: an address is hashed, a "@domain" key (or anything without a local part) is not.
  std::string Key(std::string_view key) const;
  // Appends `text` with every local@domain in it replaced by "addr:" + Hash(local@domain).
  void RedactTo(std::string_view text, std::string& out) const;
  std::string Redact(std::string_view text) const {
    std::string out;
    RedactTo(text, out);
    return out;
  }
  // True when `text` has something RedactTo would replace.
  static bool HasAddress(std::string_view text);

 private:
  bool enabled_ = false;
  std::string key_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_ADDRESS_HASH_H_
