// The Mattermost codec: REST v4 responses (users, post listings, channels, errors, rate-limit headers).
#include <algorithm>
#include <map>
#include <charconv>
#include <exception>

#include "codec_detail.hpp"
#include "mattermost/codec.hpp"

namespace kintsugi::mattermost {

using detail::json;
using detail::member;
using detail::obj;
using detail::str;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::int64_t> header_number(std::string_view header) {
  header = trim(header);
  if (header.empty() || header.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  const char* end = header.data() + header.size();
  auto [ptr, ec] = std::from_chars(header.data(), end, v);
  if (ec != std::errc{} || ptr != end || v < 0) return std::nullopt;
  return v;
}

struct sortable_post {
  json post;
  std::string id;
  std::int64_t create_at = 0;
  std::size_t rank = 0;  // its place in the server's `order` counted from the oldest (0: not listed there)
};

post_list parse_post_list_unchecked(std::string_view json_text, const context& ctx) {
  post_list out;
  json j = detail::parse(json_text);
  if (j.is_discarded() || !j.is_object()) {
    out.error = j.is_discarded() ? "not JSON" : "not a JSON object";
    return out;
  }
  const json* posts = member(j, "posts");
  const json* order = member(j, "order");
  const bool posts_ok = posts != nullptr && (posts->is_object() || posts->is_null());
  const bool order_ok = order != nullptr && (order->is_array() || order->is_null());
  if (!posts_ok && !order_ok) {
    out.error = "not a PostList (no posts, no order)";
    return out;
  }
  out.order = detail::string_list(j, "order");
  out.next_post_id = str(j, "next_post_id");
  out.prev_post_id = str(j, "prev_post_id");
  out.has_next = detail::truthy(j, "has_next");
  if (posts == nullptr || !posts->is_object()) return out;

  // Posts of the same millisecond keep the server's order (`order` lists the newest first), else their ids'.
  std::map<std::string, std::size_t> after;
  for (std::size_t k = 0; k < out.order.size(); ++k) after.emplace(out.order[k], out.order.size() - k);
  std::vector<sortable_post> list;
  for (const auto& [key, value] : posts->items()) {
    if (!value.is_object()) {
      ++out.skipped;
      continue;
    }
    sortable_post p{value, str(value, "id"), detail::integer(value, "create_at")};
    if (p.id.empty()) {
      p.id = key;
      p.post["id"] = key;
    }
    if (p.id.empty() || str(value, "channel_id").empty() || !from_millis(p.create_at)) {
      ++out.skipped;
      continue;
    }
    if (auto it = after.find(p.id); it != after.end()) p.rank = it->second;
    list.push_back(std::move(p));
  }
  std::sort(list.begin(), list.end(), [](const sortable_post& a, const sortable_post& b) {
    if (a.create_at != b.create_at) return a.create_at < b.create_at;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.id < b.id;
  });

  static const json no_data = json::object();
  for (const auto& p : list) {
    listed_post lp;
    lp.id = p.id;
    lp.root_id = str(p.post, "root_id");
    lp.create_at = p.create_at;
    lp.update_at = detail::integer(p.post, "update_at");
    lp.dedupe_key = post_key(lp.id, lp.update_at);
    out.latest_update_at = std::max(out.latest_update_at, lp.update_at);

    if (auto e = detail::post_event(p.post, no_data, ctx, {}, std::nullopt)) out.events.push_back(std::move(*e));
    const bool system = str(p.post, "type").starts_with("system_");
    if (auto at = from_millis(detail::integer(p.post, "edit_at")); at && !system) {
      out.events.emplace_back(core::message_edited{to_core(lp.id), detail::post_text(p.post, no_data), *at});
    }
    if (auto at = from_millis(detail::integer(p.post, "delete_at")); at && !system) {
      out.events.emplace_back(core::message_deleted{to_core(lp.id), *at});
    }
    out.posts.push_back(std::move(lp));
  }
  return out;
}

}  // namespace

user_info parse_user(std::string_view json_text) {
  try {
    json j = detail::parse(json_text);
    if (j.is_discarded() || !j.is_object()) {
      user_info out;
      out.error = j.is_discarded() ? "not JSON" : "not a JSON object";
      return out;
    }
    return detail::user_of(j);
  } catch (const std::exception& e) {  // allocation failure
    user_info out;
    out.error = e.what();
    return out;
  }
}

post_list parse_post_list(std::string_view json_text, const context& ctx) {
  try {
    return parse_post_list_unchecked(json_text, ctx);
  } catch (const std::exception& e) {  // allocation failure
    post_list out;
    out.error = e.what();
    return out;
  }
}

channel_info parse_channel(std::string_view json_text) {
  channel_info out;
  try {
    json j = detail::parse(json_text);
    if (j.is_discarded() || !j.is_object()) {
      out.error = j.is_discarded() ? "not JSON" : "not a JSON object";
      return out;
    }
    out.id = str(j, "id");
    if (out.id.empty()) {
      out.error = "channel has no id";
      return out;
    }
    out.name = str(j, "name");
    out.display_name = str(j, "display_name");
    out.type = str(j, "type");
    out.team_id = str(j, "team_id");
    out.header = str(j, "header");
  } catch (const std::exception& e) {  // allocation failure
    out = channel_info{};
    out.error = e.what();
  }
  return out;
}

api_error parse_error(int http_status, std::string_view body) {
  api_error out;
  out.http_status = http_status;
  try {
    std::string_view text = trim(body);
    json j = detail::parse(text);
    if (!j.is_discarded() && j.is_object()) {
      out.id = str(j, "id");
      out.message = str(j, "message");
      out.request_id = str(j, "request_id");
      if (out.http_status == 0) {
        auto code = detail::integer(j, "status_code");
        if (code > 0 && code < 1000) out.http_status = static_cast<int>(code);
      }
    } else {
      std::size_t cut = std::min<std::size_t>(text.size(), 200);
      while (cut > 0 && cut < text.size() && detail::is_continuation(text[cut])) --cut;  // not inside a character
      out.message = std::string(text.substr(0, cut));
    }
  } catch (const std::exception& e) {  // allocation failure
    out.message = e.what();
  }
  const int s = out.http_status;
  out.rate_limited = s == 429;
  out.retryable = s == 429 || s >= 500;
  out.auth_failed = s == 401;
  return out;
}

std::optional<std::chrono::seconds> rate_limit_wait(std::string_view limit, std::string_view remaining,
                                                    std::string_view reset) {
  if (!header_number(limit)) return std::nullopt;
  auto left = header_number(remaining);
  if (!left || *left > 0) return std::nullopt;
  auto seconds = header_number(reset).value_or(1);
  return std::chrono::seconds{std::clamp<std::int64_t>(seconds, 1, 3600)};
}

}  // namespace kintsugi::mattermost
