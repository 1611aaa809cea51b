// RFC 6455 framing: the server's frames as the client reads them (every protocol rule a server can break) and the
// client's masked frames as a server would read them.
#include "net/ws_frame.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ws = kintsugi::net::ws;
using kind = ws::frame_event::kind;
using kintsugi::net::errc;

namespace {

// A frame as a server writes it. `length_bytes` forces the length's encoding (0: the shortest).
std::string server_frame(std::uint8_t first_byte, std::string_view payload, int length_bytes = 0, bool masked = false) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  const std::uint64_t n = payload.size();
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (length_bytes == 0) length_bytes = n < 126 ? 1 : n <= 0xFFFF ? 2 : 8;
  if (length_bytes == 1) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else {
    out.push_back(static_cast<char>(mask_bit | (length_bytes == 2 ? 126 : 127)));
    for (int i = length_bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  if (masked) out.append("\0\0\0\0", 4);
  out.append(payload);
  return out;
}
constexpr std::uint8_t fin = 0x80;
constexpr std::uint8_t text = 0x1, binary = 0x2, continuation = 0x0, op_close = 0x8, ping = 0x9, pong = 0xA;

std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  payload += reason;
  return server_frame(fin | op_close, payload);
}

// What a server reads from a client frame: opcode, whether it was masked, and the unmasked payload.
struct client_frame {
  std::uint8_t first_byte = 0;
  bool masked = false;
  std::string payload;
  std::size_t size = 0;
};
client_frame read_client_frame(std::string_view bytes) {
  client_frame f;
  f.first_byte = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  f.masked = (b1 & 0x80) != 0;
  std::uint64_t n = b1 & 0x7F;
  std::size_t at = 2;
  if (n == 126 || n == 127) {
    const std::size_t count = n == 126 ? 2 : 8;
    n = 0;
    for (std::size_t i = 0; i < count; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes[at + i]);
    at += count;
  }
  const std::string_view key = bytes.substr(at, 4);
  at += 4;
  for (std::size_t i = 0; i < n; ++i) f.payload.push_back(static_cast<char>(bytes[at + i] ^ key[i % 4]));
  f.size = at + n;
  return f;
}

// The reader's next event from the front of `rest`; `rest` then starts after the bytes that event used.
ws::frame_event take(ws::frame_reader& reader, std::string_view& rest) {
  auto ev = reader.next(rest);
  rest.remove_prefix(ev.used);
  return ev;
}

}  // namespace

TEST_CASE("ws_frame: a whole text message in one frame is read in place") {
  ws::frame_reader reader(1024);
  const std::string bytes = server_frame(fin | text, R"({"type":"hello"})") + server_frame(fin | text, "next");
  auto ev = reader.next(bytes);
  REQUIRE(ev.what == kind::message);
  CHECK(ev.text);
  CHECK(ev.payload == R"({"type":"hello"})");
  CHECK(ev.payload.data() == bytes.data() + 2);  // no copy
  CHECK(ev.used == 2 + 16);
  ev = reader.next(std::string_view(bytes).substr(ev.used));
  REQUIRE(ev.what == kind::message);
  CHECK(ev.payload == "next");
}

TEST_CASE("ws_frame: a frame cut short asks for the bytes that complete it") {
  ws::frame_reader reader(1 << 20);
  const std::string small = server_frame(fin | text, "hello");
  const std::string medium = server_frame(fin | text, std::string(300, 'm'));
  const std::string large = server_frame(fin | binary, std::string(70000, 'l'));
  CHECK(reader.next("").needed == 2);
  CHECK(reader.next(small.substr(0, 1)).needed == 2);
  auto ev = reader.next(small.substr(0, 4));
  CHECK(ev.what == kind::need_more);
  CHECK(ev.needed == small.size());
  CHECK(ev.used == 0);
  CHECK(reader.next(medium.substr(0, 3)).needed == 4);
  CHECK(reader.next(medium.substr(0, 10)).needed == 304);
  CHECK(reader.next(large.substr(0, 9)).needed == 10);
  CHECK(reader.next(large.substr(0, 10)).needed == 70010);
  ev = reader.next(large);
  REQUIRE(ev.what == kind::message);
  CHECK_FALSE(ev.text);
  CHECK(ev.payload.size() == 70000);
  ev = reader.next(medium);
  REQUIRE(ev.what == kind::message);
  CHECK(ev.payload == std::string(300, 'm'));
}

