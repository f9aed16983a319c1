// Replacing a file so that readers see the old or the complete new content, never a part (outputs, checkpoints).
#pragma once
#include <filesystem>
#include <string>

namespace chipcast {

// Writes `content` to a temporary file in path's folder, flushes and fsyncs
// it, renames it onto `path` and fsyncs the folder, so readers see either the
// old file or the complete new one. The temporary file is removed on failure.
// Throws std::runtime_error naming the path.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace chipcast
