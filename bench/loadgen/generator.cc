#include "bench/loadgen/generator.h"

#include <cstdio>
#include <queue>
#include <string_view>
#include <vector>

#include "pipeline/base/event_time.h"

namespace bs::loadgen {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n ? Next() % n : 0; }
  // Probability in per-mille.
  bool PerMille(uint64_t p) { return Below(1000) < p; }

 private:
  uint64_t s_;
};

struct ProviderSpec {
  std::string_view name;
  int weight;
  std::vector<std::string_view> domains;
  std::string_view mx;
  std::string_view mx_ip;
  std::string_view ok;            // 250 text
  std::string_view user_unknown;  // full reply: code, enhanced, text
};

const std::vector<ProviderSpec>& Providers() {
  static const std::vector<ProviderSpec> kProviders = {
      {"gmail", 34, {"gmail.com", "googlemail.com"}, "gmail-smtp-in.l.google.com", "142.250.153.26",
       "2.0.0 OK  1793606400 a640c23a62f3a-7f1si1234567ejc.412 - gsmtp",
       "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the "
       "recipient's email address for typos or unnecessary spaces. For more information, go to "
       "https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b8si4412a12.301 - gsmtp"},
      {"microsoft", 20, {"outlook.com", "hotmail.com", "live.com"}, "outlook-com.olc.protection.outlook.com",
       "52.101.68.15", "2.6.0 <MSGID@news.example.com> [InternalId=1234567890, Hostname=AM0PR02MB1234.eurprd02.prod.outlook.com] 18432 bytes in 0.112, 160.562 KB/sec Queued mail for delivery",
       "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM0PEPF00000191.eurprd04.prod.outlook.com 2026-11-02T09:12:44.000Z 08DD0A11C2B3F4E5]"},
      {"yahoo", 14, {"yahoo.com", "aol.com", "ymail.com"}, "mta6.am0.yahoodns.net", "67.195.204.77", "ok dirdel",
       "554 5.1.1 <ADDR>: Recipient address rejected: Mailbox does not exist"},
      {"apple", 6, {"icloud.com", "me.com"}, "mx01.mail.icloud.com", "17.57.155.23",
       "2.0.0 Ok: queued as 4Q2bC81xYZz9sHm",
       "550 5.1.1 <ADDR>: user does not exist"},
      {"gmx", 5, {"gmx.de", "web.de", "gmx.net"}, "mx00.emig.gmx.net", "212.227.15.9",
       "Requested mail action okay, completed: id=1MlNtP-1tA3KQ2xX9-00ia4j",
       "550 Requested action not taken: mailbox unavailable"},
      {"orange", 3, {"orange.fr", "wanadoo.fr"}, "smtp-in.orange.fr", "193.252.22.65", "2.0.0 ZeXy2c00b1 mail accepted for delivery",
       "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]"},
      {"yandex", 3, {"yandex.ru", "ya.ru"}, "mx.yandex.ru", "77.88.21.249", "2.0.0 Ok: queued on mail-nwsmtp-mxfront-production-main-87.vla.yp-c.yandex.net 1793606400-xY7aBc3DeF-1",
       "550 5.7.1 No such user!"},
      {"mailru", 2, {"mail.ru", "bk.ru"}, "mxs.mail.ru", "94.100.180.31", "OK id=1tXyZ1-00AbCd-7Q",
       "550 Message was not accepted -- invalid mailbox.  Local mailbox ADDR is unavailable: user not found"},
      {"qq", 2, {"qq.com", "foxmail.com"}, "mx3.qq.com", "183.47.101.192", "Ok: queued as ",
       "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728"},
      {"other", 11, {"corp.example", "bigcorp.example", "smallbiz.example", "oldbrand.example"}, "", "", "2.0.0 Ok: queued as 3F2A81C0B2",
       "550 5.1.1 <ADDR>: Recipient address rejected: User unknown in virtual mailbox table"},
  };
  return kProviders;
}

constexpr std::string_view kIps[] = {"203.0.113.7", "203.0.113.8", "198.51.100.21"};
constexpr std::string_view kSources[] = {"ip-1", "ip-2", "ip-3"};
constexpr std::string_view kMtas[] = {"mta1", "mta2", "mta3"};
constexpr std::string_view kSenderDomains[] = {"news.example.com", "shop.example.net", "alerts.example.org"};
constexpr std::string_view kCampaigns[] = {"autumn-sale", "weekly-digest", "product-launch", "winback"};
constexpr std::string_view kFirst[] = {"anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo",
                                       "ines", "jonas", "kim", "lea", "marc", "nina", "omar", "paula"};

