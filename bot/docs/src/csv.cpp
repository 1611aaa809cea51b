// The timeline as RFC 4180 CSV: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled.
#include <string>
#include <string_view>

#include "docs/exports.hpp"

namespace kintsugi::docs {
namespace {

void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string_view flag(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string timeline_csv(const core::incident_record& r) {
  std::string out;
  std::size_t size = 64;
  for (const auto& e : r.entries) size += e.text.size() + e.author.size() + 64;
  out.reserve(size);
  out.append("at,author,kind,text,edited,deleted,key\r\n");
  for (const auto& e : r.entries) {
    append_field(out, core::format_iso(e.at));
    out.push_back(',');
    append_field(out, e.author);
    out.push_back(',');
    append_field(out, core::name(e.kind));
    out.push_back(',');
    append_field(out, e.text);
    out.append(",").append(flag(e.edited)).append(",").append(flag(e.deleted)).append(",").append(flag(e.key));
    out.append("\r\n");
  }
  return out;
}

}  // namespace kintsugi::docs
