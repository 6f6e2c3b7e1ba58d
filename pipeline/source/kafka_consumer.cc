// The high-level consumer over librdkafka's C API (the C API has the incremental-assign, group-metadata
// and per-partition error details the runtime needs; the mock cluster used by the tests is C-only too).
#include "pipeline/source/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pipeline/base/strings.h"

namespace bs {

std::string TopicPartition::ToString() const { return absl::StrCat(topic, "/", partition); }

namespace {

// Partition lists are owned by RAII wrappers so no early return leaks one.
struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using List = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

List ToList(const std::vector<TopicPartition>& parts) {
  List l(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const TopicPartition& tp : parts) {
    rd_kafka_topic_partition_list_add(l.get(), tp.topic.c_str(), tp.partition)->offset = tp.offset;
  }
  return l;
}

std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* l) {
  std::vector<TopicPartition> out;
  if (l == nullptr) return out;
  out.reserve(static_cast<size_t>(l->cnt));
  for (int i = 0; i < l->cnt; ++i) out.push_back({l->elems[i].topic, l->elems[i].partition, l->elems[i].offset});
  return out;
}

// The first per-partition error of a list, as "topic/partition: error".
std::string ListErrors(const rd_kafka_topic_partition_list_t* l) {
  for (int i = 0; l != nullptr && i < l->cnt; ++i) {
    if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::StrCat(l->elems[i].topic, "/", l->elems[i].partition, ": ", rd_kafka_err2str(l->elems[i].err));
    }
  }
  return "";
}

absl::Status FromError(rd_kafka_error_t* e, std::string_view what) {
  if (e == nullptr) return absl::OkStatus();
  absl::Status s = absl::InternalError(absl::StrCat(Av(what), ": ", rd_kafka_error_string(e)));
  rd_kafka_error_destroy(e);
  return s;
}

// A broker-side reason turned into words a user can act on.
std::string Explain(rd_kafka_resp_err_t err, std::string_view brokers) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
      return absl::StrCat("cannot reach the Kafka brokers at ", Av(brokers), " (", rd_kafka_err2str(err),
                          "); check [kafka] brokers, the network and the listener's security.protocol");
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::StrCat("authentication to ", Av(brokers), " failed (", rd_kafka_err2str(err),
                          "); check the sasl.* and ssl.* properties");
    default:
      return rd_kafka_err2str(err);
  }
}

}  // namespace

// Callbacks librdkafka calls with the consumer as opaque (declared a friend in the header).
struct KafkaConsumerCallbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
    (void)rk;
    static_cast<KafkaConsumer*>(opaque)->OnRebalance(static_cast<int>(err), parts);
  }
  static void Log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* self = static_cast<KafkaConsumer*>(rd_kafka_opaque(rk));
    if (self != nullptr && self->options_.log) self->options_.log(level, absl::StrCat("kafka consumer ", fac, ": ", buf));
  }
  static void Error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    (void)rk;
    auto* self = static_cast<KafkaConsumer*>(opaque);
    if (self->options_.log) {
      self->options_.log(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? 3 : 4,
                         absl::StrCat("kafka consumer: ", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                                      ": ", reason));
    }
  }
};

absl::Status CheckKafkaProperties(const KafkaOptions& options) {
  std::vector<std::string> errors;
  const std::pair<const char*, const KafkaProperties*> sets[] = {{"kafka.properties", &options.properties},
                                                                 {"kafka.consumer_properties", &options.consumer_properties},
                                                                 {"kafka.producer_properties", &options.producer_properties}};
  for (const auto& [table, props] : sets) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [name, value] : props->values) {
      char err[512];
      if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        auto it = props->origin.find(name);
        errors.push_back(absl::StrCat(it == props->origin.end() ? "config" : it->second, ": [", table, "] \"", name,
                                      "\": ", err));
      }
    }
    rd_kafka_conf_destroy(conf);
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
}

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(Options options) {
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer(std::move(options)));
  const Options& o = c->options_;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> props = {
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"auto.offset.reset", "earliest"},
      // A fast failure detection for a stream processor; users override it in [kafka.properties].
      {"session.timeout.ms", "45000"},
  };
  for (const auto& kv : o.properties) props.emplace_back(kv.first, kv.second);
  props.emplace_back("bootstrap.servers", o.brokers);
  // librdkafka 2.0's assign() needs a group handle even without a group: a private id that is never
  // joined (no subscribe) and never committed to (auto commit off below).
  props.emplace_back("group.id", o.group_id.empty() ? absl::StrCat("bouncestream-assign-", getpid(), "-",
                                                                    reinterpret_cast<uintptr_t>(c.get()))
                                                    : o.group_id);
  if (!o.group_instance_id.empty()) props.emplace_back("group.instance.id", o.group_instance_id);
  props.emplace_back("enable.auto.offset.store", "false");
  props.emplace_back("enable.auto.commit", o.auto_commit && !o.group_id.empty() ? "true" : "false");
  props.emplace_back("enable.partition.eof", o.partition_eof ? "true" : "false");
  if (o.read_committed) props.emplace_back("isolation.level", "read_committed");
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka consumer property \"", k, "\": ", err));
    }
  }
  rd_kafka_conf_set_opaque(conf, c.get());
  rd_kafka_conf_set_log_cb(conf, &KafkaConsumerCallbacks::Log);
  rd_kafka_conf_set_error_cb(conf, &KafkaConsumerCallbacks::Error);
  if (!o.group_id.empty()) rd_kafka_conf_set_rebalance_cb(conf, &KafkaConsumerCallbacks::Rebalance);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("cannot create the Kafka consumer: ", err));
  }
  c->rk_ = rk;
  // Messages of every partition arrive through the one consumer queue.
  rd_kafka_poll_set_consumer(rk);
  return c;
}

