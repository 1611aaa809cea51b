#pragma once
// RFC 6455 framing: reading frames out of the bytes received and writing frames, for either side. The client side
// (ws_client, over TCP or TLS) reads the server's unmasked frames and writes masked ones; the server side (the
// benchmark's Slack) the other way round. No I/O here, so every rule of the RFC is unit-tested without a socket.
//
// Why kintsugi frames its own websocket instead of using Beast's stream (Beast still writes and reads the upgrade):
// Beast reads one message per asynchronous operation and completes each through the io_context's queue, and writes
// one frame per operation. Under Slack's load that machinery cost more instructions per envelope than parsing its
// JSON. Here one read of the socket yields every message it holds, and the writer frames everything queued into one
// write.
#include <net/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kintsugi::net::ws {

enum class opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// Close codes (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000;
inline constexpr std::uint16_t close_protocol_error = 1002;
inline constexpr std::uint16_t close_no_status = 1005;  // received without a code; never sent
inline constexpr std::uint16_t close_invalid_payload = 1007;
inline constexpr std::uint16_t close_too_big = 1009;

// One thing found at the front of the received bytes.
struct frame_event {
  enum class kind {
    need_more,  // no complete frame yet: read at least `needed` bytes in all (bytes held included)
    message,    // a whole text or binary message in `payload`
    fragment,   // a part of a fragmented message, kept by the reader: drop `used` bytes and call again
    ping,       // `payload`: answer with a pong carrying it
    pong,
    close,      // the peer's close frame: `close_code` (close_no_status if it had none) and `payload` (its reason)
    error,      // the peer broke the protocol: `error`, and the code to close with in `close_code`
  };
  kind what = kind::need_more;
  bool text = false;
  // Into the bytes given, or into the reader's own buffer for a fragmented message: valid until the next call and
  // as long as those bytes are.
  std::string_view payload;
  std::uint16_t close_code = 0;
  errc error{};
  std::size_t used = 0;    // bytes of the input this event took (0 for need_more and error)
  std::size_t needed = 0;  // need_more: the input's size that completes the frame (at least the next header)
};

// Which end of the connection reads: a client reads the server's frames, which must not be masked; a server reads
// the client's, which must be (RFC 6455 §5.1).
enum class role { client, server };

// The peer's side of a connection, frame by frame. No extension is negotiated, so a reserved bit is an error; text
// (whole messages, close reasons) must be UTF-8. A server's reader unmasks into a buffer of its own.
class frame_reader {
 public:
  explicit frame_reader(std::size_t max_message, role reader = role::client)
      : max_message_(max_message), server_(reader == role::server) {}

  // The next event from the front of `bytes`. A caller drops `used` bytes once it is done with the payload.
  frame_event next(std::string_view bytes);

 private:
  frame_event fail(errc e, std::uint16_t code);
  std::size_t max_message_;
  bool server_;
  bool in_message_ = false;  // a fragmented message has begun
  bool partial_text_ = false;
  std::string partial_;  // its payload so far
  std::string unmasked_;  // a server's reader: the last frame's payload, unmasked
};

// Appends a client frame (final, masked with `mask`) carrying `payload`.
void append_frame(std::string& out, opcode op, std::string_view payload, std::uint32_t mask);

// Appends a server frame (final, unmasked) carrying `payload`.
void append_frame(std::string& out, opcode op, std::string_view payload);

// What a server answers in Sec-WebSocket-Accept to the client's Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string accept_key(std::string_view client_key);

// `size` bytes of standard base64.
std::string base64(const unsigned char* data, std::size_t size);

// The payload of a close frame: the code, then the reason cut to fit 125 bytes (at a UTF-8 boundary).
std::string close_payload(std::uint16_t code, std::string_view reason);

// Whether a received close code may be sent by a peer (RFC 6455 §7.4, IANA registry, 3000-4999).
bool valid_close_code(std::uint16_t code);

bool valid_utf8(std::string_view text);

}  // namespace kintsugi::net::ws
