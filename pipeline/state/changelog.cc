#include "pipeline/state/changelog.h"

namespace bs::state {

void ValueWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void ValueWriter::Fixed32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool ValueReader::Byte(uint8_t& v) {
  if (!ok_ || in_.empty()) return Fail();
  v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool ValueReader::Varint(uint64_t& v) {
  if (!ok_) return false;
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in_.empty()) return Fail();
    const uint8_t b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return Fail();  // more than 10 bytes: not ours
}

bool ValueReader::Signed(int64_t& v) {
  uint64_t u;
  if (!Varint(u)) return false;
  v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool ValueReader::Fixed32(uint32_t& v) {
  if (!ok_ || in_.size() < 4) return Fail();
  v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
  in_.remove_prefix(4);
  return true;
}

bool ValueReader::Bytes(std::string_view& s) {
  uint64_t n;
  if (!Varint(n)) return false;
  if (n > in_.size()) return Fail();
  s = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

absl::Status FramedChangelogWriter::Put(std::string_view key, std::string_view value) {
  ValueWriter w(out_);
  w.Bytes(key);
  w.Varint(value.size() + 1);
  out_.append(value);
  ++records_;
  return absl::OkStatus();
}

absl::Status FramedChangelogWriter::Delete(std::string_view key) {
  ValueWriter w(out_);
  w.Bytes(key);
  w.Varint(0);
  ++records_;
  return absl::OkStatus();
}

absl::StatusOr<bool> ReadFramedRecord(std::string_view& in, ChangelogRecordView& record) {
  if (in.empty()) return false;
  ValueReader r(in);
  uint64_t size;
  if (!r.Bytes(record.key) || !r.Varint(size)) return absl::DataLossError("changelog: truncated record header");
  std::string_view rest = r.rest();
  if (size == 0) {
    record.tombstone = true;
    record.value = {};
  } else {
    if (size - 1 > rest.size()) return absl::DataLossError("changelog: truncated record value");
    record.tombstone = false;
    record.value = rest.substr(0, size - 1);
    rest.remove_prefix(size - 1);
  }
  in = rest;
  return true;
}

}  // namespace bs::state
