# CHIPCAST_BUILD_FUZZERS: instruments every target of this build for libFuzzer (coverage, ASan, UBSan),
# so the host libraries the harnesses in tests/fuzz link are fuzzed with their internals visible.
# Included before the targets are defined: add_compile_options applies to the targets created after it.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "CHIPCAST_BUILD_FUZZERS needs clang++ (libFuzzer ships with clang): "
                      "configure with -DCMAKE_CXX_COMPILER=clang++-15 (the `fuzz` preset does; Debian 12 has libomp for clang 15 only)")
endif()
# -fno-sanitize-recover: undefined behaviour aborts, so libFuzzer reports it as a crash with the input.
set(CHIPCAST_FUZZ_SANITIZE address,undefined)
set(CHIPCAST_FUZZ_IGNORELIST ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/ignorelist.txt)
add_compile_options(-fsanitize=fuzzer-no-link,${CHIPCAST_FUZZ_SANITIZE} -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -fsanitize-coverage-ignorelist=${CHIPCAST_FUZZ_IGNORELIST})
add_link_options(-fsanitize=${CHIPCAST_FUZZ_SANITIZE})
# Debian's toml++ is a shared library, built without instrumentation: its parser, where hostile text
# first meets code, would be invisible to the fuzzer's coverage and to ASan. The fuzz build compiles
# the same toml++ sources header-only into the host library instead (the unused .so stays linked).
set_target_properties(tomlplusplus::tomlplusplus PROPERTIES INTERFACE_COMPILE_OPTIONS "-DTOML_HEADER_ONLY=1")
