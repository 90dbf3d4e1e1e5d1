// GPU benchmark of the reductions (kernels/cuda/reduce.cu) through the public ops: sum over all,
// over the last dim (rows: the reduced dim contiguous) and over the first dim (columns: the kept
// dim contiguous) of [16384, 8192] (128M elements) and [4096, 32000], f32 and bf16.
// Memory-bound: bytes = the input read once (the output is at most 1/8192 of it). Counters: GB/s
// and pct_HBM. Validated against the CPU first: relative error <= 1e-5 (f32: both accumulate in
// f32 or wider, in different orders) / 1e-2 (bf16: the result rounded to bf16).
#include <map>
#include <utility>

#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Shape;
using strata::Tensor;

struct Inputs {
  Tensor cpu, dev;
};
const Inputs& inputs(DType dt, const Shape& shape) {
  static std::map<std::pair<DType, std::string>, Inputs> cache;
  const auto key = std::make_pair(dt, shape.str());
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Inputs in;
  in.cpu = gpu::random_cpu(shape, dt, 11);
  in.dev = gpu::on_gpu(in.cpu);
  return cache.emplace(key, std::move(in)).first->second;
}

enum class Over { all, last_dim, first_dim };
const char* over_name(Over o) { return o == Over::all ? "all" : o == Over::last_dim ? "last_dim" : "first_dim"; }

Tensor reduce(Over o, const Tensor& x) {
  if (o == Over::all) return strata::sum(x);
  return strata::sum(x, {o == Over::last_dim ? -1 : 0});
}

void run_case(benchmark::State& st, const std::string& name, Over o, DType dt, Shape shape) {
  const Inputs& in = inputs(dt, shape);
  const Tensor ref = reduce(o, in.cpu);
  Tensor out = reduce(o, in.dev);
  if (!gpu::check_close(st, name, ref, out, dt == DType::F32 ? 1e-5 : 1e-2)) return;
  const double s = gpu::time_calls(st, [&] { out = reduce(o, in.dev); });
  gpu::report_bandwidth(st, name, static_cast<double>(in.dev.nbytes()), s);
}

const bool registered = [] {
  for (const auto& [label, shape] : std::vector<std::pair<std::string, Shape>>{{"16384x8192", {16384, 8192}},
                                                                                {"4096x32000", {4096, 32000}}})
    for (Over o : {Over::all, Over::last_dim, Over::first_dim})
      for (DType dt : {DType::F32, DType::BF16}) {
        const std::string name = std::string("sum_") + over_name(o) + "_" + gpu::dtype_str(dt) + "_" + label;
        benchmark::RegisterBenchmark(name.c_str(),
                                     [=](benchmark::State& st) { gpu::guarded(st, name, [&] { run_case(st, name, o, dt, shape); }); })
            ->UseManualTime()
            ->Iterations(gpu::kTimedCalls)
            ->Unit(benchmark::kMicrosecond);
      }
  return true;
}();

void headline() {
  for (const char* over : {"all", "last_dim", "first_dim"}) {
    const auto [name, pct] = gpu::best("pct_HBM", std::string("sum_") + over + "_f32");
    std::printf("headline: sum over %s f32: best %.1f%% of HBM peak (%s)\n", over, pct, name.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_reduce", headline); }
