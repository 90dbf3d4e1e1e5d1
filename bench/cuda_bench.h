#pragma once
// What every GPU benchmark (bench/bench_cuda_*.cpp) shares, llm.c style: validate the CUDA result
// against the CPU's first, then time each call alone between two CUDA events with the L2 cache
// flushed before it (a cudaMemsetAsync over twice the L2 size, so no call finds its inputs in L2),
// take the median over many calls, and report the figure as a fraction of the device's physical
// limit (HBM bandwidth or the dense matrix peak of the dtype).
//
//   BENCHMARK(BM_add)->UseManualTime()->Iterations(bench::gpu::kTimedCalls);
//   void BM_add(benchmark::State& st) {
//     ... make inputs on the GPU, check against the CPU with bench::gpu::check_close ...
//     const double s = bench::gpu::time_calls(st, [&] { out = a + b; });
//     bench::gpu::report_bandwidth(st, "add_f32_16M", bytes, s);
//   }
//   int main(int argc, char** argv) { return bench::gpu::main(argc, argv, "bench_cuda_elementwise", headline); }
//
// Host-compiled: the CUDA runtime is called here only for device attributes and the L2 flush.
// In builds without the CUDA backend, and on machines without a GPU, main() prints
// "skipped: no CUDA device: <reason>" and returns 0 (CI compiles these programs without a GPU).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "strata.h"
#include "tensor/device_detail.h"

#if defined(STRATA_WITH_CUDA)
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_api.h"
#endif

namespace bench::gpu {

using strata::Device;
using strata::DType;
using strata::Tensor;

// Calls timed per benchmark case (each alone, L2 flushed before it); the median is reported.
inline constexpr int kTimedCalls = 30;
inline constexpr int kWarmupCalls = 3;

// ---- the device and its physical limits ----

struct DeviceInfo {
  std::string name;
  int sm_count = 0;
  int64_t l2_bytes = 0;
  double hbm_gbs = 0;           // peak HBM bandwidth, GB/s (1e9 bytes)
  std::string hbm_source;       // where hbm_gbs came from
  // Dense peaks in TFLOP/s (H100 SXM datasheet, also the H200's: /work/.library/device/H200.md):
  // fp32 on the CUDA cores, tf32 and bf16 on the tensor cores (without sparsity).
  double fp32_tflops = 0, tf32_tflops = 0, bf16_tflops = 0;
};

// HBM peak by device name when the runtime does not report the memory clock and bus width.
inline double hbm_gbs_by_name(const std::string& name) {
  if (name.find("H200") != std::string::npos) return 4800;
  if (name.find("H100") != std::string::npos)
    return name.find("PCIe") != std::string::npos ? 2000 : 3350;  // PCIe: 2.0 TB/s, SXM: 3.35 TB/s
  return 0;
}

inline const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo d;
#if defined(STRATA_WITH_CUDA)
    int dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, dev) == cudaSuccess) d.name = p.name;
    int v = 0;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev) == cudaSuccess) d.sm_count = v;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrL2CacheSize, dev) == cudaSuccess) d.l2_bytes = v;
    int clock_khz = 0, bus_bits = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev);
    cudaGetLastError();  // an attribute the runtime no longer reports leaves an error behind
    if (clock_khz > 0 && bus_bits > 0) {
      // Double data rate: two transfers per clock over the whole bus.
      d.hbm_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
      d.hbm_source = "memory clock x bus width";
    } else {
      d.hbm_gbs = hbm_gbs_by_name(d.name);
      d.hbm_source = d.hbm_gbs > 0 ? "datasheet by device name" : "unknown device: no peak";
    }
#endif
    d.fp32_tflops = 67;
    d.tf32_tflops = 494.7;
    d.bf16_tflops = 989.4;
    if (d.name.find("PCIe") != std::string::npos) {  // H100 PCIe: lower clocks, fewer SMs
      d.fp32_tflops = 51;
      d.tf32_tflops = 378;
      d.bf16_tflops = 756;
    }
    return d;
  }();
  return info;
}

inline double dense_peak_tflops(DType dt, bool tf32 = false) {
  const DeviceInfo& d = device_info();
  if (dt == DType::BF16 || dt == DType::F16) return d.bf16_tflops;
  return tf32 ? d.tf32_tflops : d.fp32_tflops;
}