TEST_CASE("ws_frame: a fragmented message is joined, with control frames between its parts") {
  ws::frame_reader reader(1024);
  // "é" is split between two fragments: only the whole message must be UTF-8.
  const std::string bytes = server_frame(text, "caf\xC3") + server_frame(fin | ping, "are you there") +
                            server_frame(continuation, "\xA9 ") + server_frame(fin | continuation, "open");
  std::string_view rest = bytes;
  CHECK(take(reader, rest).what == kind::fragment);
  auto ev = take(reader, rest);
  REQUIRE(ev.what == kind::ping);
  CHECK(ev.payload == "are you there");
  CHECK(take(reader, rest).what == kind::fragment);
  ev = take(reader, rest);
  REQUIRE(ev.what == kind::message);
  CHECK(ev.text);
  CHECK(ev.payload == "caf\xC3\xA9 open");
  CHECK(rest.empty());
}

TEST_CASE("ws_frame: pong and close frames") {
  ws::frame_reader reader(1024);
  auto ev = reader.next(server_frame(fin | pong, "x"));
  CHECK(ev.what == kind::pong);
  ev = reader.next(server_frame(fin | op_close, ""));
  REQUIRE(ev.what == kind::close);
  CHECK(ev.close_code == ws::close_no_status);
  const std::string going_away = close_frame(1001, "going away");  // the payload is a view into it
  ev = reader.next(going_away);
  REQUIRE(ev.what == kind::close);
  CHECK(ev.close_code == 1001);
  CHECK(ev.payload == "going away");
  CHECK(reader.next(close_frame(4000, "")).close_code == 4000);
}

TEST_CASE("ws_frame: every way a server can break the protocol is an error with the code to close with") {
  struct bad {
    const char* why;
    std::string bytes;
    errc error;
    std::uint16_t code;
  };
  const std::vector<bad> cases{
      {"reserved bit", server_frame(fin | 0x40 | text, "x"), errc::protocol_error, 1002},
      {"masked by the server", server_frame(fin | text, "x", 0, true), errc::protocol_error, 1002},
      {"unknown data opcode", server_frame(fin | 0x3, "x"), errc::protocol_error, 1002},
      {"unknown control opcode", server_frame(fin | 0xB, "x"), errc::protocol_error, 1002},
      {"continuation first", server_frame(fin | continuation, "x"), errc::protocol_error, 1002},
      {"new message inside a fragmented one", server_frame(text, "a") + server_frame(fin | text, "b"),
       errc::protocol_error, 1002},
      {"fragmented control frame", server_frame(ping, "x"), errc::protocol_error, 1002},
      {"control frame over 125 bytes", server_frame(fin | ping, std::string(126, 'p')), errc::protocol_error, 1002},
      {"16-bit length that fits in 7", server_frame(fin | text, "short", 2), errc::protocol_error, 1002},
      {"64-bit length that fits in 16", server_frame(fin | text, "short", 8), errc::protocol_error, 1002},
      {"invalid UTF-8", server_frame(fin | text, "\xff\xfe\xfd"), errc::protocol_error, 1007},
      {"invalid UTF-8 across fragments", server_frame(text, "ok") + server_frame(fin | continuation, "\xC3"),
       errc::protocol_error, 1007},
      {"message over the limit", server_frame(fin | text, std::string(65, 'x')), errc::message_too_big, 1009},
      {"fragments over the limit", server_frame(text, std::string(40, 'x')) + server_frame(fin | continuation, std::string(40, 'y')),
       errc::message_too_big, 1009},
      {"close with one byte", server_frame(fin | op_close, "\x03"), errc::protocol_error, 1002},
      {"close code 1005", close_frame(1005, ""), errc::protocol_error, 1002},
      {"close code 999", close_frame(999, ""), errc::protocol_error, 1002},
      {"close code 5000", close_frame(5000, ""), errc::protocol_error, 1002},
      {"close reason not UTF-8", close_frame(1000, "\xC3"), errc::protocol_error, 1007},
  };
  for (const auto& c : cases) {
    CAPTURE(c.why);
    ws::frame_reader reader(64);
    std::string_view rest = c.bytes;
    ws::frame_event ev;
    for (;;) {
      ev = reader.next(rest);
      if (ev.what != kind::fragment) break;
      rest.remove_prefix(ev.used);
    }
    REQUIRE(ev.what == kind::error);
    CHECK(ev.error == c.error);
    CHECK(ev.close_code == c.code);
  }
  // An oversize frame fails at its header, before its payload arrived.
  ws::frame_reader reader(64);
  const auto ev = reader.next(server_frame(fin | binary, std::string(100000, 'x')).substr(0, 10));
  CHECK(ev.what == kind::error);
  CHECK(ev.error == errc::message_too_big);
}

TEST_CASE("ws_frame: binary messages are not checked for UTF-8") {
  ws::frame_reader reader(1024);
  const std::string bytes = server_frame(fin | binary, std::string("\x00\xff\xfe", 3));
  const auto ev = reader.next(bytes);
  REQUIRE(ev.what == kind::message);
  CHECK_FALSE(ev.text);
  CHECK(ev.payload == std::string("\x00\xff\xfe", 3));
}

