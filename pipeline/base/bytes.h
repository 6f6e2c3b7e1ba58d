// Little binary encodings for internal Kafka records (window partials, judging state): fixed-width
// little-endian integers and length-prefixed strings. Not a wire format for users; every record that
// carries one starts with its own magic and version.
#ifndef BOUNCESTREAM_PIPELINE_BASE_BYTES_H_
#define BOUNCESTREAM_PIPELINE_BASE_BYTES_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace bs::bytes {

inline void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
template <typename T>
inline void PutFixed(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
inline void PutU32(std::string& out, uint32_t v) { PutFixed(out, v); }
inline void PutU64(std::string& out, uint64_t v) { PutFixed(out, v); }
inline void PutI64(std::string& out, int64_t v) { PutFixed(out, v); }
inline void PutF64(std::string& out, double v) { PutFixed(out, v); }
inline void PutStr(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads the encoding above; any overrun makes ok() false and returns zeros from then on.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  uint8_t U8() { return Need(1) ? static_cast<uint8_t>(in_[pos_++]) : 0; }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int64_t I64() { return Fixed<int64_t>(); }
  double F64() { return Fixed<double>(); }
  std::string_view Str() {
    const uint32_t n = U32();
    if (!Need(n)) return {};
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  template <typename T>
  T Fixed() {
    T v{};
    if (!Need(sizeof(T))) return v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  bool Need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace bs::bytes

#endif  // BOUNCESTREAM_PIPELINE_BASE_BYTES_H_
