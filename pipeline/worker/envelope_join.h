// EnvelopeJoin: fills the sender of events from formats that log it on a separate line (Postfix's qmgr
// `from=`, Exim's `<=`), joined by message id. Bounded: at most `capacity` ids per input are kept, the
// oldest evicted first, so a log that never logs outcomes for some messages cannot grow memory; an id is
// also forgotten as soon as the MTA logs that the message left its queue (an envelope event with
// `envelope_removed`, Postfix's qmgr `removed`). Runs in the decide stage, in input order. Not
// thread-safe.
//
// Memory: an id is kept as a 64-bit hash of (input, message id) with a 32-bit interned sender and a
// 32-bit order stamp, about 25–45 bytes per open message with the order queue, instead of two strings per
// id; senders are stored once however many messages use them (bulk mail has few senders).
// Collisions: two open ids of one join share a key with probability about n²/2^65 for n open ids
// (n = 2^20 → 3·10^-8); a lookup of an unknown id matches an open one with probability n/2^64. A
// collision attaches the wrong sender to an outcome, which changes only its campaign identity (sender
// and the campaign derived from it); the recipient, and so which address is suppressed, never comes
// from the join.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_
#define BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "parsers/delivery_event.h"

namespace bs {

class EnvelopeJoin {
 public:
  explicit EnvelopeJoin(size_t capacity = 1 << 20) : capacity_(capacity) {}

  // Envelope events are remembered (and return false: they are not outcomes). Other events without a
  // sender get the remembered one; their views then point into this object, valid until the next call.
  bool Apply(DeliveryEvent& e);

  size_t size() const { return ids_.size(); }
  uint64_t evicted() const { return evicted_; }
  uint64_t removed() const { return removed_; }
  // Distinct senders currently held (for tests and memory figures).
  size_t senders() const { return sender_index_.size(); }

 private:
  struct Entry {
    uint32_t sender;  // index into sender_text_
    uint32_t stamp;   // the stamp of its order_ entry (queue entries with another stamp are stale)
  };

  uint64_t KeyOf(const DeliveryEvent& e);
  uint32_t Intern(std::string_view sender);
  void Release(uint32_t sender);
  void Forget(absl::flat_hash_map<uint64_t, Entry>::iterator it);
  void Trim();

  size_t capacity_;
  absl::flat_hash_map<uint64_t, Entry> ids_;
  // Keys in insertion order. Stamps are implicit: order_[i] has stamp next_stamp_ - order_.size() + i
  // (mod 2^32), so a queue entry is 8 bytes; an entry whose id was since forgotten is stale.
  std::deque<uint64_t> order_;
  uint32_t next_stamp_ = 0;
  uint64_t evicted_ = 0;
  uint64_t removed_ = 0;
  // Interned senders with reference counts; free slots are reused. std::deque keeps the strings (and
  // the views into them held by sender_index_) in place as it grows.
  std::deque<std::string> sender_text_;
  std::vector<uint32_t> sender_refs_;
  std::vector<uint32_t> free_senders_;
  absl::flat_hash_map<std::string_view, uint32_t> sender_index_;
  // Cache of the last source hashed: events of one chunk share their source.
  std::string last_source_;
  uint64_t last_source_hash_ = 0;
  bool have_source_ = false;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_ENVELOPE_JOIN_H_
