#pragma once
// The usual visitor helper: overloaded{[](const a&) {...}, [](const b&) {...}} for std::visit.

namespace kintsugi::core {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace kintsugi::core
