// Checkpoint encoding (little-endian, sparse varint histograms, SHA-256 trailer) and file handling.
#include "host/run/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

#include "host/run/write_file_atomic.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'C', 'H', 'I', 'P', 'C', 'K', 'P', 'T'};
constexpr size_t kHeaderBytes = 24;  // magic, version, flags, payload size
constexpr size_t kDigestBytes = 32;

void digest(const char* data, size_t n, unsigned char out[kDigestBytes]) {
  unsigned int len = 0;
  if (EVP_Digest(data, n, out, &len, EVP_sha256(), nullptr) != 1 || len != kDigestBytes)
    throw std::runtime_error("SHA-256 of the checkpoint failed (OpenSSL)");
}

// ---- writing ----

class Writer {
 public:
  std::string bytes;
  void u8(uint8_t v) { bytes.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void f64(double v) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    u64(b);
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    u8(static_cast<uint8_t>(v));
  }
  void text(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes += s;
  }
  // u64 element count, then groups (varint zeros, varint literals, the
  // literals as varints) until the count is covered. Histograms are mostly
  // zeros: the baseline's 29 MB level tally encodes to a few MB.
  void sparse(const std::vector<uint64_t>& v) {
    u64(v.size());
    size_t i = 0;
    while (i < v.size()) {
      size_t z = i;
      while (z < v.size() && v[z] == 0) ++z;
      size_t l = z;
      while (l < v.size() && v[l] != 0) ++l;
      varint(z - i);
      varint(l - z);
      for (size_t k = z; k < l; ++k) varint(v[k]);
      i = l;
    }
  }
};

// ---- reading: every read checks the bounds, so a damaged file cannot
// overrun (the digest is checked first; this guards against a file that is
// valid for another layout) ----

class Reader {
 public:
  Reader(const char* p, size_t n, const std::string& path) : p_(p), n_(n), path_(path) {}
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(p_[at_++]);
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(u8()) << (8 * i);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  double f64() {
    const uint64_t b = u64();
    double v;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = u8();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("a varint is longer than 64 bits");
  }
  std::string text(size_t max) {
    const uint32_t n = u32();
    if (n > max) fail(fmt::format("a text field of {} bytes (at most {} expected)", n, max));
    need(n);
    std::string s(p_ + at_, n);
    at_ += n;
    return s;
  }
  void sparse(std::vector<uint64_t>& v, size_t expected, const char* what) {
    const uint64_t n = u64();
    if (n != expected) fail(fmt::format("the {} histogram has {} bins, its shape needs {}", what, n, expected));
    v.assign(expected, 0);
    size_t i = 0;
    while (i < v.size()) {
      const uint64_t zeros = varint();
      const uint64_t lits = varint();
      if (zeros > v.size() - i || lits > v.size() - i - zeros || zeros + lits == 0)
        fail(fmt::format("the {} histogram's runs do not add up to its {} bins", what, expected));
      i += zeros;
      for (uint64_t k = 0; k < lits; ++k) v[i++] = varint();
    }
  }
  bool at_end() const { return at_ == n_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw CheckpointError(fmt::format("{}: corrupt checkpoint: {}", path_, what));
  }

 private:
  void need(size_t k) const {
    if (k > n_ - at_) fail("it ends in the middle of a field");
  }
  const char* p_;
  size_t n_;
  size_t at_ = 0;
  const std::string& path_;
};

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

uint64_t default_checkpoint_tally_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;  // unknown: the shape bounds alone apply
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

std::string observation_table_text(const parity::ModelParams& p) {
  std::string out;
  for (int j = 0; j < p.num_observations; ++j) {
    const parity::ObservationSpec& o = p.observations[j];
    out += fmt::format("{} {} {} {:a} {:a}\n", o.year, o.bloc, o.quantity, o.log_value, o.sd_log);
  }
  return out;
}

std::string encode_checkpoint(const Checkpoint& c) { return encode_checkpoint(c, c.tally); }

std::string encode_checkpoint(const Checkpoint& c, const Tally& tally) {
  return encode_checkpoint(c, tally, c.calibrate ? &*c.calibrate : nullptr);
}

