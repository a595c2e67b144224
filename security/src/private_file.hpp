#pragma once
// Files that hold secrets: read only when no one but the owner can read them,
// written with mode 0600 and never over an existing file.

#include <grav/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace grav::security::detail {

// `what` names the file in errors ("key file", "cluster secret file").
Result<std::string> read_private_file(const std::filesystem::path& path, std::string_view what);
Status write_private_file(const std::filesystem::path& path, std::string_view content, std::string_view what);

}  // namespace grav::security::detail
