// EnvelopeJoin: fills the sender of events from formats that log it on a separate line (Postfix's qmgr
// `from=`, Exim's `<=`), joined by message id. Bounded: at most `capacity` ids per input are kept, the
// oldest evicted first, so a log that never logs outcomes for some messages cannot grow memory. Runs in
// the decide stage, in input order. Not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_
#define BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "parsers/delivery_event.h"

namespace bs {

class EnvelopeJoin {
 public:
  explicit EnvelopeJoin(size_t capacity = 1 << 20) : capacity_(capacity) {}

  // Envelope events are remembered (and return false: they are not outcomes). Other events without a
  // sender get the remembered one; their views then point into this object, valid until the next call.
  bool Apply(DeliveryEvent& e);

  size_t size() const { return senders_.size(); }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Key {
    std::string source;
    std::string message_id;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.source, k.message_id);
    }
    friend bool operator==(const Key& a, const Key& b) {
      return a.source == b.source && a.message_id == b.message_id;
    }
  };
  size_t capacity_;
  absl::flat_hash_map<Key, std::string> senders_;
  std::deque<Key> order_;
  uint64_t evicted_ = 0;
  Key probe_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_
