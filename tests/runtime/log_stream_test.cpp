// Tests for decoding the engine's /containers/{id}/logs?timestamps=1 stream: multiplexed frames
// split anywhere, stderr, lines the engine split into pieces, raw TTY streams, timestamps.
#include <gtest/gtest.h>

#include "ecsd/runtime/docker/docker_client.hpp"

namespace ecsd::runtime::docker {
namespace {

std::string frame(int stream, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  std::uint32_t n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) f[4 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return f + payload;
}

constexpr std::int64_t kT0 = 1767225600LL * 1000000000LL;  // 2026-01-01T00:00:00Z

TEST(LogStreamTest, ParsesEngineTimestampsToNanoseconds) {
  EXPECT_EQ(parse_time_ns("2026-01-01T00:00:00Z"), kT0);
  EXPECT_EQ(parse_time_ns("2026-01-01T00:00:00.123456789Z"), kT0 + 123456789);
  EXPECT_EQ(parse_time_ns("2026-01-01T00:00:00.5Z"), kT0 + 500000000);
  EXPECT_EQ(parse_time_ns("2026-01-01T01:00:00+01:00"), kT0);
  EXPECT_EQ(parse_time_ns("not a time"), -1);
  EXPECT_EQ(since_param(kT0 + 42), "1767225600.000000042");
}

TEST(LogStreamTest, FirstHostAddressOfASubnet) {
  EXPECT_EQ(first_host_address("172.31.0.0/20"), "172.31.0.1");
  EXPECT_EQ(first_host_address("10.1.2.3/24"), "10.1.2.1");
  EXPECT_EQ(first_host_address("fd00::/64"), "");
  EXPECT_EQ(first_host_address("172.31.0.0"), "");
}

TEST(LogStreamTest, DecodesFramesSplitAtAnyByte) {
  std::string raw = frame(1, "2026-01-01T00:00:00.000000001Z hello\n") +
                    frame(2, "2026-01-01T00:00:00.000000002Z oops\n") +
                    frame(1, "2026-01-01T00:00:00.000000003Z a\n2026-01-01T00:00:00.000000004Z b\n");
  for (std::size_t cut = 0; cut <= raw.size(); ++cut) {
    LogStreamDecoder d;
    std::vector<LogLine> out;
    d.feed(raw.substr(0, cut), out);
    d.feed(raw.substr(cut), out);
    d.finish(out);
    ASSERT_EQ(out.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(out[0].text, "hello");
    EXPECT_EQ(out[0].ts_ns, kT0 + 1);
    EXPECT_FALSE(out[0].is_stderr);
    EXPECT_EQ(out[1].text, "oops");
    EXPECT_TRUE(out[1].is_stderr);
    EXPECT_EQ(out[3].text, "b");
    EXPECT_EQ(out[3].ts_ns, kT0 + 4);
  }
}

TEST(LogStreamTest, JoinsALineTheEngineSplitIntoPieces) {
  LogStreamDecoder d;
  std::vector<LogLine> out;
  d.feed(frame(1, "2026-01-01T00:00:00.000000001Z first-half ") + frame(1, "2026-01-01T00:00:00.000000002Z second-half\n"),
         out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "first-half second-half");
  EXPECT_EQ(out[0].ts_ns, kT0 + 1);
}

TEST(LogStreamTest, RawTtyStreamAndUnterminatedLastLine) {
  LogStreamDecoder d;
  std::vector<LogLine> out;
  d.feed("2026-01-01T00:00:00Z tty line\r\n2026-01-01T00:00:01Z par", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "tty line");
  d.feed("tial", out);
  d.finish(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].text, "partial");
  EXPECT_EQ(out[1].ts_ns, kT0 + 1000000000);
}

}  // namespace
}  // namespace ecsd::runtime::docker
