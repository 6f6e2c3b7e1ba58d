#include "pipeline/base/address_hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace bs {
namespace {

// Characters of an address's local part and domain as they appear in log lines and SMTP replies
// (dot-atoms; quoted local parts are rare enough to leave alone).
bool AddressChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '%' || c == '+' || c == '-' || c == '=';
}

// The next local@domain in text at or after `from`: [b, e), or false.
bool NextAddress(std::string_view text, size_t from, size_t& b, size_t& e) {
  for (size_t at = text.find('@', from); at != std::string_view::npos; at = text.find('@', at + 1)) {
    b = at;
    e = at + 1;
    while (b > from && AddressChar(text[b - 1])) --b;
    while (e < text.size() && AddressChar(text[e])) ++e;
    // A domain ends in a label, not a dot ("mail to a@b.example." ends a sentence).
    while (e > at + 1 && text[e - 1] == '.') --e;
    if (b < at && e > at + 1) return true;
  }
  return false;
}

}  // namespace

std::string AddressHasher::Hash(std::string_view address) const {
  if (!enabled_) return std::string(address);
  std::string lower(address);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(lower.data()),
       lower.size(), md, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

std::string AddressHasher::Key(std::string_view key) const {
  if (!enabled_ || key.empty() || key[0] == '@' || key.find('@') == std::string_view::npos) return std::string(key);
  return Hash(key);
}

bool AddressHasher::HasAddress(std::string_view text) {
  size_t b, e;
  return NextAddress(text, 0, b, e);
}

void AddressHasher::RedactTo(std::string_view text, std::string& out) const {
  if (!enabled_) {
    out.append(text);
    return;
  }
  size_t copied = 0, b, e;
  while (NextAddress(text, copied, b, e)) {
    out.append(text.substr(copied, b - copied));
    out.append("addr:");
    out.append(Hash(text.substr(b, e - b)));
    copied = e;
  }
  out.append(text.substr(copied));
}

}  // namespace bs
