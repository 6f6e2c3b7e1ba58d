#include "pipeline/window/window_exchange.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "pipeline/base/bytes.h"
#include "pipeline/base/status_macros.h"
#include "pipeline/window/flat_index.h"

namespace bs {
namespace {

constexpr std::string_view kMagic = "BSW1";
constexpr uint8_t kPartials = 1;
constexpr uint8_t kMarker = 2;
// A partials message is cut here: far below Kafka's default 1 MB message limit.
constexpr size_t kMaxMessageBytes = 256 * 1024;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

using bytes::PutI64;
using bytes::PutStr;
using bytes::PutU32;
using bytes::PutU8;
using Reader = bytes::Reader;

void PutHeader(std::string& out, uint8_t type, int source, int inputs) {
  out.append(kMagic);
  PutU8(out, type);
  PutU32(out, static_cast<uint32_t>(source));
  PutU32(out, static_cast<uint32_t>(inputs));
}

void PutCell(std::string& out, int64_t pane_start, const AlertAggregator::PartialCell& c) {
  PutI64(out, pane_start);
  PutU8(out, static_cast<uint8_t>(c.family));
  PutU8(out, static_cast<uint8_t>(c.provider));
  PutStr(out, c.a);
  PutStr(out, c.b);
  PutU32(out, c.attempts);
  PutU32(out, c.failures);
  // Kinds only when the cell has failures: most cells are attempts alone.
  PutU8(out, c.failures ? c.n_kinds : 0);
  if (!c.failures) return;
  for (int k = 0; k < c.n_kinds; ++k) {
    const AlertAggregator::PartialKind& pk = c.kinds[k];
    PutU32(out, pk.count);
    PutU32(out, pk.hard);
    PutU32(out, pk.max_attempt);
    PutU8(out, pk.n_samples);
    for (int i = 0; i < pk.n_samples; ++i) {
      PutI64(out, pk.sample_time[i]);
      PutStr(out, pk.samples[i]);
    }
    PutU8(out, pk.n_rules);
    for (int i = 0; i < pk.n_rules; ++i) PutStr(out, pk.rules[i]);
    PutU8(out, pk.n_blocklists);
    for (int i = 0; i < pk.n_blocklists; ++i) PutStr(out, pk.blocklists[i]);
  }
}

bool ReadCell(Reader& r, int64_t& pane_start, AlertAggregator::PartialCell& c) {
  pane_start = r.I64();
  const uint8_t family = r.U8();
  const uint8_t provider = r.U8();
  if (family > static_cast<uint8_t>(KeyFamily::kRecipientDomain) || provider >= kProviderCount) return false;
  c.family = static_cast<KeyFamily>(family);
  c.provider = static_cast<Provider>(provider);
  c.a = r.Str();
  c.b = r.Str();
  c.attempts = r.U32();
  c.failures = r.U32();
  c.n_kinds = r.U8();
  if (c.n_kinds > 5) return false;
  for (int k = 0; k < c.n_kinds; ++k) {
    AlertAggregator::PartialKind& pk = c.kinds[k];
    pk = AlertAggregator::PartialKind{};
    pk.count = r.U32();
    pk.hard = r.U32();
    pk.max_attempt = static_cast<uint16_t>(std::min<uint32_t>(r.U32(), 0xffff));
    pk.n_samples = r.U8();
    if (pk.n_samples > 3) return false;
    for (int i = 0; i < pk.n_samples; ++i) {
      pk.sample_time[i] = r.I64();
      pk.samples[i] = r.Str();
    }
    pk.n_rules = r.U8();
    if (pk.n_rules > 5) return false;
    for (int i = 0; i < pk.n_rules; ++i) pk.rules[i] = r.Str();
    pk.n_blocklists = r.U8();
    if (pk.n_blocklists > 5) return false;
    for (int i = 0; i < pk.n_blocklists; ++i) pk.blocklists[i] = r.Str();
  }
  return r.ok();
}

}  // namespace

int WindowExchange::MergePartitionOf(const AlertAggregator::PartialCell& cell, int merge_partitions) {
  uint64_t h = HashBytes(cell.a, (static_cast<uint64_t>(cell.family) << 8) | static_cast<uint64_t>(cell.provider));
  h = HashMix(HashBytes(cell.b, h));
  return merge_partitions > 0 ? static_cast<int>(h % static_cast<uint64_t>(merge_partitions)) : 0;
}

WindowExchange::WindowExchange(AlertPolicy policy, int inputs, int merge_partitions, PartialOutput& out)
    : policy_(std::move(policy)), inputs_(inputs), merge_partitions_(std::max(1, merge_partitions)), out_(out) {
  // The aggregator's own rule for an invalid shape (tumbling windows of window_ms).
  size_ms_ = policy_.window_ms > 0 ? policy_.window_ms : 5 * 60 * 1000;
  advance_ms_ = policy_.advance_ms;
  if (advance_ms_ <= 0 || advance_ms_ > size_ms_ || size_ms_ % advance_ms_ != 0) advance_ms_ = size_ms_;
  batch_.resize(static_cast<size_t>(merge_partitions_));
  batch_cells_.assign(static_cast<size_t>(merge_partitions_), 0);
}

WindowExchange::~WindowExchange() = default;

void WindowExchange::StartInput(int input) {
  Input& in = inputs_here_[input];
  in = Input();
  in.counter = std::make_unique<AlertAggregator>(policy_, 1);
  in.counter->set_judging(false);
}

void WindowExchange::RestoreShipped(int input, int64_t shipped_watermark) {
  auto it = inputs_here_.find(input);
  if (it == inputs_here_.end() || shipped_watermark == INT64_MIN) return;
  // Panes whose last window ended (+ grace) by then are final: their records are skipped.
  it->second.skip_before =
      FloorDiv(shipped_watermark - size_ms_ - policy_.grace_ms, advance_ms_) * advance_ms_ + advance_ms_;
  it->second.shipped = shipped_watermark;
}

void WindowExchange::DropInput(int input) { inputs_here_.erase(input); }

void WindowExchange::Add(int input, const ClassifiedEvent& ce) {
  auto it = inputs_here_.find(input);
  if (it == inputs_here_.end()) return;
  Input& in = it->second;
  if (in.skip_before != INT64_MIN && FloorDiv(ce.event.event_time_ms, advance_ms_) * advance_ms_ < in.skip_before) {
    return;  // counted and sent by the partition's previous owner
  }
  const uint64_t before = in.counter->late_events();
  in.counter->Add(0, ce);
  if (const uint64_t d = in.counter->late_events() - before) {
    late_ += d;
    late_by_input_[input] += d;
  }
}

uint64_t WindowExchange::late_events(int input) const {
  auto it = late_by_input_.find(input);
  return it == late_by_input_.end() ? 0 : it->second;
}

int64_t WindowExchange::shipped_watermark(int input) const {
  auto it = inputs_here_.find(input);
  return it == inputs_here_.end() ? INT64_MIN : it->second.shipped;
}

int64_t WindowExchange::local_watermark() const {
  int64_t wm = INT64_MAX;
  for (const auto& [input, in] : inputs_here_) {
    if (!in.parked && in.shipped != INT64_MIN) wm = std::min(wm, in.shipped);
  }
  return wm == INT64_MAX ? INT64_MIN : wm;
}

absl::Status WindowExchange::Export(int input, Input& in, int64_t through) {
  absl::Status status;
  in.counter->ExportPanes(through, [&](int64_t pane_start, const AlertAggregator::PartialCell& cell) {
    if (!status.ok()) return;
    auto at = std::lower_bound(in.panes.begin(), in.panes.end(), pane_start);
    if (at == in.panes.end() || *at != pane_start) in.panes.insert(at, pane_start);
    const size_t r = static_cast<size_t>(MergePartitionOf(cell, merge_partitions_));
    std::string& b = batch_[r];
    if (b.empty()) PutHeader(b, kPartials, input, inputs_);
    PutCell(b, pane_start, cell);
    ++batch_cells_[r];
    ++partials_sent_;
    if (b.size() >= kMaxMessageBytes) {
      key_ = absl::StrCat(input);
      status = out_.SendPartial(static_cast<int32_t>(r), key_, b);
      b.clear();
      batch_cells_[r] = 0;
    }
  });
  key_ = absl::StrCat(input);
  for (size_t r = 0; r < batch_.size(); ++r) {
    if (batch_[r].empty()) continue;
    if (status.ok()) status = out_.SendPartial(static_cast<int32_t>(r), key_, batch_[r]);
    batch_[r].clear();
    batch_cells_[r] = 0;
  }
  return status;
}

absl::Status WindowExchange::SendMarker(int input, Input& in) {
  std::string m;
  PutHeader(m, kMarker, input, inputs_);
  // Not the newest event time: the partials of what came after the last Ship have not gone out yet.
  // (Parked, everything has.)
  int64_t max_time = INT64_MIN;
  if (in.parked) {
    max_time = in.counter->max_time(0);
  } else if (in.shipped != INT64_MIN) {
    max_time = in.shipped + policy_.out_of_orderness_ms;
  }
  PutI64(m, max_time);
  PutU8(m, in.parked ? 1 : 0);
  PutU32(m, static_cast<uint32_t>(in.panes.size()));
  for (int64_t p : in.panes) PutI64(m, p);
  key_ = absl::StrCat(input);
  for (int r = 0; r < merge_partitions_; ++r) {
    RETURN_IF_ERROR(out_.SendPartial(r, key_, m));
    ++markers_sent_;
  }
  in.panes.clear();
  return absl::OkStatus();
}

absl::Status WindowExchange::Ship(int input) {
  auto it = inputs_here_.find(input);
  if (it == inputs_here_.end()) return absl::OkStatus();
  Input& in = it->second;
  const int64_t wm = in.counter->watermark();
  if (wm == INT64_MIN) return absl::OkStatus();
  RETURN_IF_ERROR(Export(input, in, wm));
  // Panes no window can use any more go (judging is off: nothing is fired); their events are late now.
  std::vector<AlertRecord> none;
  in.counter->Drain(none);
  in.shipped = std::max(in.shipped, wm);
  const int64_t step = FloorDiv(wm - policy_.grace_ms, advance_ms_);
  if (step != in.marked_step) {
    in.marked_step = step;
    RETURN_IF_ERROR(SendMarker(input, in));
  }
  return absl::OkStatus();
}

absl::Status WindowExchange::Park(int input, bool parked) {
  auto it = inputs_here_.find(input);
  if (it == inputs_here_.end()) return absl::OkStatus();
  Input& in = it->second;
  in.parked = parked;
  if (parked) RETURN_IF_ERROR(Export(input, in, INT64_MAX));
  return SendMarker(input, in);
}

absl::Status WindowExchange::Heartbeat() {
  for (auto& [input, in] : inputs_here_) RETURN_IF_ERROR(SendMarker(input, in));
  return absl::OkStatus();
}

void WindowExchange::AssignMerge(int partition) {
  auto agg = std::make_unique<AlertAggregator>(policy_, inputs_);
  agg->set_track_state(true);
  mergers_[partition] = std::move(agg);
}

void WindowExchange::TakeMergeState(int partition, const AlertAggregator::StateFn& emit) {
  auto it = mergers_.find(partition);
  if (it != mergers_.end()) it->second->TakeStateChanges(emit);
}

bool WindowExchange::RestoreMergeState(int partition, std::string_view key, std::string_view value) {
  auto it = mergers_.find(partition);
  return it != mergers_.end() && it->second->RestoreState(key, value);
}

void WindowExchange::RevokeMerge(int partition) { mergers_.erase(partition); }

void WindowExchange::FlushMerge(int partition, std::vector<AlertRecord>& out) {
  auto it = mergers_.find(partition);
  if (it != mergers_.end()) it->second->Flush(out);
}

int64_t WindowExchange::merge_watermark(int partition) const {
  auto it = mergers_.find(partition);
  return it == mergers_.end() ? INT64_MIN : it->second->watermark();
}

uint64_t WindowExchange::open_incidents() const {
  uint64_t n = 0;
  for (const auto& [r, agg] : mergers_) n += agg->open_incidents();
  return n;
}

absl::Status WindowExchange::Receive(int partition, std::string_view message, std::vector<AlertRecord>& out) {
  auto it = mergers_.find(partition);
  if (it == mergers_.end()) return absl::OkStatus();  // a straggler of a revoked partition
  AlertAggregator& agg = *it->second;
  if (message.substr(0, kMagic.size()) != kMagic) {
    ++rejected_;
    return absl::OkStatus();
  }
  Reader r(message.substr(kMagic.size()));
  const uint8_t type = r.U8();
  const uint32_t source = r.U32();
  const uint32_t inputs = r.U32();
  if (!r.ok() || inputs != static_cast<uint32_t>(inputs_) || source >= inputs) {
    ++rejected_;
    return absl::OkStatus();
  }
  if (type == kMarker) {
    const int64_t max_time = r.I64();
    const uint8_t parked = r.U8();
    const uint32_t n_panes = r.U32();
    Reader panes = r;
    for (uint32_t i = 0; i < n_panes && r.ok(); ++i) r.I64();
    if (!r.ok() || !r.done()) {
      ++rejected_;
      return absl::OkStatus();
    }
    for (uint32_t i = 0; i < n_panes; ++i) agg.NotePane(panes.I64());
    agg.SetProgress(static_cast<int>(source), max_time, parked != 0);
  } else if (type == kPartials) {
    // Checked whole first, so a damaged message changes nothing.
    Reader check = r;
    AlertAggregator::PartialCell cell;
    int64_t pane = 0;
    while (!check.done()) {
      if (!ReadCell(check, pane, cell)) {
        ++rejected_;
        return absl::OkStatus();
      }
    }
    while (!r.done()) {
      ReadCell(r, pane, cell);
      agg.ApplyPartial(static_cast<int>(source), pane, cell);
    }
  } else {
    ++rejected_;
    return absl::OkStatus();
  }
  agg.Drain(out);
  return absl::OkStatus();
}

int64_t WindowExchange::LatestPane(std::string_view message) {
  if (message.substr(0, kMagic.size()) != kMagic) return INT64_MIN;
  Reader r(message.substr(kMagic.size()));
  if (r.U8() != kPartials) return INT64_MIN;
  r.U32();
  r.U32();
  int64_t latest = INT64_MIN;
  AlertAggregator::PartialCell cell;
  int64_t pane = 0;
  while (r.ok() && !r.done()) {
    if (!ReadCell(r, pane, cell)) break;
    latest = std::max(latest, pane);
  }
  return latest;
}

}  // namespace bs
