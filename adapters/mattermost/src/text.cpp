// Text between the core and Mattermost: core Markdown and mentions out, @usernames in.
#include "mattermost/text.hpp"

#include <algorithm>
#include <array>

#include "mattermost/codec.hpp"
#include "mattermost/outbound.hpp"

namespace kintsugi::mattermost {
namespace {

constexpr std::string_view fence = "```";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_name_char(char c) { return is_word(c) || c == '.' || c == '_' || c == '-'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool fence_line(std::string_view line) {
  auto first = line.find_first_not_of(' ');
  return first != std::string_view::npos && line.substr(first).starts_with(fence);
}

// ---- core -> Mattermost ----

bool link_target(std::string_view url) {
  if (!(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:"))) return false;
  return std::none_of(url.begin(), url.end(), [](char c) { return is_space(c) || c == '|' || c == '<' || c == '>'; });
}

std::string without_sigil(std::string name, char sigil) {
  if (!name.empty() && name.front() == sigil) name.erase(0, 1);
  return name;
}

class converter {
 public:
  converter(const name_lookup& users, const name_lookup& channels) : users_(users), channels_(channels) {}

  std::string convert(std::string_view text) const {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    bool in_fence = false;
    std::size_t start = 0;
    while (true) {
      auto end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (fence_line(line)) {
        in_fence = !in_fence;
        out.append(line);
      } else if (in_fence) {
        out.append(line);
      } else {
        inline_text(line, out);
      }
      if (end == text.size()) break;
      out += '\n';
      start = end + 1;
    }
    return out;
  }

 private:
  // The <…> at line[i], converted into `out`; false when it is not one of the forms the core writes.
  bool angle(std::string_view line, std::size_t& i, std::string& out) const {
    auto close = line.find('>', i + 1);
    if (close == std::string_view::npos) return false;
    std::string_view inner = line.substr(i + 1, close - i - 1);
    if (inner.empty() || inner.find('<') != std::string_view::npos) return false;
    const auto bar = inner.find('|');
    std::string_view target = inner.substr(0, bar);
    std::string_view label = bar == std::string_view::npos ? std::string_view{} : inner.substr(bar + 1);
    const char kind = inner.front();
    if (kind == '@' || kind == '#') {
      std::string_view id = target.substr(1);
      if (id.empty() || id.find_first_of(" \t") != std::string_view::npos) return false;
      if (kind == '@') out += user(id, label);
      else out += channel(id, label);
    } else if (kind == '!') {
      if (target == "!here") out += "@here";
      else if (target == "!channel") out += "@channel";
      else if (target == "!everyone") out += "@all";
      else return false;
    } else if (link_target(target)) {
      if (label.empty()) {
        out.append(target);
      } else {
        out += '[';
        for (char c : label) {
          if (c == '[' || c == ']') out += '\\';
          out += c;
        }
        out.append("](").append(target).append(")");
      }
    } else {
      return false;
    }
    i = close + 1;
    return true;
  }

  std::string user(std::string_view id, std::string_view label) const {
    std::string name = users_ ? without_sigil(users_(id), '@') : std::string{};
    if (!name.empty()) return "@" + name;
    if (!label.empty()) return "@" + std::string(label);
    auto raw = from_core(id);
    return "@" + (raw ? *raw : std::string(id));
  }

  std::string channel(std::string_view id, std::string_view label) const {
    std::string name = channels_ ? without_sigil(channels_(id), '~') : std::string{};
    if (!name.empty()) return "~" + name;
    if (!label.empty()) return "~" + std::string(label);
    // A channel the core named before it was created: the adapter creates it under channel_name_for(that name).
    if (auto raw = from_core(id); raw && !is_object_id(*raw)) return "~" + channel_name_for(*raw);
    return "the incident channel";
  }

  // Slack's single *bold* / ~strike~ at line[i] (== marker): the index of the closing marker, or npos.
  static std::size_t single_marker_close(std::string_view line, std::size_t i, char marker) {
    const bool opens = (i == 0 || (!is_word(line[i - 1]) && line[i - 1] != marker)) && i + 1 < line.size() &&
                       !is_space(line[i + 1]) && line[i + 1] != marker;
    if (!opens) return std::string_view::npos;
    for (auto k = line.find(marker, i + 2); k != std::string_view::npos; k = line.find(marker, k + 1)) {
      if (k + 1 < line.size() && line[k + 1] == marker) {  // a double marker is not the end of a single one
        ++k;
        continue;
      }
      if (is_space(line[k - 1]) || line[k - 1] == marker) continue;
      if (k + 1 < line.size() && is_word(line[k + 1])) continue;
      return k;
    }
    return std::string_view::npos;
  }

  void inline_text(std::string_view line, std::string& out) const {
    std::size_t i = 0;
    while (i < line.size()) {
      const char c = line[i];
      if (c == '`') {  // a code span is copied as it is
        auto close = line.find('`', i + 1);
        std::size_t stop = close == std::string_view::npos ? i + 1 : close + 1;
        out.append(line.substr(i, stop - i));
        i = stop;
        continue;
      }
      if (c == '<' && angle(line, i, out)) continue;
      if (c == '*' || c == '~') {
        if (i + 1 < line.size() && line[i + 1] == c) {  // CommonMark's **bold** / ~~strike~~ already
          out.append(2, c);
          i += 2;
          continue;
        }
        if (auto close = single_marker_close(line, i, c); close != std::string_view::npos) {
          out.append(2, c);
          inline_text(line.substr(i + 1, close - i - 1), out);
          out.append(2, c);
          i = close + 1;
          continue;
        }
      }
      out += c;
      ++i;
    }
  }

  const name_lookup& users_;
  const name_lookup& channels_;
};

// ---- Mattermost -> core ----

constexpr std::array<std::string_view, 4> group_mentions = {"channel", "here", "all", "everyone"};

struct username_at {
  std::size_t at = 0;      // the '@'
  std::size_t length = 0;  // '@' and the name as written (without a trailing '.')
  std::string name;        // lowercased
};

// Calls each(username_at) for every @username outside code, in order.
template <class F>
void scan_usernames(std::string_view text, F&& each) {
  bool in_fence = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (fence_line(line)) {
      in_fence = !in_fence;
    } else if (!in_fence) {
      std::size_t i = 0;
      while (i < line.size()) {
        if (line[i] == '`') {
          auto close = line.find('`', i + 1);
          i = close == std::string_view::npos ? i + 1 : close + 1;
          continue;
        }
        if (line[i] != '@') {
          ++i;
          continue;
        }
        std::size_t j = i + 1;
        while (j < line.size() && is_name_char(line[j])) ++j;
        const bool after_name = i > 0 && (is_name_char(line[i - 1]) || line[i - 1] == '@');  // an e-mail address
        const bool before_at = j < line.size() && line[j] == '@';
        std::string_view raw = line.substr(i + 1, j - i - 1);
        while (!raw.empty() && raw.back() == '.') raw.remove_suffix(1);
        const bool shaped = raw.size() >= 3 && raw.size() <= 22 &&
                            ((raw.front() >= 'a' && raw.front() <= 'z') || (raw.front() >= 'A' && raw.front() <= 'Z'));
        if (!after_name && !before_at && shaped) {
          std::string name;
          name.reserve(raw.size());
          for (char c : raw) name += lower(c);
          if (std::find(group_mentions.begin(), group_mentions.end(), name) == group_mentions.end()) {
            each(username_at{start + i, raw.size() + 1, std::move(name)});
          }
        }
        i = std::max(j, i + 1);
      }
    }
    if (end == text.size()) break;
    start = end + 1;
  }
}

}  // namespace

std::string to_mattermost_text(std::string_view core_text, const name_lookup& lookup_user,
                               const name_lookup& lookup_channel) {
  return converter(lookup_user, lookup_channel).convert(core_text);
}

std::vector<std::string> find_usernames(std::string_view text) {
  std::vector<std::string> names;
  scan_usernames(text, [&names](username_at u) {
    if (std::find(names.begin(), names.end(), u.name) == names.end()) names.push_back(std::move(u.name));
  });
  return names;
}

std::string replace_usernames(std::string_view text, const std::map<std::string, std::string>& user_ids) {
  std::map<std::string, std::string, std::less<>> ids;
  for (const auto& [name, id] : user_ids) {
    std::string key;
    for (char c : name) key += lower(c);
    if (!key.empty() && key.front() == '@') key.erase(0, 1);
    if (!key.empty() && !id.empty()) ids.emplace(std::move(key), id);
  }
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  scan_usernames(text, [&](const username_at& u) {
    auto it = ids.find(u.name);
    if (it == ids.end()) return;
    out.append(text.substr(copied, u.at - copied));
    out.append("<@").append(to_core(it->second)).append(">");
    copied = u.at + u.length;
  });
  out.append(text.substr(copied));
  return out;
}

}  // namespace kintsugi::mattermost
