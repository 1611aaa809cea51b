#include "temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace kintsugi::test {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "kintsugi-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kintsugi::test
