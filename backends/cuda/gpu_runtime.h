// One spelling for the CUDA and HIP runtimes (CC_GPU(Malloc) -> cudaMalloc | hipMalloc) and a checking macro.
#pragma once
#include <stdexcept>
#include <string>

#include "kernels/macros.h"

#if CHIPCAST_HIP
#include <hip/hip_runtime.h>
#define CC_GPU(name) hip##name
#define CC_GPU_RUNTIME_NAME "HIP"
#define CC_GPU_BACKEND_NAME "hip"
#else
#include <cuda_runtime.h>
#define CC_GPU(name) cuda##name
#define CC_GPU_RUNTIME_NAME "CUDA"
#define CC_GPU_BACKEND_NAME "cuda"
#endif

namespace chipcast::gpu {

using Error = CC_GPU(Error_t);
using Stream = CC_GPU(Stream_t);
#if CHIPCAST_HIP
using DeviceProp = hipDeviceProp_t;  // the one name the two runtimes spell differently
#else
using DeviceProp = cudaDeviceProp;
#endif

// A failed runtime call; `code` lets callers react (out of memory -> smaller batch).
class GpuError : public std::runtime_error {
 public:
  GpuError(Error code, const std::string& what) : std::runtime_error(what), code_(code) {}
  Error code() const { return code_; }
  bool out_of_memory() const { return code_ == CC_GPU(ErrorMemoryAllocation); }

 private:
  Error code_;
};

// What to do about a failure, by error kind (the "<suggestion>" part of a message).
inline const char* advice_for(Error e) {
  if (e == CC_GPU(ErrorMemoryAllocation))
    return "the batch is shrunk and retried automatically; if this persists, free device memory "
           "(other processes on the GPU) or lower CHIPCAST_GPU_BATCH";
  if (e == CC_GPU(ErrorNoDevice) || e == CC_GPU(ErrorInsufficientDriver))
    return "check that the GPU driver is loaded and a device is visible (nvidia-smi / rocm-smi, "
           "CUDA_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES); `chipcast info` lists devices; --backend openmp runs on the "
           "CPU";
  if (e == CC_GPU(ErrorInvalidDevice))
    return "the device id is out of range; `chipcast info` lists the devices this process can see";
  return "rerun with CUDA_LAUNCH_BLOCKING=1 (or AMD_SERIALIZE_KERNEL=3) to locate the failing kernel; "
         "--backend openmp gives the same results on the CPU";
}

// "<call> failed at <file>:<line>: <runtime's error string> (<error name>); <advice>"
[[noreturn]] inline void throw_error(Error e, const char* call, const char* file, int line) {
  std::string where = file;
  const auto slash = where.find_last_of('/');
  if (slash != std::string::npos) where = where.substr(slash + 1);
  throw GpuError(e, std::string(CC_GPU_RUNTIME_NAME) + " call " + call + " failed at " + where + ":" +
                        std::to_string(line) + ": " + CC_GPU(GetErrorString)(e) + " (" + CC_GPU(GetErrorName)(e) +
                        "); " + advice_for(e));
}

inline void check(Error e, const char* call, const char* file, int line) {
  if (e != CC_GPU(Success)) {
    // Clear a non-sticky error so that the next call (e.g. a retry after
    // out-of-memory) does not report it again.
    (void)CC_GPU(GetLastError)();
    throw_error(e, call, file, line);
  }
}

}  // namespace chipcast::gpu

// Checks a runtime call: CC_GPU_CHECK(CC_GPU(Malloc)(&p, bytes));
#define CC_GPU_CHECK(call) ::chipcast::gpu::check((call), #call, __FILE__, __LINE__)
