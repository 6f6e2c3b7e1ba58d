#include "pipeline/worker/envelope_join.h"

namespace bs {

bool EnvelopeJoin::Apply(DeliveryEvent& e) {
  if (e.message_id.empty()) return e.outcome != Outcome::kEnvelope;
  probe_.source.assign(e.position.source);
  probe_.message_id.assign(e.message_id);
  if (e.outcome == Outcome::kEnvelope) {
    auto [it, inserted] = senders_.try_emplace(probe_, e.sender);
    if (!inserted) {
      it->second.assign(e.sender);
      return false;
    }
    order_.push_back(probe_);
    while (senders_.size() > capacity_) {
      senders_.erase(order_.front());
      order_.pop_front();
      ++evicted_;
    }
    return false;
  }
  if (e.sender.empty()) {
    auto it = senders_.find(probe_);
    if (it != senders_.end()) {
      e.sender = it->second;
      e.sender_domain = DomainOf(e.sender);
    }
  }
  return true;
}

}  // namespace bs