std::string encode_checkpoint(const Checkpoint& c, const Tally& tally, const CalibrateTallies* calibrate) {
  Writer pay;
  pay.text(c.config_sha256);
  pay.text(c.config_path);
  pay.u64(c.seed);
  pay.u64(c.total);
  pay.text(c.backend);
  pay.text(c.isa);
  pay.f64(c.seconds);
  pay.u64(tally.trajectories);
  pay.i32(tally.shape.periods);
  pay.i32(tally.shape.sub_bins);
  pay.i32(tally.shape.years);
  pay.u64(c.done.size());
  for (const auto& r : c.done) {
    pay.u64(r.first);
    pay.u64(r.end);
  }
  pay.u32(static_cast<uint32_t>(tally.anomalies.size()));
  for (uint64_t a : tally.anomalies) pay.u64(a);
  pay.sparse(tally.level);
  pay.sparse(tally.crossing);
  pay.u8(calibrate ? 1 : 0);
  if (calibrate) {
    pay.text(c.observations);
    const Tally& post = calibrate->posterior;
    pay.u64(post.trajectories);
    for (uint64_t a : post.anomalies) pay.u64(a);
    pay.sparse(post.level);
    pay.sparse(post.crossing);
    const CalibrationTally& d = calibrate->decisions;
    pay.u32(static_cast<uint32_t>(d.params.size()));
    for (int32_t i : d.params) pay.i32(i);
    pay.i32(d.observations);
    pay.u64(d.trajectories);
    pay.u64(d.accepted);
    pay.sparse(d.rejects);
    pay.sparse(d.prior_u);
    pay.sparse(d.posterior_u);
    pay.sparse(d.prior_obs);
    pay.sparse(d.posterior_obs);
  }

  Writer out;
  out.bytes.reserve(kHeaderBytes + pay.bytes.size() + kDigestBytes);
  out.bytes.append(kMagic, sizeof kMagic);
  out.u32(kCheckpointVersion);
  out.u32(0);  // flags, none defined
  out.u64(pay.bytes.size());
  out.bytes += pay.bytes;
  unsigned char md[kDigestBytes];
  digest(out.bytes.data(), out.bytes.size(), md);
  out.bytes.append(reinterpret_cast<const char*>(md), kDigestBytes);
  return std::move(out.bytes);
}

