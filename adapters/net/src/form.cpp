#include "net/form.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include <exception>

namespace kintsugi::net {

std::optional<std::vector<form_field>> decode_form(std::string_view body) {
  try {
    auto params = boost::urls::parse_query(boost::urls::string_view(body.data(), body.size()));
    if (!params) return std::nullopt;
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    std::vector<form_field> out;
    for (auto p : *params) {
      if (p.key.empty() && !p.has_value) continue;  // "" or a stray '&'
      form_field f;
      f.name = p.key.decode(opts);
      if (p.has_value) f.value = p.value.decode(opts);
      out.push_back(std::move(f));
    }
    return out;
  } catch (const std::exception&) {  // allocation failure
    return std::nullopt;
  }
}

}  // namespace kintsugi::net
