// MPI setup and the few collectives a run needs (integer sums, logical OR, broadcast).
#include "host/run/mpi_context.h"

#include <climits>
#include <cstdlib>
#include <initializer_list>
#include <stdexcept>

#include "chipcast_config.h"

#if CHIPCAST_HAVE_MPI
// The C API only: skip the deprecated C++ bindings' headers.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace chipcast {
namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long r = std::strtol(v, &end, 10);
  return (*end == '\0' && r >= 0 && r < INT_MAX) ? static_cast<int>(r) : -1;
}

// Local rank from the launcher's environment, -1 when none says.
int local_rank_from_env() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "PMI_LOCAL_RANK"}) {
    const int r = env_int(name);
    if (r >= 0) return r;
  }
  return -1;
}

#if CHIPCAST_HAVE_MPI
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<size_t>(len)));
}
#endif

}  // namespace

int MpiContext::launcher_tasks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    const int n = env_int(name);
    if (n > 0) return n;
  }
  return 0;
}

int device_for_local_rank(int local_rank) {
  for (const char* name : {"CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    const std::string list(v);
    if (list.find(',') == std::string::npos) return 0;  // one device visible: it is ours
  }
  return local_rank;
}

bool MpiContext::compiled_with_mpi() { return CHIPCAST_HAVE_MPI != 0; }

#if CHIPCAST_HAVE_MPI

MpiContext::MpiContext(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    initialized_here_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  local_rank_ = local_rank_from_env();
  if (local_rank_ < 0) {
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
      MPI_Comm_rank(node, &local_rank_);
      MPI_Comm_free(&node);
    } else {
      local_rank_ = 0;
    }
  }
}

MpiContext::~MpiContext() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (initialized_here_ && !finalized) MPI_Finalize();
}

std::string MpiContext::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<size_t>(len));
  const size_t cut = s.find_first_of(",\n");
  return cut == std::string::npos ? s : s.substr(0, cut);
}

unsigned MpiContext::bitwise_or(unsigned bits) const {
  unsigned out = 0;
  check(MPI_Allreduce(&bits, &out, 1, MPI_UNSIGNED, MPI_BOR, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

void MpiContext::reduce_sum_to_root(const uint64_t* in, uint64_t* out, size_t n, size_t max_count) const {
  if (max_count == 0 || max_count > kMaxCount) max_count = kMaxCount;
  for (size_t off = 0; off < n; off += max_count) {
    const int count = static_cast<int>(n - off < max_count ? n - off : max_count);
    const bool in_place = rank_ == 0 && in == out;
    check(MPI_Reduce(in_place ? MPI_IN_PLACE : static_cast<const void*>(in + off), out ? out + off : nullptr, count,
                     MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD),
          "MPI_Reduce");
  }
}

void MpiContext::broadcast(int& value) const { check(MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast"); }

void MpiContext::broadcast(std::vector<uint64_t>& values) const {
  uint64_t n = values.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  values.resize(n);
  for (size_t off = 0; off < n; off += kMaxCount) {
    const int count = static_cast<int>(n - off < kMaxCount ? n - off : kMaxCount);
    check(MPI_Bcast(values.data() + off, count, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
}

void MpiContext::abort(int status) const {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

#else  // one rank, no MPI

MpiContext::MpiContext(int*, char***) {
  const int r = local_rank_from_env();
  local_rank_ = r < 0 ? 0 : r;
}
MpiContext::~MpiContext() = default;
std::string MpiContext::library_version() { return "none"; }
unsigned MpiContext::bitwise_or(unsigned bits) const { return bits; }
void MpiContext::reduce_sum_to_root(const uint64_t* in, uint64_t* out, size_t n, size_t) const {
  if (out && out != in)
    for (size_t i = 0; i < n; ++i) out[i] = in[i];
}
void MpiContext::broadcast(int&) const {}
void MpiContext::broadcast(std::vector<uint64_t>&) const {}
void MpiContext::abort(int status) const { std::_Exit(status); }

#endif

}  // namespace chipcast
