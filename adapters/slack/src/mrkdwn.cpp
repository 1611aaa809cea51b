// Core Markdown -> Slack mrkdwn, and Slack's escaping of &, < and > in outgoing text.
#include <algorithm>
#include <string>
#include <string_view>

#include "slack/web_api_calls.hpp"

namespace kintsugi::slack {
namespace {

constexpr std::string_view fence = "```";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool link_target(std::string_view url) {
  if (!(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:"))) return false;
  for (char c : url) {
    if (is_space(c) || c == '|' || c == '<' || c == '>') return false;
  }
  return true;
}

// The inside of <…> that Slack reads as a mention, a special mention or a link.
bool control_sequence(std::string_view inner) {
  std::string_view target = inner.substr(0, inner.find('|'));
  if (target.size() < 2) return false;
  if (target[0] == '@' || target[0] == '#' || target[0] == '!') {
    for (char c : target.substr(1)) {
      if (is_space(c) || c == '&') return false;
    }
    return true;
  }
  return link_target(target);
}

std::string inline_markdown(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '`') {  // a code span is copied as it is
      auto close = line.find('`', i + 1);
      std::size_t stop = close == std::string_view::npos ? line.size() : close + 1;
      out.append(line.substr(i, stop - i));
      i = stop;
      continue;
    }
    if (line.substr(i).starts_with("**")) {
      auto close = line.find("**", i + 2);
      if (close != std::string_view::npos && close > i + 2) {
        std::string_view inner = line.substr(i + 2, close - i - 2);
        if (!is_space(inner.front()) && !is_space(inner.back()) && inner.find('`') == std::string_view::npos) {
          out.append("*").append(inline_markdown(inner)).append("*");
          i = close + 2;
          continue;
        }
      }
    }
    if (c == '[') {
      auto close_label = line.find(']', i + 1);
      if (close_label != std::string_view::npos && close_label + 1 < line.size() && line[close_label + 1] == '(') {
        auto close_url = line.find(')', close_label + 2);
        if (close_url != std::string_view::npos) {
          std::string_view label = line.substr(i + 1, close_label - i - 1);
          std::string_view url = line.substr(close_label + 2, close_url - close_label - 2);
          if (!label.empty() && label.find_first_of("<>") == std::string_view::npos && link_target(url)) {
            out.append("<").append(url).append("|").append(label).append(">");
            i = close_url + 1;
            continue;
          }
        }
      }
    }
    out += c;
    ++i;
  }
  return out;
}

// "# Heading" (one to six '#', then a space) -> the heading's text; empty when not a heading.
std::string_view heading_text(std::string_view line) {
  std::size_t hashes = 0;
  while (hashes < line.size() && line[hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6 || hashes >= line.size() || line[hashes] != ' ') return {};
  std::string_view text = line.substr(hashes + 1);
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  // An optional closing sequence: "## Title ##".
  if (auto last = text.find_last_not_of('#'); last != std::string_view::npos && last + 1 < text.size() &&
                                               text[last] == ' ') {
    text = text.substr(0, last);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  }
  return text;
}

std::string convert_markdown(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_fence = false;
  std::size_t start = 0;
  while (true) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    std::string_view trimmed = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (trimmed.starts_with(fence)) {
      in_fence = !in_fence;
      out.append(line);
    } else if (in_fence) {
      out.append(line);
    } else if (auto heading = heading_text(line); !heading.empty()) {
      std::string plain;
      for (std::size_t i = 0; i < heading.size(); ++i) {  // bold inside a heading is bold already
        if (heading.substr(i).starts_with("**")) ++i;
        else plain += heading[i];
      }
      out.append("*").append(inline_markdown(plain)).append("*");
    } else {
      out.append(inline_markdown(line));
    }
    if (end == text.size()) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      auto end = text.find_first_of("<>\n", i + 1);
      if (end != std::string_view::npos && text[end] == '>' && control_sequence(text.substr(i + 1, end - i - 1))) {
        out += '<';
        for (char inner : text.substr(i + 1, end - i - 1)) {
          if (inner == '&') out.append("&amp;");
          else out += inner;
        }
        out += '>';
        i = end;
        continue;
      }
      out.append("&lt;");
    } else if (c == '>') {
      out.append("&gt;");
    } else if (c == '&') {
      out.append("&amp;");
    } else {
      out += c;
    }
  }
  return out;
}

std::string to_mrkdwn(std::string_view markdown) { return escape_text(convert_markdown(markdown)); }

}  // namespace kintsugi::slack