constexpr std::string_view kGmailRateLimit =
    "421 4.7.0 [IP] Our system has detected an unusual rate of unsolicited mail originating from your IP "
    "address. To protect our users from spam, mail sent from your IP address has been temporarily rate "
    "limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk "
    "Email Senders Guidelines. d2e1a72fcca58-7a2si123456b3a.76 - gsmtp";
constexpr std::string_view kMicrosoftDmarc =
    "550 5.7.509 Access denied, sending domain [ALERTS.EXAMPLE.ORG] does not pass DMARC verification and has "
    "a DMARC policy of reject. [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2026-11-02T11:45:10.117Z 08DD0A7C]";
constexpr std::string_view kNullMx = "556 5.1.10 Recipient address rejected: Domain oldbrand.example does not accept mail (null MX)";
constexpr std::string_view kGreylist = "451 4.7.1 <ADDR>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/corp.example.html";
constexpr std::string_view kSpamhaus =
    "554 5.7.1 Service unavailable; Client host [198.51.100.21] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/198.51.100.21";
constexpr std::string_view kMailboxFull = "452 4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp";
constexpr std::string_view kGmailSpf4xx =
    "421 4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. Gmail "
    "requires all bulk email senders to authenticate with SPF. For more information, go to "
    "https://support.google.com/mail/answer/81126#authentication e2f1b0a3c5d7-6b0si812345a.41 - gsmtp";
constexpr std::string_view kGmailSpf5xx =
    "550 5.7.27 Your email has been blocked because SPF authentication didn't pass for this message. Gmail "
    "requires all bulk email senders to authenticate with SPF. For more information, go to "
    "https://support.google.com/mail/answer/81126#authentication e2f1b0a3c5d7-6b0si812345a.42 - gsmtp";
constexpr std::string_view kServerDown = "451 4.3.0 Temporary server error. Please try again later";
constexpr std::string_view kThrottle = "421 4.7.0 Temporary System Problem.  Try again later (10). - gsmtp";

struct Attempt {
  int64_t time_ms = 0;
  uint64_t seq = 0;  // tie-break: generation order
  char kind = 'd';   // d delivered, t transient, b bounce
  std::string recipient;
  std::string domain;
  const ProviderSpec* provider = nullptr;
  std::string mx, mx_ip;
  int ip = 0;
  int sender = 0;
  std::string campaign;
  std::string reply;  // full reply text with code
  int attempt = 1;
  std::string id;
  bool operator>(const Attempt& o) const { return time_ms != o.time_ms ? time_ms > o.time_ms : seq > o.seq; }
};

std::string Hex(Rng& rng, int n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += kHex[rng.Below(16)];
  return s;
}

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  size_t p = 0;
  while ((p = out.find(from, p)) != std::string::npos) {
    out.replace(p, from.size(), to);
    p += to.size();
  }
  return out;
}

void JsonEscape(std::string_view s, std::string& out) {
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
}