// ---- the L2 flush ----

// A buffer twice the L2 size, written before each timed call.
class L2Flusher {
 public:
  L2Flusher() {
    const int64_t bytes = std::max<int64_t>(2 * device_info().l2_bytes, int64_t{64} << 20);
    buf_ = strata::empty({bytes}, {.dtype = DType::U8, .device = Device::cuda()});
  }
  void flush() {
#if defined(STRATA_WITH_CUDA)
    auto stream = static_cast<cudaStream_t>(strata::cuda::current_stream().handle);
    cudaMemsetAsync(buf_.raw_data(), ++value_ & 0xff, static_cast<size_t>(buf_.numel()), stream);
#endif
  }

 private:
  Tensor buf_;
  int value_ = 0;
};

inline L2Flusher& flusher() {
  static L2Flusher f;
  return f;
}

// ---- timing ----

inline void synchronize() {
#if defined(STRATA_WITH_CUDA)
  strata::cuda::synchronize_device();
#endif
}

// Runs `call` kWarmupCalls times untimed, then once per benchmark iteration (register the case
// with ->UseManualTime()->Iterations(kTimedCalls)) between two events, the L2 flushed before
// each; `before` (untimed, e.g. resetting gradients) runs before each flush. Returns the median
// seconds of one call and sets each iteration's manual time.
inline double time_calls(benchmark::State& st, const std::function<void()>& call,
                         const std::function<void()>& before = nullptr) {
  std::vector<double> seconds;
#if defined(STRATA_WITH_CUDA)
  for (int i = 0; i < kWarmupCalls; ++i) {
    if (before) before();
    call();
  }
  synchronize();
  strata::cuda::Event start, stop;
  for (auto _ : st) {
    if (before) before();
    flusher().flush();
    start.record();
    call();
    stop.record();
    stop.synchronize();
    const double s = static_cast<double>(start.elapsed_ms(stop)) / 1e3;
    st.SetIterationTime(s);
    seconds.push_back(s);
  }
#else
  for (auto _ : st) st.SetIterationTime(1e-9);
#endif
  if (seconds.empty()) return 0;
  std::nth_element(seconds.begin(), seconds.begin() + static_cast<std::ptrdiff_t>(seconds.size() / 2), seconds.end());
  return seconds[seconds.size() / 2];
}

// ---- results, for each program's headline ----

struct Results {
  std::map<std::string, std::map<std::string, double>> figures;  // case -> counter -> value
  std::vector<std::string> failures;                             // cases whose validation failed
  std::vector<std::string> unsupported;                          // cases refused with a DTypeError
};
inline Results& results() {
  static Results r;
  return r;
}

inline void record(benchmark::State& st, const std::string& name, const std::string& counter, double value) {
  st.counters[counter] = value;
  results().figures[name][counter] = value;
}

// GB/s (1e9 bytes per second) for `bytes` moved in `seconds`, and the fraction of the HBM peak.
inline void report_bandwidth(benchmark::State& st, const std::string& name, double bytes, double seconds) {
  if (seconds <= 0) return;
  const double gbs = bytes / seconds / 1e9;
  record(st, name, "ms", seconds * 1e3);
  record(st, name, "GB/s", gbs);
  if (device_info().hbm_gbs > 0) record(st, name, "pct_HBM", 100.0 * gbs / device_info().hbm_gbs);
}

// TFLOP/s for `flops` in `seconds`, and the fraction of `peak_tflops`.
inline void report_flops(benchmark::State& st, const std::string& name, double flops, double seconds,
                         double peak_tflops) {
  if (seconds <= 0) return;
  const double tflops = flops / seconds / 1e12;
  record(st, name, "ms", seconds * 1e3);
  record(st, name, "TFLOP/s", tflops);
  if (peak_tflops > 0) record(st, name, "pct_peak", 100.0 * tflops / peak_tflops);
}