KafkaConsumer::~KafkaConsumer() {
  (void)Close();
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

absl::StatusOr<int> KafkaConsumer::PartitionCount(const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::UnavailableError(Explain(err, options_.brokers));
  absl::StatusOr<int> result = absl::NotFoundError(absl::StrCat("topic '", topic, "' is not in the metadata"));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      result = absl::NotFoundError(absl::StrCat("topic '", topic, "' does not exist on ", options_.brokers));
    } else if (t.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      result = absl::PermissionDeniedError(
          absl::StrCat("not authorised to access topic '", topic, "' (check the ACLs of this client's principal)"));
    } else if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) {
      result = absl::UnavailableError(absl::StrCat("topic '", topic, "': ", rd_kafka_err2str(t.err)));
    } else {
      result = t.partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return result;
}

absl::Status KafkaConsumer::Subscribe(const std::vector<std::string>& topics, Listener* listener, int timeout_ms) {
  if (options_.group_id.empty()) return absl::InvalidArgumentError("a consumer group id is required to subscribe");
  for (const std::string& t : topics) {
    absl::StatusOr<int> n = PartitionCount(t, timeout_ms);
    if (!n.ok()) return n.status();
  }
  listener_ = listener;
  List l(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& t : topics) rd_kafka_topic_partition_list_add(l.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("subscribe: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Assign(const std::vector<TopicPartition>& partitions) {
  end_offsets_.clear();
  List l = ToList(partitions);
  rd_kafka_resp_err_t err = rd_kafka_assign(rk_, l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(absl::StrCat("assign: ", rd_kafka_err2str(err)));
  return absl::OkStatus();
}

void KafkaConsumer::OnRebalance(int err_code, void* partitions) {
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(partitions);
  auto err = static_cast<rd_kafka_resp_err_t>(err_code);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i) end_offsets_.erase({parts->elems[i].topic, parts->elems[i].partition});
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<TopicPartition> tps = FromList(parts);
    if (listener_ != nullptr) listener_->OnAssign(tps);
    for (const TopicPartition& tp : tps) {
      if (auto* e = rd_kafka_topic_partition_list_find(parts, tp.topic.c_str(), tp.partition)) e->offset = tp.offset;
    }
    if (cooperative) {
      if (absl::Status s = FromError(rd_kafka_incremental_assign(rk_, parts), "incremental assign"); !s.ok()) {
        if (options_.log) options_.log(3, s.message().data());
      }
    } else {
      rd_kafka_assign(rk_, parts);
    }
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    const bool lost = rd_kafka_assignment_lost(rk_) != 0;
    if (listener_ != nullptr) listener_->OnRevoke(FromList(parts), lost);
    if (cooperative) {
      if (absl::Status s = FromError(rd_kafka_incremental_unassign(rk_, parts), "incremental unassign"); !s.ok()) {
        if (options_.log) options_.log(3, s.message().data());
      }
    } else {
      rd_kafka_assign(rk_, nullptr);
    }
    return;
  }
  if (options_.log) options_.log(3, absl::StrCat("kafka consumer: rebalance failed: ", rd_kafka_err2str(err)));
  if (listener_ != nullptr) listener_->OnRevoke(FromList(parts), true);
  if (cooperative) {
    FromError(rd_kafka_incremental_unassign(rk_, parts), "incremental unassign").IgnoreError();
  } else {
    rd_kafka_assign(rk_, nullptr);
  }
}

absl::StatusOr<int> KafkaConsumer::Poll(int timeout_ms, int max_messages,
                                        const std::function<void(const KafkaMessage&)>& on_message,
                                        std::vector<TopicPartition>* eof) {
  int n = 0;
  int wait = timeout_ms;
  while (n < max_messages) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait);
    wait = 0;
    if (m == nullptr) break;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(m, &rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaMessage km;
      km.topic = rd_kafka_topic_name(m->rkt);
      km.partition = m->partition;
      km.offset = m->offset;
      rd_kafka_timestamp_type_t tstype;
      km.timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
      km.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
      km.payload = std::string_view(static_cast<const char*>(m->payload), m->len);
      on_message(km);
      ++n;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      std::string topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
      end_offsets_[{topic, m->partition}] = m->offset;
      if (eof != nullptr) eof->push_back({topic, m->partition, m->offset});
      continue;
    }
    char fatal[512];
    if (m->err == RD_KAFKA_RESP_ERR__FATAL &&
        rd_kafka_fatal_error(rk_, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(absl::StrCat("kafka consumer fatal error: ", fatal));
    }
    std::string where = m->rkt ? absl::StrCat(rd_kafka_topic_name(m->rkt), "/", m->partition, ": ") : "";
    switch (m->err) {
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return absl::NotFoundError(absl::StrCat(where, "the topic or partition does not exist (any more)"));
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return absl::PermissionDeniedError(absl::StrCat(where, rd_kafka_err2str(m->err),
                                                        " (check the ACLs of this client's principal)"));
      default:
        if (options_.log) options_.log(4, absl::StrCat("kafka consumer: ", where, rd_kafka_message_errstr(m)));
    }
  }
  return n;
}

