#pragma once
// The outbox's wire form of a core::action: a JSON object with a "type" (the struct's name) and the
// struct's fields, e.g. {"type":"post_message","channel":"C1","text":"hi"}. Buttons, when a message has any, are
// "buttons":[{"label":…,"command":…,"style":…}] ("style" only when set); without any the field is left out.
#include <string>
#include <string_view>

#include "core/events.hpp"

namespace kintsugi::storage::detail {

std::string action_to_json(const core::action& a);
// Throws core::store_error for anything that is not a well-formed action (bad JSON, unknown type,
// missing or mistyped field).
core::action action_from_json(std::string_view text);

}  // namespace kintsugi::storage::detail
