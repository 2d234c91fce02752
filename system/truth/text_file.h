// A whole file as text, for the real boot's files (console, trace, modules) and recordings.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace viommu::system::truth {

// nullopt when the file cannot be opened.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

} // namespace viommu::system::truth
