#include "pipeline/worker/envelope_join.h"

#include "pipeline/state/state_hash.h"

namespace bs {

uint64_t EnvelopeJoin::KeyOf(const DeliveryEvent& e) {
  std::string_view source = e.position.source;
  if (!have_source_ || source != last_source_) {
    last_source_.assign(source);
    last_source_hash_ = state::HashBytes(source);
    have_source_ = true;
  }
  // Seeded with the input's hash, so one queue id in two inputs gives two unrelated keys.
  return state::HashBytes(e.message_id, last_source_hash_);
}

uint32_t EnvelopeJoin::Intern(std::string_view sender) {
  auto it = sender_index_.find(sender);
  if (it != sender_index_.end()) {
    ++sender_refs_[it->second];
    return it->second;
  }
  uint32_t id;
  if (!free_senders_.empty()) {
    id = free_senders_.back();
    free_senders_.pop_back();
    sender_text_[id].assign(sender);
    sender_refs_[id] = 1;
  } else {
    id = static_cast<uint32_t>(sender_text_.size());
    sender_text_.emplace_back(sender);
    sender_refs_.push_back(1);
  }
  sender_index_.emplace(std::string_view(sender_text_[id]), id);
  return id;
}

void EnvelopeJoin::Release(uint32_t sender) {
  if (--sender_refs_[sender] != 0) return;
  sender_index_.erase(std::string_view(sender_text_[sender]));
  sender_text_[sender].clear();
  free_senders_.push_back(sender);
}

void EnvelopeJoin::Forget(absl::flat_hash_map<uint64_t, Entry>::iterator it) {
  Release(it->second.sender);
  ids_.erase(it);
}

void EnvelopeJoin::Trim() {
  // Ids forgotten on `removed` leave stale queue entries; drop them in one pass once they outnumber the
  // live ones, so the queue stays within twice the map.
  // The survivors get fresh stamps, numbered on from next_stamp_, in the same order.
  if (order_.size() > 2 * ids_.size() + 1024) {
    std::deque<uint64_t> live;
    uint32_t stamp = next_stamp_ - static_cast<uint32_t>(order_.size());
    for (const uint64_t key : order_) {
      auto it = ids_.find(key);
      if (it != ids_.end() && it->second.stamp == stamp) {
        it->second.stamp = next_stamp_ + static_cast<uint32_t>(live.size());
        live.push_back(key);
      }
      ++stamp;
    }
    next_stamp_ += static_cast<uint32_t>(live.size());
    order_.swap(live);
  }
  while (ids_.size() > capacity_ && !order_.empty()) {
    const uint64_t key = order_.front();
    const uint32_t stamp = next_stamp_ - static_cast<uint32_t>(order_.size());
    order_.pop_front();
    auto it = ids_.find(key);
    if (it == ids_.end() || it->second.stamp != stamp) continue;  // stale
    Forget(it);
    ++evicted_;
  }
}

bool EnvelopeJoin::Apply(DeliveryEvent& e) {
  if (e.message_id.empty()) return e.outcome != Outcome::kEnvelope;
  // Most events carry their sender (KumoMTA, PowerMTA): nothing to join, no key to hash.
  if (e.outcome != Outcome::kEnvelope && !e.sender.empty()) return true;
  const uint64_t key = KeyOf(e);
  if (e.outcome == Outcome::kEnvelope) {
    if (e.envelope_removed) {
      auto it = ids_.find(key);
      if (it != ids_.end()) {
        Forget(it);
        ++removed_;
        Trim();
      }
      return false;
    }
    const uint32_t sender = Intern(e.sender);
    auto [it, inserted] = ids_.try_emplace(key, Entry{sender, next_stamp_});
    if (!inserted) {
      Release(it->second.sender);  // after Intern: the same sender again keeps its text
      it->second.sender = sender;
      return false;
    }
    order_.push_back(key);
    ++next_stamp_;
    Trim();
    return false;
  }
  auto it = ids_.find(key);  // a delivery without its sender: the envelope line gives it
  if (it != ids_.end()) {
    e.sender = sender_text_[it->second.sender];
    e.sender_domain = DomainOf(e.sender);
  }
  return true;
}

}  // namespace bs