// The case with the largest value of `counter` among those whose name starts with `prefix`.
inline std::pair<std::string, double> best(const std::string& counter, const std::string& prefix = "") {
  std::pair<std::string, double> b{"", 0.0};
  for (const auto& [name, counters] : results().figures) {
    if (name.rfind(prefix, 0) != 0) continue;
    auto it = counters.find(counter);
    if (it != counters.end() && (b.first.empty() || it->second > b.second)) b = {name, it->second};
  }
  return b;
}

// ---- validation ----

// ||got - ref|| / ||ref|| (Frobenius, in f64 on the CPU): the check of /work/.library/device/METHOD.md.
inline double relative_error(const Tensor& ref, const Tensor& got) {
  const Tensor r = ref.detach().cpu().to(DType::F64);
  const Tensor g = got.detach().cpu().to(DType::F64);
  const double num = strata::norm(g - r).item<double>();
  const double den = strata::norm(r).item<double>();
  return den > 0 ? num / den : num;
}

// Compares the GPU result with the CPU reference; on a mismatch (relative error above `max_rel`,
// a NaN, a shape difference) the case is skipped with the error and counted as a failure.
inline bool check_close(benchmark::State& st, const std::string& name, const Tensor& ref, const Tensor& got,
                        double max_rel) {
  std::string why;
  if (ref.shape() != got.shape()) {
    why = "shape " + got.shape().str() + ", expected " + ref.shape().str();
  } else {
    const double e = relative_error(ref, got);
    if (!(e <= max_rel)) why = "relative error " + std::to_string(e) + " > " + std::to_string(max_rel);
  }
  if (why.empty()) return true;
  results().failures.push_back(name + ": " + why);
  st.SkipWithError(("validation against the CPU failed: " + why).c_str());
  return false;
}

// Runs a case's body; an exception skips the case with its message instead of ending the program.
// An op refusing the dtype (DTypeError: e.g. no bf16 GEMM yet) is listed as unsupported; anything
// else (a kernel missing on CUDA, a runtime error) counts as a failure.
inline void guarded(benchmark::State& st, const std::string& name, const std::function<void()>& body) {
  try {
    body();
  } catch (const strata::DTypeError& e) {
    results().unsupported.push_back(name + ": " + e.what());
    st.SkipWithError((std::string("unsupported: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    results().failures.push_back(name + ": threw: " + e.what());
    st.SkipWithError((std::string("threw: ") + e.what()).c_str());
  }
}

// Uniform values in [lo, hi) made on the CPU (so the CPU reference sees the same numbers), in `dt`.
inline Tensor random_cpu(const strata::Shape& shape, DType dt, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  strata::Generator gen(seed);
  return (strata::rand(shape, {}, &gen) * (hi - lo) + lo).to(dt);
}

inline Tensor on_gpu(const Tensor& t) { return t.to(Device::cuda()); }

inline std::string dtype_str(DType dt) { return std::string(strata::dtype_name(dt)); }

// ---- main ----

// Prints the device, runs the registered benchmarks, then `headline` (one or more lines starting
// with "headline:", which scripts/gpu-verify collects), the unsupported cases and the failures.
// Returns 1 when a case failed (validation, or an error other than an unsupported dtype).
inline int main(int argc, char** argv, const char* program, const std::function<void()>& headline) {
  if (!strata::cuda_is_available()) {
    std::printf("%s: skipped: no CUDA device: %s\n", program,
                strata::detail::cuda_unavailable_reason(Device::cuda(0)).c_str());
    return 0;
  }
  const DeviceInfo& d = device_info();
  std::printf("%s on %s: %d SMs, L2 %.0f MB, HBM peak %.0f GB/s (%s); dense peaks fp32 %.0f, tf32 %.0f, "
              "bf16 %.0f TFLOP/s\n",
              program, d.name.c_str(), d.sm_count, d.l2_bytes / 1e6, d.hbm_gbs, d.hbm_source.c_str(),
              d.fp32_tflops, d.tf32_tflops, d.bf16_tflops);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fflush(stdout);
  headline();
  for (const std::string& u : results().unsupported) std::printf("headline: UNSUPPORTED %s\n", u.c_str());
  for (const std::string& f : results().failures) std::printf("headline: FAILED %s\n", f.c_str());
  std::fflush(stdout);
  return results().failures.empty() ? 0 : 1;
}

}  // namespace bench::gpu
