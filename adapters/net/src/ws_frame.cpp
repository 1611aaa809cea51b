#include <net/ws_frame.hpp>

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace kintsugi::net::ws {

namespace {

std::uint8_t byte_at(std::string_view bytes, std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); }

std::uint64_t big_endian(std::string_view bytes, std::size_t from, std::size_t count) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < count; ++i) value = (value << 8) | byte_at(bytes, from + i);
  return value;
}

bool is_control(std::uint8_t op) { return (op & 0x8) != 0; }

// XORs `n` bytes at `p` with the 4-byte `key`, eight bytes at a time: the key repeats every four, so a doubled key
// lines up with every word.
void apply_mask(char* p, std::size_t n, const char key[4]) {
  char doubled[8];
  std::memcpy(doubled, key, 4);
  std::memcpy(doubled + 4, key, 4);
  std::uint64_t wide;
  std::memcpy(&wide, doubled, 8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    word ^= wide;
    std::memcpy(p + i, &word, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i % 4]);
}

// The header of a final frame: opcode, then the length in its shortest form, with the mask bit if `masked`.
void append_header(std::string& out, opcode op, std::size_t n, bool masked) {
  const auto mask_bit = static_cast<std::uint8_t>(masked ? 0x80 : 0);
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
}

}  // namespace

bool valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

bool valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

frame_event frame_reader::fail(errc e, std::uint16_t code) {
  in_message_ = false;
  partial_.clear();
  frame_event ev;
  ev.what = frame_event::kind::error;
  ev.error = e;
  ev.close_code = code;
  return ev;
}

frame_event frame_reader::next(std::string_view bytes) {
  using kind = frame_event::kind;
  frame_event ev;
  if (bytes.size() < 2) {
    ev.needed = 2;
    return ev;
  }
  const std::uint8_t b0 = byte_at(bytes, 0);
  const std::uint8_t b1 = byte_at(bytes, 1);
  const bool fin = (b0 & 0x80) != 0;
  const std::uint8_t op = b0 & 0x0F;
  if ((b0 & 0x70) != 0) return fail(errc::protocol_error, close_protocol_error);  // no extension was negotiated
  if (((b1 & 0x80) != 0) != server_) return fail(errc::protocol_error, close_protocol_error);  // only clients mask

  std::uint64_t length = b1 & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    header = 4;
    if (bytes.size() < header) {
      ev.needed = header;
      return ev;
    }
    length = big_endian(bytes, 2, 2);
    if (length < 126) return fail(errc::protocol_error, close_protocol_error);  // not the shortest form
  } else if (length == 127) {
    header = 10;
    if (bytes.size() < header) {
      ev.needed = header;
      return ev;
    }
    length = big_endian(bytes, 2, 8);
    if ((length >> 63) != 0 || length <= 0xFFFF) return fail(errc::protocol_error, close_protocol_error);
  }

  switch (static_cast<opcode>(op)) {
    case opcode::continuation:
      if (!in_message_) return fail(errc::protocol_error, close_protocol_error);
      break;
    case opcode::text:
    case opcode::binary:
      if (in_message_) return fail(errc::protocol_error, close_protocol_error);
      break;
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      if (!fin || length > 125) return fail(errc::protocol_error, close_protocol_error);
      break;
    default:
      return fail(errc::protocol_error, close_protocol_error);
  }
  if (!is_control(op)) {
    const std::uint64_t so_far = in_message_ ? partial_.size() : 0;
    if (length > max_message_ || so_far + length > max_message_) return fail(errc::message_too_big, close_too_big);
  }
  const std::size_t key_at = header;
  if (server_) header += 4;
  if (bytes.size() < header || bytes.size() - header < length) {
    ev.needed = header + static_cast<std::size_t>(length);
    return ev;
  }
  std::string_view payload = bytes.substr(header, static_cast<std::size_t>(length));
  ev.used = header + payload.size();
  if (server_) {
    unmasked_.assign(payload);
    apply_mask(unmasked_.data(), unmasked_.size(), bytes.data() + key_at);
    payload = unmasked_;
  }

  switch (static_cast<opcode>(op)) {
    case opcode::ping:
      ev.what = kind::ping;
      ev.payload = payload;
      return ev;
    case opcode::pong:
      ev.what = kind::pong;
      ev.payload = payload;
      return ev;
    case opcode::close: {
      ev.what = kind::close;
      if (payload.empty()) {
        ev.close_code = close_no_status;
        return ev;
      }
      if (payload.size() == 1) return fail(errc::protocol_error, close_protocol_error);
      ev.close_code = static_cast<std::uint16_t>(big_endian(payload, 0, 2));
      if (!valid_close_code(ev.close_code)) return fail(errc::protocol_error, close_protocol_error);
      ev.payload = payload.substr(2);
      if (!valid_utf8(ev.payload)) return fail(errc::protocol_error, close_invalid_payload);
      return ev;
    }
    default:
      break;
  }

  if (fin && !in_message_) {  // a whole message in one frame: the common case, no copy
    ev.text = op == static_cast<std::uint8_t>(opcode::text);
    if (ev.text && !valid_utf8(payload)) return fail(errc::protocol_error, close_invalid_payload);
    ev.what = kind::message;
    ev.payload = payload;
    return ev;
  }
  if (!in_message_) {
    in_message_ = true;
    partial_text_ = op == static_cast<std::uint8_t>(opcode::text);
    partial_.clear();
  }
  partial_.append(payload);
  if (!fin) {
    ev.what = kind::fragment;
    return ev;
  }
  in_message_ = false;
  ev.text = partial_text_;
  if (ev.text && !valid_utf8(partial_)) return fail(errc::protocol_error, close_invalid_payload);
  ev.what = kind::message;
  ev.payload = partial_;
  return ev;
}

void append_frame(std::string& out, opcode op, std::string_view payload, std::uint32_t mask) {
  append_header(out, op, payload.size(), true);
  char key[4];
  std::memcpy(key, &mask, 4);
  out.append(key, 4);
  const std::size_t start = out.size();
  out.append(payload);
  apply_mask(out.data() + start, payload.size(), key);
}

void append_frame(std::string& out, opcode op, std::string_view payload) {
  append_header(out, op, payload.size(), false);
  out.append(payload);
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string accept_key(std::string_view client_key) {
  std::string input{client_key};
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr);
  return base64(digest, size);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  // Never cut a character in two: back up over continuation bytes.
  if (keep < reason.size()) {
    while (keep > 0 && (byte_at(reason, keep) & 0xC0) == 0x80) --keep;
  }
  out.append(reason.substr(0, keep));
  return out;
}

}  // namespace kintsugi::net::ws
