// libFuzzer harness for the checkpoint reader: each input is a chipcast.ckpt file, read as is and resealed.
//
// A mutated file almost never keeps a valid SHA-256 trailer, so reading it as is only exercises the
// header and digest checks. Each input is therefore read twice: as is, and "resealed" (its header's
// payload size and its trailing digest recomputed), which takes the mutations through the payload
// decoder too. CheckpointError is the expected outcome; any other exception is a finding, as are
// crashes, sanitizer reports, leaks and timeouts. A checkpoint that decodes must survive
// encode -> decode unchanged.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <typeinfo>

#include "host/run/checkpoint.h"

namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderBytes = 24;  // "CHIPCKPT", u32 version, u32 flags, u64 payload bytes
constexpr size_t kDigestBytes = 32;  // SHA-256 of header + payload

fs::path g_dir;  // the --checkpoint folder each input is written into
// The reader's tally limit here (its default is half the machine's memory): large enough for every
// seed (1.7 MB), small enough that no input spends its time filling a large tally with zeros.
constexpr uint64_t kMaxTallyBytes = uint64_t{16} << 20;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_checkpoint: %s\n", what);
  std::abort();
}

// The same bytes with the payload size and the digest made to fit their length.
std::string reseal(std::string bytes) {
  const uint64_t payload = bytes.size() - kHeaderBytes - kDigestBytes;
  for (int i = 0; i < 8; ++i) bytes[16 + i] = static_cast<char>(payload >> (8 * i));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), kHeaderBytes + payload, md, &len, EVP_sha256(), nullptr) != 1 || len != kDigestBytes)
    finding("SHA-256 failed");
  std::memcpy(&bytes[kHeaderBytes + payload], md, kDigestBytes);
  return bytes;
}

bool same(const chipcast::Checkpoint& a, const chipcast::Checkpoint& b) {
  return a.config_sha256 == b.config_sha256 && a.config_path == b.config_path && a.seed == b.seed &&
         a.total == b.total && a.backend == b.backend && std::memcmp(&a.seconds, &b.seconds, sizeof a.seconds) == 0 &&
         a.done == b.done && a.tally == b.tally && a.observations == b.observations && a.calibrate == b.calibrate;
}

void read_one(const std::string& bytes) {
  {
    std::ofstream out(chipcast::checkpoint_path(g_dir), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) finding("cannot write the checkpoint file");
  }
  try {
    const std::optional<chipcast::Checkpoint> c = chipcast::read_checkpoint(g_dir, kMaxTallyBytes);
    if (!c) finding("read_checkpoint found no file where one was written");
    const std::string again = chipcast::encode_checkpoint(*c);
    if (!same(chipcast::decode_checkpoint(again, "re-encoded", kMaxTallyBytes), *c))
      finding("encode -> decode changed the checkpoint");
  } catch (const chipcast::CheckpointError&) {
    // the expected answer to a damaged or foreign file
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_checkpoint: read_checkpoint threw %s (not CheckpointError): %s\n", typeid(e).name(),
                 e.what());
    std::abort();
  } catch (...) {
    finding("read_checkpoint threw a non-std exception");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string pattern = (fs::temp_directory_path() / "chipcast_fuzz_checkpoint_XXXXXX").string();
  if (!::mkdtemp(pattern.data())) finding("mkdtemp failed");
  g_dir = pattern;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  read_one(bytes);
  if (size >= kHeaderBytes + kDigestBytes) read_one(reseal(bytes));
  return 0;
}
