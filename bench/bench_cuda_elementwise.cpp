// GPU benchmark of the elementwise kernels (kernels/cuda/elementwise_*.cu) through the public ops:
// add, mul, exp and a broadcast add ([n / 1024, 1024] + [1024]) on 16M, 64M and 256M elements,
// f32 and bf16. Memory-bound: bytes = every operand read once + the output written once (binary
// 3n, unary and broadcast 2n elements). Counters: GB/s and pct_HBM (of the device's HBM peak,
// bench/cuda_bench.h). Target: >= 85% of HBM peak on the large sizes.
// Validated against the CPU op first: relative error <= 1e-5 (f32) / 5e-3 (bf16: both round the
// same f32 value; exp may differ by one ulp).
#include <map>
#include <utility>

#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Tensor;

struct Inputs {
  Tensor a_cpu, b_cpu, row_cpu;  // CPU copies, for the reference
  Tensor a, b, row;              // on the GPU
};

// One set per (dtype, size), shared by the ops.
const Inputs& inputs(DType dt, int64_t n) {
  static std::map<std::pair<DType, int64_t>, Inputs> cache;
  auto it = cache.find({dt, n});
  if (it != cache.end()) return it->second;
  Inputs in;
  in.a_cpu = gpu::random_cpu({n}, dt, 1);
  in.b_cpu = gpu::random_cpu({n}, dt, 2, 0.5, 1.5);
  in.row_cpu = gpu::random_cpu({1024}, dt, 3);
  in.a = gpu::on_gpu(in.a_cpu);
  in.b = gpu::on_gpu(in.b_cpu);
  in.row = gpu::on_gpu(in.row_cpu);
  return cache.emplace(std::make_pair(dt, n), std::move(in)).first->second;
}

enum class Op { add, mul, exp, add_broadcast };
const char* op_name(Op op) {
  switch (op) {
    case Op::add: return "add";
    case Op::mul: return "mul";
    case Op::exp: return "exp";
    default: return "add_broadcast";
  }
}

Tensor apply(Op op, const Tensor& a, const Tensor& b, const Tensor& row) {
  switch (op) {
    case Op::add: return a + b;
    case Op::mul: return a * b;
    case Op::exp: return strata::exp(a);
    default: return a.view({a.numel() / 1024, 1024}) + row;
  }
}

void run_case(benchmark::State& st, Op op, DType dt, int64_t n) {
  const std::string name = std::string(op_name(op)) + "_" + gpu::dtype_str(dt) + "_" + std::to_string(n >> 20) + "M";
  const Inputs& in = inputs(dt, n);
  const Tensor ref = apply(op, in.a_cpu, in.b_cpu, in.row_cpu);
  Tensor out = apply(op, in.a, in.b, in.row);
  if (!gpu::check_close(st, name, ref, out, dt == DType::F32 ? 1e-5 : 5e-3)) return;
  const double s = gpu::time_calls(st, [&] { out = apply(op, in.a, in.b, in.row); });
  const double elems = op == Op::add || op == Op::mul ? 3.0 * n : 2.0 * n;
  gpu::report_bandwidth(st, name, elems * strata::dtype_size(dt), s);
}

const bool registered = [] {
  for (Op op : {Op::add, Op::mul, Op::exp, Op::add_broadcast})
    for (DType dt : {DType::F32, DType::BF16})
      for (int64_t n : {int64_t{16} << 20, int64_t{64} << 20, int64_t{256} << 20}) {
        const std::string name = std::string(op_name(op)) + "_" + gpu::dtype_str(dt) + "_" + std::to_string(n >> 20) + "M";
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { gpu::guarded(st, name, [&] { run_case(st, op, dt, n); }); })
            ->UseManualTime()
            ->Iterations(gpu::kTimedCalls)
            ->Unit(benchmark::kMicrosecond);
      }
  return true;
}();

void headline() {
  const auto [name, pct] = gpu::best("pct_HBM");
  const auto big = gpu::best("pct_HBM", "add_f32_256M");
  std::printf("headline: elementwise best %.1f%% of HBM peak (%s); add f32 256M %.1f%% (target >= 85%%: %s)\n", pct,
              name.c_str(), big.second, big.second >= 85 ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_elementwise", headline); }
