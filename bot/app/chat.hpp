#pragma once
#include <memory>

#include "config/config.hpp"
#include "core/engine.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::app {

// Runs the configured chat adapters until SIGINT/SIGTERM or a fatal error; returns the exit code.
int run_chat(const config::config& cfg, const core::engine_options& options, std::shared_ptr<spdlog::logger> log);

}  // namespace kintsugi::app
