// JsonWriter: appends compact JSON to a caller-owned std::string, for the output encoders. Keys are
// written in call order, so the encoders decide a stable field order (byte-identical replays depend on
// it). Invalid UTF-8 in a value is replaced by U+FFFD so outputs stay valid JSON.
#ifndef BOUNCESTREAM_PIPELINE_BASE_JSON_WRITER_H_
#define BOUNCESTREAM_PIPELINE_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace bs {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() { Sep(); out_ += '{'; first_ = true; }
  void EndObject() { out_ += '}'; first_ = false; }
  void BeginArray() { Sep(); out_ += '['; first_ = true; }
  void EndArray() { out_ += ']'; first_ = false; }
  // Writes `"key":` — the next value call writes the value.
  void Key(std::string_view key);

  void String(std::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  // Fixed 4 decimals, trailing zeros trimmed: stable across platforms.
  void Double(double v);
  void Bool(bool v);
  void Null();

  void KV(std::string_view k, std::string_view v) { Key(k); String(v); }
  void KV(std::string_view k, const char* v) { Key(k); String(v); }
  void KVInt(std::string_view k, int64_t v) { Key(k); Int(v); }

  // Appends `s` as a JSON string body (no quotes), escaping as needed.
  static void Escape(std::string_view s, std::string& out);

 private:
  void Sep() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_JSON_WRITER_H_