Checkpoint decode_checkpoint(const std::string& bytes, const std::string& path, uint64_t max_tally_bytes) {
  auto corrupt = [&](const std::string& what) {
    return CheckpointError(fmt::format("{}: corrupt checkpoint: {}", path, what));
  };
  if (bytes.size() < kHeaderBytes + kDigestBytes)
    throw corrupt(fmt::format("{} bytes, shorter than the smallest checkpoint (truncated?)", bytes.size()));
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw corrupt("it does not start with \"CHIPCKPT\" (not a chipcast checkpoint)");
  Reader head(bytes.data() + sizeof kMagic, kHeaderBytes - sizeof kMagic, path);
  const uint32_t version = head.u32();
  const uint32_t flags = head.u32();
  const uint64_t payload = head.u64();
  if (version < kCheckpointOldestReadable || version > kCheckpointVersion)
    throw CheckpointError(
        fmt::format("{}: checkpoint format version {}, this chipcast reads versions {} to {}{}", path, version,
                    kCheckpointOldestReadable, kCheckpointVersion,
                    version > kCheckpointVersion
                        ? " (written by a newer chipcast: resume it with that one)"
                        : " (written by an older chipcast, before calendar-year totals: resume it with that one, or "
                          "remove it to start afresh)"));
  if (flags != 0) throw corrupt(fmt::format("unknown flags {:#x}", flags));
  const uint64_t expected = kHeaderBytes + payload + kDigestBytes;
  if (payload > bytes.size() || bytes.size() != expected)
    throw corrupt(fmt::format("{} bytes where its header says {} (truncated or appended to)", bytes.size(),
                              payload > bytes.size() ? std::string("more") : std::to_string(expected)));
  unsigned char md[kDigestBytes];
  digest(bytes.data(), kHeaderBytes + payload, md);
  if (std::memcmp(md, bytes.data() + kHeaderBytes + payload, kDigestBytes) != 0)
    throw corrupt("SHA-256 checksum mismatch (the file was damaged)");

  Reader r(bytes.data() + kHeaderBytes, payload, path);
  Checkpoint c;
  c.config_sha256 = r.text(128);
  c.config_path = r.text(1 << 16);
  c.seed = r.u64();
  c.total = r.u64();
  c.backend = r.text(256);
  c.isa = r.text(1024);
  c.seconds = r.f64();
  const uint64_t trajectories = r.u64();
  const int32_t periods = r.i32();
  const int32_t sub_bins = r.i32();
  const int32_t years = r.i32();
  if (periods <= 0 || periods > (1 << 20) || sub_bins <= 0 || sub_bins > (1 << 16) || years < 0 || years > periods)
    r.fail(fmt::format("tally shape {} periods x {} sub-bins, {} years", periods, sub_bins, years));
  // Both checked before the tally is allocated (a digest only proves the file is intact, not that a
  // run wrote it): the crossing bin count is an int in the kernels, as the config reader also requires.
  const uint64_t crossing = static_cast<uint64_t>(periods) * static_cast<uint64_t>(sub_bins) + 1;
  if (crossing > static_cast<uint64_t>(INT32_MAX))
    r.fail(fmt::format("tally shape {} periods x {} sub-bins has {} crossing bins (at most {})", periods, sub_bins,
                       crossing, INT32_MAX));
  const uint64_t tally_bytes =
      (static_cast<uint64_t>(periods + years) * kNumSeries * kLevelBins + kNumMetrics * crossing) * sizeof(uint64_t);
  if (tally_bytes > max_tally_bytes)
    throw CheckpointError(fmt::format(
        "{}: the checkpoint's tally ({} periods x {} sub-bins) needs {:.3g} GB, more than the {:.3g} GB a checkpoint "
        "may hold here (half of this machine's memory)",
        path, periods, sub_bins, tally_bytes / 1e9, max_tally_bytes / 1e9));
  c.tally = Tally(TallyShape{periods, sub_bins, years});
  c.tally.trajectories = trajectories;
  const uint64_t nranges = r.u64();
  if (nranges > payload / 16) r.fail(fmt::format("{} trajectory ranges", nranges));
  c.done.resize(nranges);
  for (auto& range : c.done) {
    range.first = r.u64();
    range.end = r.u64();
  }
  const uint32_t nanom = r.u32();
  if (nanom != c.tally.anomalies.size())
    r.fail(fmt::format("{} anomaly counters, this chipcast has {}", nanom, c.tally.anomalies.size()));
  for (auto& a : c.tally.anomalies) a = r.u64();
  r.sparse(c.tally.level, c.tally.level.size(), "level");
  r.sparse(c.tally.crossing, c.tally.crossing.size(), "crossing");
  const uint8_t kind = version >= 4 ? r.u8() : 0;
  if (kind > 1) r.fail(fmt::format("checkpoint kind {} (0 run, 1 calibrate)", kind));
  if (kind == 1) {
    c.observations = r.text(1 << 16);
    CalibrateTallies cal;
    cal.posterior = Tally(c.tally.shape);
    cal.posterior.trajectories = r.u64();
    for (auto& a : cal.posterior.anomalies) a = r.u64();
    r.sparse(cal.posterior.level, cal.posterior.level.size(), "posterior level");
    r.sparse(cal.posterior.crossing, cal.posterior.crossing.size(), "posterior crossing");
    CalibrationTally& d = cal.decisions;
    const uint32_t nparams = r.u32();
    if (nparams > static_cast<uint32_t>(parity::kMaxParams)) r.fail(fmt::format("{} drawn parameters", nparams));
    d.params.resize(nparams);
    for (auto& i : d.params) {
      i = r.i32();
      if (i < 0 || i >= parity::kMaxParams) r.fail(fmt::format("parameter index {}", i));
    }
    d.observations = r.i32();
    if (d.observations < 0 || d.observations > parity::kMaxObservations)
      r.fail(fmt::format("{} observations", d.observations));
    d.trajectories = r.u64();
    d.accepted = r.u64();
    r.sparse(d.rejects, static_cast<size_t>(d.observations), "rejection");
    r.sparse(d.prior_u, nparams * static_cast<size_t>(kUniformBins), "prior parameter");
    r.sparse(d.posterior_u, nparams * static_cast<size_t>(kUniformBins), "posterior parameter");
    r.sparse(d.prior_obs, static_cast<size_t>(d.observations) * kLevelBins, "prior observation");
    r.sparse(d.posterior_obs, static_cast<size_t>(d.observations) * kLevelBins, "posterior observation");
    if (const std::string why = cal.posterior.inconsistency(); !why.empty()) r.fail("posterior: " + why);
    if (const std::string why = d.inconsistency(); !why.empty()) r.fail("decision counts: " + why);
    if (d.trajectories != c.tally.trajectories || d.accepted != cal.posterior.trajectories)
      r.fail(fmt::format("its decision counts cover {} trajectories and {} accepted, its tallies {} and {}",
                         d.trajectories, d.accepted, c.tally.trajectories, cal.posterior.trajectories));
    c.calibrate = std::move(cal);
  }
  if (!r.at_end()) r.fail("bytes left over after the tally");

  if (const std::string why = check_ranges(c.done, c.total); !why.empty()) r.fail("trajectory ranges: " + why);
  if (count_of(c.done) != c.tally.trajectories)
    r.fail(fmt::format("its ranges cover {} trajectories, its tally {}", count_of(c.done), c.tally.trajectories));
  if (const std::string why = c.tally.inconsistency(); !why.empty()) r.fail(why);
  return c;
}

fs::path checkpoint_path(const fs::path& dir) { return dir / kCheckpointFileName; }

void write_checkpoint(const fs::path& dir, const Checkpoint& c) { write_checkpoint(dir, c, c.tally); }

