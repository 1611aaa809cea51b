#include <net/url.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <charconv>

namespace kintsugi::net {
namespace {

std::uint16_t default_port(std::string_view scheme) {
  return (scheme == "https" || scheme == "wss") ? 443 : 80;
}

}  // namespace

std::string url_parts::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out = ipv6 ? "[" + host + "]" : host;
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string url_parts::origin() const { return scheme + "://" + host_header(); }

result<url_parts> parse_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    // parse_absolute_uri refuses fragments; accept them and drop the fragment.
    parsed = boost::urls::parse_uri(text);
    if (!parsed) return errc::bad_url;
  }
  const boost::urls::url_view& u = *parsed;
  url_parts out;
  out.scheme = u.scheme();
  for (char& c : out.scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (out.scheme != "http" && out.scheme != "https" && out.scheme != "ws" && out.scheme != "wss") {
    return errc::bad_url;
  }
  if (!u.has_authority() || u.has_userinfo()) return errc::bad_url;
  out.host = u.host_address();
  if (out.host.empty()) return errc::bad_url;
  if (u.has_port()) {
    const std::string_view digits = u.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) {
      return errc::bad_url;
    }
    out.port = static_cast<std::uint16_t>(value);
  } else {
    out.port = default_port(out.scheme);
  }
  out.target = u.encoded_path().empty() ? std::string("/") : std::string(u.encoded_path());
  if (u.has_query()) {
    out.target += '?';
    out.target += u.encoded_query();
  }
  return out;
}

result<std::string> join_url(std::string_view base, std::string_view method) {
  auto parsed_base = boost::urls::parse_uri(base);
  if (!parsed_base) return errc::bad_url;
  boost::urls::url base_url(*parsed_base);
  std::string path(base_url.encoded_path());
  if (path.empty() || path.back() != '/') base_url.set_encoded_path(path + "/");
  auto ref = boost::urls::parse_relative_ref(method);
  if (!ref) return errc::bad_url;
  boost::urls::url joined;
  if (!boost::urls::resolve(base_url, *ref, joined)) return errc::bad_url;
  return std::string(joined.buffer());
}

}  // namespace kintsugi::net