absl::Status KafkaConsumer::Pause(const std::vector<TopicPartition>& partitions) {
  List l = ToList(partitions);
  rd_kafka_resp_err_t err = rd_kafka_pause_partitions(rk_, l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(absl::StrCat("pause: ", rd_kafka_err2str(err)));
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Resume(const std::vector<TopicPartition>& partitions) {
  List l = ToList(partitions);
  rd_kafka_resp_err_t err = rd_kafka_resume_partitions(rk_, l.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::InternalError(absl::StrCat("resume: ", rd_kafka_err2str(err)));
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Seek(const TopicPartition& partition, int timeout_ms) {
  List l = ToList({partition});
  if (absl::Status s = FromError(rd_kafka_seek_partitions(rk_, l.get(), timeout_ms), "seek"); !s.ok()) return s;
  std::string e = ListErrors(l.get());
  if (!e.empty()) return absl::InternalError(absl::StrCat("seek ", e));
  return absl::OkStatus();
}

absl::Status KafkaConsumer::StoreOffsets(const std::vector<TopicPartition>& offsets) {
  if (offsets.empty()) return absl::OkStatus();
  List l = ToList(offsets);
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_, l.get());
  // ERR__STATE: a partition is no longer assigned (revoked meanwhile); its offsets are not ours to store.
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE) {
    return absl::InternalError(absl::StrCat("store offsets: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status KafkaConsumer::Commit(const std::vector<TopicPartition>& offsets) {
  List l = offsets.empty() ? List() : ToList(offsets);
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, l.get(), 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("commit: ", rd_kafka_err2str(err)));
}

absl::StatusOr<std::vector<TopicPartition>> KafkaConsumer::Committed(const std::vector<TopicPartition>& partitions,
                                                                     int timeout_ms) {
  List l = ToList(partitions);
  rd_kafka_resp_err_t err = rd_kafka_committed(rk_, l.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("committed offsets: ", Explain(err, options_.brokers)));
  }
  return FromList(l.get());
}

absl::StatusOr<std::vector<TopicPartition>> KafkaConsumer::OffsetsForTimes(const std::vector<TopicPartition>& times,
                                                                           int timeout_ms) {
  List l = ToList(times);
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_, l.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("offsets for times: ", Explain(err, options_.brokers)));
  }
  std::string e = ListErrors(l.get());
  if (!e.empty()) return absl::UnavailableError(absl::StrCat("offsets for times: ", e));
  return FromList(l.get());
}

absl::Status KafkaConsumer::Watermarks(const std::string& topic, int32_t partition, int64_t& low, int64_t& high,
                                       int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("watermarks of ", topic, "/", partition, ": ", Explain(err, options_.brokers)));
  }
  return absl::OkStatus();
}

std::vector<TopicPartition> KafkaConsumer::Assignment() {
  rd_kafka_topic_partition_list_t* l = nullptr;
  if (rd_kafka_assignment(rk_, &l) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  List guard(l);
  return FromList(l);
}

std::vector<TopicPartition> KafkaConsumer::Lag() {
  std::vector<TopicPartition> out;
  rd_kafka_topic_partition_list_t* l = nullptr;
  if (rd_kafka_assignment(rk_, &l) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  List guard(l);
  rd_kafka_position(rk_, l);
  for (int i = 0; i < l->cnt; ++i) {
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, l->elems[i].topic, l->elems[i].partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    int64_t next = l->elems[i].offset;
    auto end = end_offsets_.find({l->elems[i].topic, l->elems[i].partition});
    if (end != end_offsets_.end()) next = std::max(next, end->second);
    if (next < 0) continue;
    out.push_back({l->elems[i].topic, l->elems[i].partition, std::max<int64_t>(0, high - next)});
  }
  return out;
}

absl::Status KafkaConsumer::Close() {
  if (closed_ || rk_ == nullptr) return absl::OkStatus();
  closed_ = true;
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("closing the consumer: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

}  // namespace bs
