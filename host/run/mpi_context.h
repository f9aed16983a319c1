// The MPI world of a run (rank, size, local rank, integer reductions); one rank and no-ops without MPI.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chipcast {

// Owns MPI_Init/MPI_Finalize for the process (at most one instance). Built
// without MPI (CHIPCAST_HAVE_MPI 0 in chipcast_config.h) every call is a one-rank no-op,
// so the run loop has one code path. With MPI, a process started without
// mpirun/srun is a singleton world of one rank.
//
// All collective calls must be made by every rank in the same order; they
// are made from the main thread only (MPI_THREAD_FUNNELED: OpenMP threads in
// the backends never call MPI).
class MpiContext {
 public:
  static constexpr size_t kMaxCount = 2147483647;  // INT_MAX: MPI counts are int

  MpiContext(int* argc, char*** argv);
  ~MpiContext();
  MpiContext(const MpiContext&) = delete;
  MpiContext& operator=(const MpiContext&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  // Rank among the ranks on this node (GPU selection): OMPI_COMM_WORLD_LOCAL_RANK,
  // SLURM_LOCALID, MPI_LOCALRANKID or PMI_LOCAL_RANK, else MPI's shared-memory
  // split, else 0.
  int local_rank() const { return local_rank_; }
  // Tasks the launcher started (OMPI_COMM_WORLD_SIZE, PMI_SIZE or
  // SLURM_STEP_NUM_TASKS), 0 when no launcher says: lets a run refuse to go
  // on when it is one of several tasks yet alone in its MPI world (a build
  // without MPI, or an MPI library that does not match the launcher), where
  // every task would run the whole job and write the same outputs.
  static int launcher_tasks();
  // True when this binary was built with MPI.
  static bool compiled_with_mpi();
  // "Open MPI v4.1.4, ..." or "none".
  // Callable before MPI_Init.
  static std::string library_version();

  // Bitwise OR of `bits` over all ranks (every rank gets the result): how
  // ranks agree on a decision that any one of them may have taken.
  unsigned bitwise_or(unsigned bits) const;
  // Sum of `n` values over all ranks into `out` on rank 0 (out may be null
  // elsewhere; on rank 0, out == in sums in place). Chunked so no single MPI
  // call passes more than `max_count` (at most INT_MAX) elements.
  void reduce_sum_to_root(const uint64_t* in, uint64_t* out, size_t n, size_t max_count = kMaxCount) const;
  // Rank 0's `value` on every rank.
  void broadcast(int& value) const;
  void broadcast(std::vector<uint64_t>& values) const;
  // Ends every rank of the job with `status` (MPI_Abort); plain exit without MPI.
  [[noreturn]] void abort(int status) const;

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  [[maybe_unused]] bool initialized_here_ = false;  // read and set only when built with MPI
};

// The GPU a rank should use: 0 when the launcher left this process exactly
// one visible device (CUDA_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES or
// ROCR_VISIBLE_DEVICES naming one, as Slurm's --gpus-per-task=1 or
// --gpu-bind=single:1 do), else `local_rank` (one rank per GPU of the node).
int device_for_local_rank(int local_rank);

}  // namespace chipcast
