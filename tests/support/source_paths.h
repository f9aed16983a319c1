// Files in the source tree that tests read (tests/CMakeLists.txt defines CHIPCAST_SOURCE_DIR for every test).
#pragma once
#include <string>

namespace chipcast::testing {

inline const std::string kSourceDir = CHIPCAST_SOURCE_DIR;
// The smallest complete scenario; the tests' own scenarios extend it.
inline const std::string kMinimalToml = kSourceDir + "/tests/config/data/minimal.toml";
// The shared v2 scenario: every MODEL-v2.md section 1-5 key, most of them drawn.
inline const std::string kV2AllKeysToml = kSourceDir + "/tests/models/data/v2_all_keys.toml";

}  // namespace chipcast::testing
