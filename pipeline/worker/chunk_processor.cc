#include "pipeline/worker/chunk_processor.h"

#include "pipeline/worker/esp_class.h"

namespace bs {

ChunkProcessor::ChunkProcessor(std::shared_ptr<const RuleSet> rules, ParserOptions options)
    : rules_(std::move(rules)), options_(options) {
  events_.reserve(64);
}

void ChunkProcessor::MakeDurable(DeliveryEvent& e, const char* lo, const char* hi, Arena& arena) {
  auto fix = [&](std::string_view& v) {
    if (v.empty() || (v.data() >= lo && v.data() + v.size() <= hi)) return;
    v = arena.Copy(v);
  };
  fix(e.recipient);
  fix(e.recipient_domain);
  fix(e.sender);
  fix(e.sender_domain);
  fix(e.message_id);
  fix(e.campaign);
  fix(e.tenant);
  fix(e.sending_ip);
  fix(e.egress_source);
  fix(e.egress_pool);
  fix(e.mta_host);
  fix(e.mx_host);
  fix(e.mx_ip);
  fix(e.reply.text);
  fix(e.esp_class.type);
  fix(e.esp_class.subtype);
}

absl::Status ChunkProcessor::Process(const Chunk& chunk, int input_index, std::string_view source, Format format,
                                     ChunkResult& out, int32_t partition) {
  out.Clear();
  auto it = parsers_.find(input_index);
  if (it == parsers_.end()) {
    auto parser = CreateParser(format, options_);
    if (!parser.ok()) return parser.status();
    it = parsers_.emplace(input_index, std::move(parser).value()).first;
  }
  Parser& parser = *it->second;
  const char* lo = chunk.buffer.get();
  const char* hi = lo + chunk.size;
  for (size_t i = 0; i < chunk.records.size(); ++i) {
    std::string_view record = chunk.record(i);
    Position pos{source, partition, chunk.records[i].line};
    ++out.records;
    events_.clear();
    ParseResult r = parser.Parse(record, pos, events_);
    if (!r.ok()) {
      out.dead_letters.push_back(DeadLetter{pos, r.error, r.detail, record});
      continue;
    }
    if (events_.empty()) {
      ++out.skipped[static_cast<size_t>(r.skip)];
      continue;
    }
    // A record whose only event is join bookkeeping (Postfix `removed`) is counted as informational, as
    // it was before the join used it.
    if (events_.size() == 1 && events_[0].envelope_removed) {
      ++out.skipped[static_cast<size_t>(SkipReason::kInformational)];
    } else {
      ++out.event_records;
    }
    for (DeliveryEvent& e : events_) {
      MakeDurable(e, lo, hi, out.arena);
      Classification cls;
      if (e.outcome != Outcome::kEnvelope) {
        cls = rules_->Classify(ReplyInput::FromEvent(e), scratch_);
        // The ESP's own verdict fills in where the reply says too little (see esp_class.h).
        if (e.esp_class.present()) ApplyEspClass(e, cls);
      }
      out.events.push_back(ClassifiedEvent{e, cls});
    }
  }
  return absl::OkStatus();
}

}  // namespace bs