TEST_CASE("ws_frame: client frames are final, masked and carry every length encoding") {
  for (const std::size_t n : {0UL, 1UL, 7UL, 8UL, 9UL, 125UL, 126UL, 1000UL, 65535UL, 65536UL, 70001UL}) {
    CAPTURE(n);
    std::string payload;
    for (std::size_t i = 0; i < n; ++i) payload.push_back(static_cast<char>('a' + i % 26));
    std::string out = "prefix";
    ws::append_frame(out, ws::opcode::text, payload, 0xA1B2C3D4u);
    const auto f = read_client_frame(std::string_view(out).substr(6));
    CHECK(f.first_byte == (fin | text));
    CHECK(f.masked);
    CHECK(f.payload == payload);
    CHECK(f.size == out.size() - 6);
    if (n >= 8) CHECK(out.substr(out.size() - n) != payload);  // masked on the wire
  }
  std::string out;
  ws::append_frame(out, ws::opcode::pong, "ping data", 7);
  ws::append_frame(out, ws::opcode::close, ws::close_payload(1000, "bye"), 0);
  const auto pong_frame = read_client_frame(out);
  CHECK(pong_frame.first_byte == (fin | pong));
  CHECK(pong_frame.payload == "ping data");
  const auto close_f = read_client_frame(std::string_view(out).substr(pong_frame.size));
  CHECK(close_f.first_byte == (fin | op_close));
  CHECK(close_f.payload == std::string("\x03\xe8") + "bye");
}

TEST_CASE("ws_frame: a close reason is cut to fit a control frame, never inside a character") {
  CHECK(ws::close_payload(1001, "") == std::string("\x03\xe9", 2));
  const std::string long_reason = std::string(122, 'r') + "\xC3\xA9" + "tail";  // é straddles byte 123
  const auto payload = ws::close_payload(1000, long_reason);
  CHECK(payload.size() == 2 + 122);
  CHECK(ws::valid_utf8(payload.substr(2)));
  CHECK(ws::close_payload(1000, std::string(200, 'x')).size() == 125);
}

TEST_CASE("ws_frame: a server reads the client's masked frames, unmasked, and refuses unmasked ones") {
  std::string wire;
  ws::append_frame(wire, ws::opcode::text, R"({"envelope_id":"e1"})", 0x01020304u);
  ws::append_frame(wire, ws::opcode::ping, "are you there", 0xdeadbeefu);
  const std::string long_text(70001, 'z');
  ws::append_frame(wire, ws::opcode::text, long_text, 0x9u);
  ws::frame_reader reader(1 << 20, ws::role::server);
  std::string_view rest = wire;

  auto ev = reader.next(rest.substr(0, 5));  // header and part of the key
  CHECK(ev.what == kind::need_more);
  CHECK(ev.needed == 2 + 4 + 20);
  ev = take(reader, rest);
  REQUIRE(ev.what == kind::message);
  CHECK(ev.text);
  CHECK(ev.payload == R"({"envelope_id":"e1"})");
  ev = take(reader, rest);
  REQUIRE(ev.what == kind::ping);
  CHECK(ev.payload == "are you there");
  ev = take(reader, rest);
  REQUIRE(ev.what == kind::message);
  CHECK(ev.payload == long_text);
  CHECK(rest.empty());

  ws::frame_reader strict(1024, ws::role::server);
  const auto unmasked = strict.next(server_frame(fin | text, "hi"));
  CHECK(unmasked.what == kind::error);
  CHECK(unmasked.close_code == ws::close_protocol_error);
  ws::frame_reader client(1024);
  CHECK(client.next(wire).what == kind::error);  // and a client refuses masked ones
}

TEST_CASE("ws_frame: server frames are final and unmasked, read back by a client") {
  std::string wire;
  for (const std::size_t n : {0UL, 125UL, 126UL, 65535UL, 65536UL}) ws::append_frame(wire, ws::opcode::text, std::string(n, 'q'));
  ws::append_frame(wire, ws::opcode::close, ws::close_payload(1000, "done"));
  ws::frame_reader reader(1 << 20);
  std::string_view rest = wire;
  for (const std::size_t n : {0UL, 125UL, 126UL, 65535UL, 65536UL}) {
    CAPTURE(n);
    const auto ev = take(reader, rest);
    REQUIRE(ev.what == kind::message);
    CHECK(ev.payload == std::string(n, 'q'));
  }
  const auto closing = reader.next(rest);
  REQUIRE(closing.what == kind::close);
  CHECK(closing.close_code == 1000);
  CHECK(closing.payload == "done");
}

TEST_CASE("ws_frame: the accept key of RFC 6455's example handshake") {
  CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
