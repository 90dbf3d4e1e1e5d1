// GPU benchmark of embedding's backward (the weight gradient: a scatter-add of the upstream rows
// into a [V, D] table) on a 50000 x 512 table with 65536 lookups, f32 and bf16, for uniform
// indices (few collisions) and for indices drawn from 100 hot rows (each row hit ~655 times: the
// worst case for atomics or a sort-based reduction). Timed: out.backward(g) through a retained
// graph, the weight's gradient reset (untimed) before each call, so each call allocates, zeroes
// and fills it. Byte model: the upstream gradient and the indices read once, the [V, D] gradient
// written once. Counters: GB/s and pct_HBM. Validated first against the CPU's gradient: relative
// error <= 1e-5 (f32: only the order of the sums differs) / 1e-2 (bf16).
#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Tensor;

constexpr int64_t V = 50000, D = 512, L = 65536;

void run_case(benchmark::State& st, const std::string& name, DType dt, int64_t distinct_rows) {
  strata::Generator gen(61);
  const Tensor idx_cpu = strata::randint(0, distinct_rows, {L}, {.dtype = DType::I64}, &gen);
  const Tensor w_cpu_values = gpu::random_cpu({V, D}, dt, 62);
  const Tensor g_cpu = gpu::random_cpu({L, D}, dt, 63);
  Tensor w_cpu = w_cpu_values.detach().requires_grad_(true);
  strata::embedding(w_cpu, idx_cpu).backward(g_cpu);

  Tensor w = gpu::on_gpu(w_cpu_values).requires_grad_(true);
  const Tensor idx = gpu::on_gpu(idx_cpu), g = gpu::on_gpu(g_cpu);
  const Tensor out = strata::embedding(w, idx);
  out.backward(g, /*retain_graph=*/true);
  if (!gpu::check_close(st, name, w_cpu.grad(), w.grad(), dt == DType::F32 ? 1e-5 : 1e-2)) return;
  const double s = gpu::time_calls(st, [&] { out.backward(g, /*retain_graph=*/true); }, [&] { w.zero_grad(); });
  const double bytes = static_cast<double>(g.nbytes() + idx.nbytes()) + static_cast<double>(V * D * strata::dtype_size(dt));
  gpu::report_bandwidth(st, name, bytes, s);
}

const bool registered = [] {
  for (DType dt : {DType::F32, DType::BF16})
    for (int64_t distinct : {V, int64_t{100}}) {
      const std::string name = std::string("embedding_backward_") + gpu::dtype_str(dt) + "_50000x512_65536_" +
                               (distinct == V ? "uniform" : "hot100");
      benchmark::RegisterBenchmark(name.c_str(),
                                   [=](benchmark::State& st) {
                                     gpu::guarded(st, name, [&] { run_case(st, name, dt, distinct); });
                                   })
          ->UseManualTime()
          ->Iterations(gpu::kTimedCalls)
          ->Unit(benchmark::kMicrosecond);
    }
  return true;
}();

void headline() {
  for (const char* which : {"uniform", "hot100"}) {
    const std::string name = std::string("embedding_backward_f32_50000x512_65536_") + which;
    auto& f = gpu::results().figures[name];
    std::printf("headline: embedding backward f32 %s: %.3f ms, %.0f GB/s = %.1f%% of HBM peak\n", which, f["ms"],
                f["GB/s"], f["pct_HBM"]);
  }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_embedding", headline); }
