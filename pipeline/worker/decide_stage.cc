#include "pipeline/worker/decide_stage.h"

#include "pipeline/base/status_macros.h"
#include "pipeline/base/strings.h"
#include "pipeline/sink/encoders.h"

namespace bs {

DecideStage::DecideStage(Options options, Sink& sink, PipelineStats& stats)
    : options_(std::move(options)),
      sink_(sink),
      stats_(stats),
      decider_(options_.ruleset_version, options_.decider),
      alerts_(options_.policy, options_.partitions),
      privacy_(options_.hash_addresses ? AddressHasher(options_.address_hash_key) : AddressHasher()),
      silence_(options_.policy.silence, options_.policy.key_ttl_ms) {
  if (options_.repartition != nullptr) {
    exchange_ = std::make_unique<WindowExchange>(options_.policy, options_.partitions,
                                                 options_.repartition_partitions, *options_.repartition);
  }
}

absl::Status DecideStage::ConsumeEvent(int partition, const ClassifiedEvent& ce) {
  ++stats_.outcomes[static_cast<size_t>(ce.event.outcome)];
  ++stats_.provider_category[static_cast<size_t>(ce.cls.provider)][static_cast<size_t>(ce.cls.category)];
  if (!ce.cls.rule.empty()) {
    // Heterogeneous lookup: a new key is copied once per distinct rule id, never per event.
    auto hit = stats_.rule_hits.find(Av(ce.cls.rule));
    if (hit != stats_.rule_hits.end()) {
      ++hit->second;
    } else {
      stats_.rule_hits.emplace(std::string(ce.cls.rule), 1);
    }
  }
  if (options_.classified) {
    buf_.clear();
    EncodeClassified(ce, options_.ruleset_version, buf_, &privacy_);
    RETURN_IF_ERROR(sink_.Write(OutputKind::kClassified,
                                privacy_.enabled() ? privacy_.Key(ce.event.recipient) : ce.event.recipient, buf_));
  }
  decisions_.clear();
  (options_.state_per_partition ? decider(partition) : decider_).Decide(ce, decisions_);
  for (const SuppressionRecord& d : decisions_) {  // suppressions and hygiene events, same output
    if (d.hygiene) {
      ++stats_.hygiene_events;
    } else {
      ++stats_.suppressions[static_cast<size_t>(d.action)];
    }
    buf_.clear();
    EncodeSuppression(d, buf_, &privacy_);
    RETURN_IF_ERROR(sink_.Write(OutputKind::kSuppressions,
                                privacy_.enabled() ? privacy_.Key(d.key) : std::string_view(d.key), buf_));
  }
  const uint64_t late_before = late_events();
  if (exchange_) {
    exchange_->Add(partition, ce);
  } else {
    alerts_.Add(partition, ce);
  }
  if (options_.late_output && late_events() != late_before) {
    buf_.clear();
    EncodeLate(ce, exchange_ ? exchange_->shipped_watermark(partition) : alerts_.watermark(), partition,
               options_.ruleset_version, buf_, &privacy_);
    RETURN_IF_ERROR(sink_.Write(OutputKind::kLate, ce.event.position.ToString(), buf_));
  }
  silence_.Add(ce);
  return absl::OkStatus();
}

absl::Status DecideStage::Consume(int partition, ChunkResult& result) {
  for (const DeadLetter& d : result.dead_letters) {
    buf_.clear();
    EncodeDeadLetter(d, buf_, &privacy_);
    ++stats_.dead_letters_by_error[static_cast<size_t>(d.error) & 15];
    RETURN_IF_ERROR(sink_.Write(OutputKind::kDeadLetters, d.position.ToString(), buf_));
  }
  for (ClassifiedEvent& ce : result.events) {
    // The join fills a missing sender in place (copying each ~600-byte event cost 5 % of a replay), with
    // views into the join that live until its next call: the event gets its own back right after.
    const std::string_view sender = ce.event.sender, sender_domain = ce.event.sender_domain;
    if (!join_.Apply(ce.event)) continue;  // an envelope line, remembered for the join
    absl::Status s = ConsumeEvent(partition, ce);
    ce.event.sender = sender;
    ce.event.sender_domain = sender_domain;
    RETURN_IF_ERROR(s);
  }
  if (exchange_) {
    RETURN_IF_ERROR(exchange_->Ship(partition));
  } else {
    alerts_.Drain(pending_alerts_);
  }
  return EmitAlerts();
}

void DecideStage::StartPartition(int partition) {
  if (exchange_) {
    exchange_->StartInput(partition);
  } else {
    alerts_.StartPartition(partition);
  }
}

void DecideStage::RevokePartition(int partition) {
  if (exchange_) exchange_->DropInput(partition);
}

void DecideStage::RestoreShipped(int partition, int64_t watermark) {
  if (exchange_) exchange_->RestoreShipped(partition, watermark);
}

int64_t DecideStage::shipped_watermark(int partition) const {
  return exchange_ ? exchange_->shipped_watermark(partition) : INT64_MIN;
}

absl::Status DecideStage::Heartbeat() { return exchange_ ? exchange_->Heartbeat() : absl::OkStatus(); }

absl::Status DecideStage::ConsumePartials(int r, std::string_view message) {
  RETURN_IF_ERROR(exchange_->Receive(r, message, pending_alerts_));
  return EmitAlerts();
}

SuppressionDecider& DecideStage::decider(int partition) {
  if (!options_.state_per_partition) return decider_;
  std::unique_ptr<SuppressionDecider>& d = partition_deciders_[partition];
  if (!d) d = std::make_unique<SuppressionDecider>(options_.ruleset_version, options_.decider);
  return *d;
}

void DecideStage::DropPartitionState(int partition) { partition_deciders_.erase(partition); }

void DecideStage::WarmUp(const ChunkResult& result) {
  for (const ClassifiedEvent& in : result.events) {
    if (in.event.outcome != Outcome::kEnvelope) continue;
    DeliveryEvent e = in.event;
    join_.Apply(e);
  }
}

absl::Status DecideStage::ParkPartition(int partition, bool parked) {
  if (exchange_) {
    RETURN_IF_ERROR(exchange_->Park(partition, parked));
    return EmitAlerts();
  }
  alerts_.ParkPartition(partition, parked);
  if (!parked) return absl::OkStatus();
  alerts_.Drain(pending_alerts_);
  return EmitAlerts();
}

absl::Status DecideStage::FinishPartition(int partition) {
  alerts_.FinishPartition(partition);
  alerts_.Drain(pending_alerts_);
  return EmitAlerts();
}

absl::Status DecideStage::Finish() {
  alerts_.Flush(pending_alerts_);
  RETURN_IF_ERROR(EmitAlerts());
  silence_.Finish();  // the last windows are partial: not judged
  stats_.late_events = late_events();
  stats_.open_incidents =
      (exchange_ ? exchange_->open_incidents() : alerts_.open_incidents()) + silence_.open_incidents();
  return sink_.Flush();
}

absl::Status DecideStage::EmitAlerts() {
  silence_.Advance(exchange_ ? exchange_->local_watermark() : alerts_.watermark(), pending_alerts_);
  for (const AlertRecord& a : pending_alerts_) {
    ++stats_.alerts[static_cast<size_t>(a.kind)][static_cast<size_t>(a.state)];
    buf_.clear();
    EncodeAlert(a, buf_, &privacy_);
    RETURN_IF_ERROR(sink_.Write(OutputKind::kAlerts, a.id, buf_));
  }
  pending_alerts_.clear();
  return absl::OkStatus();
}

}  // namespace bs