// "550 5.1.1 text" → code, enhanced parts, text after them.
void SplitReply(std::string_view r, int& code, int& cls, int& subj, int& det, std::string_view& text) {
  code = (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
  cls = subj = det = 0;
  text = r.size() > 4 ? r.substr(4) : std::string_view();
  if (text.size() > 4 && text[0] >= '2' && text[0] <= '5' && text[1] == '.') {
    size_t sp = text.find(' ');
    std::string_view esc = text.substr(0, sp);
    std::sscanf(std::string(esc).c_str(), "%d.%d.%d", &cls, &subj, &det);
    text = sp == std::string_view::npos ? std::string_view() : text.substr(sp + 1);
  }
}

void WriteKumo(const Attempt& a, Rng& rng, std::string& out) {
  int code, cls, subj, det;
  std::string_view text;
  SplitReply(a.reply, code, cls, subj, det, text);
  const char* type = a.kind == 'd' ? "Delivery" : a.kind == 't' ? "TransientFailure" : "Bounce";
  std::string_view sender_domain = kSenderDomains[a.sender];
  char buf[256];
  out += "{\"type\":\"";
  out += type;
  out += "\",\"id\":\"" + a.id + "\",\"sender\":\"bounces+";
  out += a.campaign;
  out += "@";
  out += sender_domain;
  out += "\",\"recipient\":\"" + a.recipient + "\",\"queue\":\"" + a.campaign + ":acme@" + a.domain;
  out += "\",\"site\":\"";
  out += kSources[a.ip];
  out += "->" + a.mx + "\",\"size\":" + std::to_string(18000 + rng.Below(30000));
  out += ",\"response\":{\"code\":" + std::to_string(code) + ",\"enhanced_code\":";
  if (cls) {
    std::snprintf(buf, sizeof buf, "{\"class\":%d,\"subject\":%d,\"detail\":%d}", cls, subj, det);
    out += buf;
  } else {
    out += "null";
  }
  out += ",\"content\":\"";
  JsonEscape(text, out);
  out += "\",\"command\":\"";
  out += a.kind == 'd' || code == 554 || code == 550 ? "." : "RCPT TO";
  out += "\"},\"peer_address\":{\"name\":\"" + a.mx + "\",\"addr\":\"" + a.mx_ip + "\"}";
  out += ",\"timestamp\":" + std::to_string(a.time_ms / 1000);
  out += ",\"created\":" + std::to_string(a.time_ms / 1000 - 2 - static_cast<int64_t>(rng.Below(30)));
  out += ",\"num_attempts\":" + std::to_string(a.attempt);
  out += ",\"bounce_classification\":\"Uncategorized\",\"egress_pool\":\"pool-a\",\"egress_source\":\"";
  out += kSources[a.ip];
  out += "\",\"source_address\":{\"address\":\"";
  out += kIps[a.ip];
  out += ":" + std::to_string(30000 + rng.Below(30000)) + "\"},\"feedback_report\":null,\"meta\":{},\"headers\":{}";
  out += ",\"delivery_protocol\":\"ESMTP\",\"reception_protocol\":\"ESMTP\",\"nodeid\":\"5b7e2c1a-9d3f-4e8b-a1c2-7f6e5d4c3b2a\"";
  std::string iso = FormatIsoTimeMs(a.time_ms);  // ...SS.mmmZ → add sub-ms digits as KumoMTA does
  iso.insert(iso.size() - 1, std::to_string(100000 + rng.Below(900000)).substr(0, 6));
  out += ",\"event_time\":\"" + iso + "\"}\n";
}

void WritePostfix(const Attempt& a, bool queue_removed, Rng& rng, std::string& out) {
  std::string iso = FormatIsoTimeMs(a.time_ms);
  // rsyslog high-precision stamp: 2026-11-02T08:00:00.123456+00:00
  std::string stamp = iso.substr(0, 23) + std::to_string(100 + rng.Below(900)) + "+00:00";
  std::string host(kMtas[a.ip]);
  int pid = 20000 + static_cast<int>(rng.Below(9000));
  std::string qid = a.id.substr(0, 10);
  for (char& c : qid) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (a.attempt == 1) {
    out += stamp + " " + host + " postfix/qmgr[1187]: " + qid + ": from=<bounces+" + a.campaign + "@";
    out += kSenderDomains[a.sender];
    out += ">, size=" + std::to_string(18000 + rng.Below(30000)) + ", nrcpt=1 (queue active)\n";
  }
  int code, cls, subj, det;
  std::string_view text;
  SplitReply(a.reply, code, cls, subj, det, text);
  char dsn[32];
  std::snprintf(dsn, sizeof dsn, "%d.%d.%d", cls ? cls : code / 100, cls ? subj : 0, cls ? det : 0);
  const char* status = a.kind == 'd' ? "sent" : a.kind == 't' ? "deferred" : "bounced";
  char delays[96];
  std::snprintf(delays, sizeof delays, "delay=%.1f, delays=0.0%d/0.01/0.%02d/0.%02d", 0.3 + static_cast<double>(rng.Below(30)) / 10,
                static_cast<int>(rng.Below(9)), static_cast<int>(rng.Below(99)), static_cast<int>(rng.Below(99)));
  out += stamp + " " + host + " postfix/smtp[" + std::to_string(pid) + "]: " + qid + ": to=<" + a.recipient +
         ">, relay=" + a.mx + "[" + a.mx_ip + "]:25, " + delays + ", dsn=" + dsn + ", status=" + status + " (";
  if (a.kind == 'd') {
    out += a.reply;
  } else {
    const char* cmd = code == 554 || code == 550 ? "end of DATA" : "RCPT TO";
    if (code == 421 || code == 556) cmd = code == 421 ? "MAIL FROM" : "RCPT TO";
    out += "host " + a.mx + "[" + a.mx_ip + "] said: " + a.reply + " (in reply to " + cmd + " command)";
  }
  out += ")\n";
  // The message leaves the queue after its final attempt (a deferral keeps it for the next one).
  if (queue_removed && a.kind != 't') out += stamp + " " + host + " postfix/qmgr[1187]: " + qid + ": removed\n";
}

}  // namespace