void write_checkpoint(const fs::path& dir, const Checkpoint& c, const Tally& tally) {
  write_checkpoint(dir, c, tally, c.calibrate ? &*c.calibrate : nullptr);
}

void write_checkpoint(const fs::path& dir, const Checkpoint& c, const Tally& tally, const CalibrateTallies* calibrate) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create checkpoint folder {}: {}", dir.string(), ec.message()));
  write_file_atomic(checkpoint_path(dir), encode_checkpoint(c, tally, calibrate));
}

std::optional<Checkpoint> read_checkpoint(const fs::path& dir, uint64_t max_tally_bytes) {
  const fs::path path = checkpoint_path(dir);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    throw CheckpointError(fmt::format("{}: cannot open the checkpoint: {}", path.string(), errno_text(err)));
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw CheckpointError(fmt::format("{}: cannot read the checkpoint: {}", path.string(), errno_text(err)));
    }
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return decode_checkpoint(bytes, path.string(), max_tally_bytes);
}

void check_checkpoint_folder_writable(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create checkpoint folder {}: {}", dir.string(), ec.message()));
  const fs::path probe = dir / fmt::format(".{}.tmp-probe-{}", kCheckpointFileName, static_cast<long>(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw std::runtime_error(fmt::format("cannot write in checkpoint folder {}: {}", dir.string(), errno_text(err)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

void remove_stale_checkpoint_temporaries(const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = std::string(".") + kCheckpointFileName + ".tmp-";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) == 0) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

void check_checkpoint_matches(const Checkpoint& c, const CheckpointIdentity& want, const std::string& path) {
  std::vector<std::string> diffs;
  if (c.seed != want.seed) diffs.push_back(fmt::format("seed {} in the checkpoint, {} now", c.seed, want.seed));
  if (c.total != want.total)
    diffs.push_back(fmt::format("trajectories {} in the checkpoint, {} now", c.total, want.total));
  if (c.tally.shape != TallyShape{want.periods, want.sub_bins, want.years})
    diffs.push_back(fmt::format("tally shape {} periods x {} sub-bins, {} years in the checkpoint, {} x {}, {} now",
                                c.tally.shape.periods, c.tally.shape.sub_bins, c.tally.shape.years, want.periods,
                                want.sub_bins, want.years));
  const bool is_calibrate = c.calibrate.has_value();
  if (is_calibrate != want.observations.has_value()) {
    // Not one more difference to list: the kinds cannot be resumed into each other at all.
    throw CheckpointError(fmt::format(
        "{} is a {} checkpoint, and this is a {}: a {} cannot be resumed from it (its tallies {}). The checkpoint "
        "was left untouched; give --checkpoint another folder.",
        path, is_calibrate ? "calibrate run's" : "plain run's", is_calibrate ? "plain run" : "calibrate run",
        is_calibrate ? "run" : "calibrate run",
        is_calibrate ? "condition on observations" : "hold no posterior or decision counts"));
  }
  if (is_calibrate && c.observations != *want.observations)
    diffs.push_back("the observations conditioned on differ (another --observations file or [[observations]])");
  if (c.config_sha256 != want.config_sha256)
    // The digest is of the resolved config, [run] included: a seed or trajectory change alone changes it too.
    diffs.push_back(
        fmt::format("resolved config sha256 {} ({}) in the checkpoint, {} ({}) now (compare with "
                    "`chipcast validate`)",
                    c.config_sha256, c.config_path, want.config_sha256, want.config_path));
  if (diffs.empty()) return;
  std::string msg = fmt::format("{} belongs to another run, so it cannot be resumed:", path);
  for (const auto& d : diffs) msg += "\n  " + d;
  msg +=
      "\nThe checkpoint was left untouched. Resume with the same config, seed and trajectory count, or give "
      "--checkpoint another folder to start afresh.";
  throw CheckpointError(msg);
}

std::vector<std::string> checkpoint_resume_warnings(const Checkpoint& c, const std::string& backend,
                                                    const std::string& path) {
  std::vector<std::string> warnings;
  if (c.backend != backend)
    warnings.push_back(
        fmt::format("{} was written by the {} backend, this run uses {}: the merged tallies are valid "
                    "samples, but byte-identity with an uninterrupted run holds per backend only",
                    path, c.backend, backend));
  const std::string isa = build_isa().text();
  if (!c.isa.empty() && c.isa != isa)
    warnings.push_back(
        fmt::format("{} was written by a chipcast whose kernels were compiled for {}, this one for {}: "
                    "the merged tallies are valid samples, but byte-identity with an uninterrupted "
                    "run holds per build only (build with the same -march, e.g. -DCHIPCAST_NATIVE=OFF "
                    "on every node, to keep it)",
                    path, c.isa, isa));
  return warnings;
}

}  // namespace chipcast
