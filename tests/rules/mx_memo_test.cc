// MxMemo (rules/mx_memo.h): answers as the lookup it memoises, for any mix of hosts, and asks the lookup
// again only when it must (a new host, an evicted line, a new snapshot, a host too long to keep).
#include "rules/mx_memo.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bs {
namespace {

// A lookup with an answer per host, counting its calls.
struct CountingLookup {
  std::map<std::string, int, std::less<>> calls;
  int operator()(std::string_view host) {
    ++calls[std::string(host)];
    return static_cast<int>(std::hash<std::string_view>{}(host) % 1000);
  }
};

TEST(MxMemoTest, RepeatedHostsAreLookedUpOnce) {
  MxMemo memo;
  CountingLookup lookup;
  auto get = [&](std::string_view h) { return memo.Get(1, h, [&](std::string_view x) { return lookup(x); }); };
  const int a = get("gmail-smtp-in.l.google.com");
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(get("gmail-smtp-in.l.google.com"), a);
    get("mx01.mail.icloud.com");
  }
  EXPECT_EQ(lookup.calls["gmail-smtp-in.l.google.com"], 1);
  EXPECT_EQ(lookup.calls["mx01.mail.icloud.com"], 1);
  // Another spelling is another key: looked up, never answered from the first one's line.
  get("GMAIL-SMTP-IN.L.GOOGLE.COM");
  EXPECT_EQ(lookup.calls["GMAIL-SMTP-IN.L.GOOGLE.COM"], 1);
}

TEST(MxMemoTest, ANewSnapshotForgetsEverything) {
  MxMemo memo;
  int value = 7;
  auto get = [&](uint64_t owner) { return memo.Get(owner, "mx.example.net", [&](std::string_view) { return value; }); };
  EXPECT_EQ(get(1), 7);
  value = 9;  // the new snapshot maps the host elsewhere
  EXPECT_EQ(get(1), 7);
  EXPECT_EQ(get(2), 9);
}

TEST(MxMemoTest, LongAndEmptyHostsAreNotKept) {
  MxMemo memo;
  CountingLookup lookup;
  const std::string long_host(MxMemo::kMaxHost + 1, 'a');
  for (int k = 0; k < 3; ++k) {
    memo.Get(1, long_host, [&](std::string_view x) { return lookup(x); });
    memo.Get(1, "", [&](std::string_view x) { return lookup(x); });
  }
  EXPECT_EQ(lookup.calls[long_host], 3);
  EXPECT_EQ(lookup.calls[""], 3);
}

TEST(MxMemoTest, ManyHostsSharingLinesAlwaysGetTheirOwnAnswer) {
  // Far more hosts than lines, of every length up to kMaxHost, many differing only in the middle (the
  // key reads the first and last 8 bytes): collisions must cost lookups, never wrong answers.
  std::mt19937 rng(5);
  std::vector<std::string> hosts;
  for (int k = 0; k < 2000; ++k) {
    std::string h(1 + rng() % MxMemo::kMaxHost, 'x');
    if (k % 2 == 0) {
      for (char& c : h) c = static_cast<char>('a' + rng() % 26);
    } else if (h.size() > 16) {
      h[8 + rng() % (h.size() - 16)] = static_cast<char>('a' + rng() % 26);
    }
    hosts.push_back(h);
  }
  MxMemo memo;
  CountingLookup lookup;
  auto total_calls = [&] {
    size_t calls = 0;
    for (const auto& [h, n] : lookup.calls) calls += static_cast<size_t>(n);
    return calls;
  };
  size_t first_half = 0;
  for (int round = 0; round < 20000; ++round) {
    if (round == 10000) first_half = total_calls();
    const std::string& h = hosts[rng() % (round < 10000 ? 50 : hosts.size())];
    ASSERT_EQ(memo.Get(1, h, [&](std::string_view x) { return lookup(x); }),
              static_cast<int>(std::hash<std::string_view>{}(h) % 1000))
        << h;
  }
  // The first half cycles over 50 hosts: most of it is answered from memory.
  EXPECT_LT(first_half, 3000u);
  EXPECT_GT(total_calls(), first_half + 5000);  // the second half, over 2000 hosts, mostly misses
}

}  // namespace
}  // namespace bs