void Generate(const GeneratorOptions& o, std::string& out) {
  Rng rng(o.seed);
  const auto& providers = Providers();
  int total_weight = 0;
  for (const auto& p : providers) total_weight += p.weight;
  const uint64_t distinct = o.distinct_addresses ? o.distinct_addresses : (o.records / 3 + 1);
  const int64_t t0 = o.start_ms;
  const int64_t h = 3600 * 1000;
  std::priority_queue<Attempt, std::vector<Attempt>, std::greater<Attempt>> pending;
  uint64_t seq = 0, emitted = 0;
  auto emit = [&](const Attempt& a) {
    if (o.format == LogFormat::kKumoMta) {
      WriteKumo(a, rng, out);
    } else {
      WritePostfix(a, o.queue_removed, rng, out);
    }
    ++emitted;
  };
  const uint64_t bad_at[] = {o.records / 3, o.records / 2, (2 * o.records) / 3};
  for (uint64_t i = 0; emitted < o.records; ++i) {
    int64_t t = t0 + static_cast<int64_t>((static_cast<double>(i) / static_cast<double>(o.records)) *
                                          static_cast<double>(o.duration_ms)) +
                static_cast<int64_t>(rng.Below(1500));
    while (!pending.empty() && pending.top().time_ms <= t && emitted < o.records) {
      emit(pending.top());
      pending.pop();
    }
    if (emitted >= o.records) break;
    if (o.malformed) {
      bool bad = false;
      for (int b = 0; b < 3; ++b) {
        if (i == bad_at[b] && i > 0) {
          bad = true;
          if (o.format == LogFormat::kKumoMta) {
            if (b == 0) out += "{\"type\":\"Bounce\",\"id\":\"0f3c\",\"recipient\":\"truncated@gmail.com\",\"response\":{\"code\":55\n";
            if (b == 1) out += "\x01\x02garbage \xff\xfe from a broken shipper\n";
            if (b == 2) out += "{\"id\":\"9a1b\",\"recipient\":\"no-type@outlook.com\",\"timestamp\":1793620000}\n";
          } else {
            if (b == 0) out += "2026-11-02T10:00:00.000000+00:00 mta1 postfix/smtp[2222]: 0A1B2C3D4E: to=<cut@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.153.26]:25, delay=1, delays=0/0/0/1, dsn=5.1\n";
            if (b == 1) out += "\x01\x02garbage \xff\xfe from a broken shipper\n";
            if (b == 2) out += "Nov 31 99:00:00 mta2 postfix/smtp[1]: 0A1B2C3D4F: to=<x@y.example>, status=sent (250 ok)\n";
          }
          ++emitted;
        }
      }
      if (bad) continue;
    }
    // Recipient: provider by weight, then a stable address.
    int pick = static_cast<int>(rng.Below(static_cast<uint64_t>(total_weight)));
    const ProviderSpec* p = &providers[0];
    for (const auto& cand : providers) {
      if (pick < cand.weight) {
        p = &cand;
        break;
      }
      pick -= cand.weight;
    }
    uint64_t n = rng.Below(distinct);
    std::string domain(p->domains[n % p->domains.size()]);
    Attempt a;
    a.seq = seq++;
    a.time_ms = t;
    a.provider = p;
    a.domain = domain;
    a.recipient = std::string(kFirst[n % 16]) + "." + std::to_string(n) + "@" + domain;
    a.mx = p->mx.empty() ? "mx." + domain : std::string(p->mx);
    a.mx_ip = p->mx_ip.empty() ? "192.0.2." + std::to_string(10 + domain.size()) : std::string(p->mx_ip);
    if (domain == "bigcorp.example") a.mx = "mx0a-00123401.pphosted.com", a.mx_ip = "148.163.150.7";
    a.ip = static_cast<int>(rng.Below(3));
    a.sender = static_cast<int>(rng.Below(3));
    a.campaign = std::string(kCampaigns[((t - t0) / (90 * 60 * 1000)) % 4]);
    a.id = Hex(rng, 32);
    a.kind = 'd';
    a.reply = std::string("250 ") + std::string(p->ok);
    const bool bad_address = n % 97 == 13;  // a stable 1 % of addresses do not exist
    if (o.incidents && domain == "oldbrand.example") {
      a.kind = 'b';
      a.reply = kNullMx;
    } else if (bad_address) {
      a.kind = 'b';
      a.reply = Replace(p->user_unknown, "ADDR", a.recipient);
    } else if (o.incidents && p->name == "gmail" && a.ip == 0 && t >= t0 + 2 * h && t < t0 + 2 * h + 40 * 60000 &&
               rng.PerMille(600)) {
      a.kind = 't';
      a.reply = Replace(kGmailRateLimit, "IP", kIps[0]);
      Attempt retry = a;
      retry.seq = seq++;
      retry.time_ms = t + 45 * 60000;  // retried later, accepted
      retry.kind = 'd';
      retry.attempt = 2;
      retry.reply = std::string("250 ") + std::string(p->ok);
      pending.push(retry);
    } else if (o.incidents && p->name == "microsoft" && a.sender == 2 && t >= t0 + 3 * h + 30 * 60000 &&
               t < t0 + 4 * h && rng.PerMille(700)) {
      a.kind = 'b';
      a.reply = kMicrosoftDmarc;
    } else if (o.incidents && domain == "bigcorp.example" && a.ip == 2 && t >= t0 + 1 * h && t < t0 + 1 * h + 15 * 60000) {
      a.kind = 'b';
      a.reply = kSpamhaus;
    } else if (o.extra_incidents && p->name == "gmail" && a.sender == 1 && t >= t0 + 4 * h + 20 * 60000 &&
               t < t0 + 5 * h + 20 * 60000 && rng.PerMille(t < t0 + 4 * h + 50 * 60000 ? 500 : 600)) {
      const bool deferred = t < t0 + 4 * h + 50 * 60000;
      a.kind = deferred ? 't' : 'b';
      a.reply = deferred ? kGmailSpf4xx : kGmailSpf5xx;
      if (deferred) {
        Attempt retry = a;
        retry.seq = seq++;
        retry.time_ms = t + 60 * 60000;  // after the sender fixed SPF
        retry.kind = 'd';
        retry.attempt = 2;
        retry.reply = std::string("250 ") + std::string(p->ok);
        pending.push(retry);
      }
    } else if (o.extra_incidents && domain == "smallbiz.example" && t >= t0 + 30 * 60000 && t < t0 + 5 * h &&
               rng.PerMille(850)) {
      a.kind = 't';
      a.reply = kServerDown;
      // Retried every 40 minutes, deferred again while the domain's server is down, then delivered.
      for (int r = 1;; ++r) {
        Attempt retry = a;
        retry.seq = seq++;
        retry.time_ms = t + r * 40 * 60000;
        retry.attempt = r + 1;
        if (retry.time_ms >= t0 + 5 * h) {
          retry.kind = 'd';
          retry.reply = std::string("250 ") + std::string(p->ok);
          pending.push(retry);
          break;
        }
        pending.push(retry);
      }
    } else if (o.incidents && domain == "corp.example" && rng.PerMille(500)) {
      a.kind = 't';
      a.reply = Replace(kGreylist, "ADDR", a.recipient);
      Attempt retry = a;
      retry.seq = seq++;
      retry.time_ms = t + 7 * 60000;
      retry.kind = 'd';
      retry.attempt = 2;
      retry.reply = std::string("250 ") + std::string(p->ok);
      pending.push(retry);
    } else if (p->name == "gmail" && rng.PerMille(3)) {
      a.kind = 't';
      a.reply = rng.PerMille(500) ? std::string(kMailboxFull) : std::string(kThrottle);
    }
    emit(a);
  }
}

}  // namespace bs::loadgen
