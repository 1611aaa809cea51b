#pragma once
// The schema migrations compiled into the binary (generated from storage/migrations/*.sql).
#include <span>

namespace kintsugi::storage::detail {

struct migration {
  int version;       // the schema version (PRAGMA user_version) after this migration: 1, 2, 3...
  const char* file;  // "001_initial.sql"
  const char* sql;   // one or more statements, run in one transaction
};

// In version order, without gaps (the generator checks).
std::span<const migration> migrations() noexcept;

}  // namespace kintsugi::storage::detail
