// The postmortem as a small self-contained HTML page. The Markdown is rendered by cmark-gfm in its safe
// mode (raw HTML in user text is omitted, dangerous link schemes dropped), so user text is escaped by a
// parser, not by hand. Only the page title is escaped here.
#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/postmortem.hpp"
#include "docs/exports.hpp"

namespace kintsugi::docs {
namespace {

constexpr std::string_view style = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1f2328;
       max-width: 58rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
del { color: #6e7781; }
blockquote { color: #57606a; border-left: 3px solid #d0d7de; margin-left: 0; padding-left: 1rem; }
)css";

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '"': out.append("&quot;"); break;
      case '\n':
      case '\r': out.push_back(' '); break;
      default: out.push_back(c);
    }
  }
}

struct parser_deleter {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct node_deleter {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct html_deleter {
  void operator()(char* s) const { cmark_get_default_mem_allocator()->free(s); }
};

std::string markdown_to_html(std::string_view markdown) {
  cmark_gfm_core_extensions_ensure_registered();
  std::unique_ptr<cmark_parser, parser_deleter> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  if (!parser) return {};
  for (const char* ext : {"table", "strikethrough", "autolink"}) {
    if (cmark_syntax_extension* e = cmark_find_syntax_extension(ext)) cmark_parser_attach_syntax_extension(parser.get(), e);
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, node_deleter> doc(cmark_parser_finish(parser.get()));
  if (!doc) return {};
  std::unique_ptr<char, html_deleter> html(
      cmark_render_html(doc.get(), CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser.get())));
  return html ? std::string(html.get()) : std::string();
}

}  // namespace

std::string postmortem_html(const core::incident_record& r) {
  const std::string body = markdown_to_html(core::render_postmortem_markdown(r));
  std::string out;
  out.reserve(body.size() + 2048);
  out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  append_escaped(out, r.inc.key());
  out.append(": ");
  append_escaped(out, r.inc.title);
  out.append(" — postmortem</title>\n<style>").append(style).append("</style>\n</head>\n<body>\n");
  out.append(body);
  out.append("</body>\n</html>\n");
  return out;
}

}  // namespace kintsugi::docs
