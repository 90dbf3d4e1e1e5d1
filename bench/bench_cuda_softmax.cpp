// GPU benchmark of softmax, log_softmax and cross-entropy (kernels/cuda loss family) through the
// public ops at [4096, 32000] (a language model's vocabulary) and [65536, 1000] (many short rows),
// f32 and bf16, over the last dim. Memory-bound; the byte model counts each tensor the fastest
// possible kernel must touch once:
//   softmax / log_softmax forward: read the input, write the output (2 x numel);
//   cross_entropy forward + backward (mean, class-index targets): forward reads the logits, the
//     backward reads the logits again and writes their gradient (3 x numel; targets negligible).
// Counters: GB/s and pct_HBM. Validated against the CPU first (cross-entropy: the loss and the
// logits' gradient): relative error <= 1e-5 (f32) / 1e-2 (bf16).
#include <map>
#include <utility>

#include "cuda_bench.h"

namespace {

namespace gpu = bench::gpu;
using strata::DType;
using strata::Shape;
using strata::Tensor;

struct Inputs {
  Tensor x_cpu, t_cpu, x, t;
};
const Inputs& inputs(DType dt, int64_t rows, int64_t classes) {
  static std::map<std::tuple<DType, int64_t, int64_t>, Inputs> cache;
  const auto key = std::make_tuple(dt, rows, classes);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Inputs in;
  in.x_cpu = gpu::random_cpu({rows, classes}, dt, 21, -4.0, 4.0);
  strata::Generator gen(22);
  in.t_cpu = strata::randint(0, classes, {rows}, {.dtype = DType::I64}, &gen);
  in.x = gpu::on_gpu(in.x_cpu);
  in.t = gpu::on_gpu(in.t_cpu);
  return cache.emplace(key, std::move(in)).first->second;
}

enum class Op { softmax, log_softmax, cross_entropy_fwd_bwd };
const char* op_name(Op op) {
  return op == Op::softmax ? "softmax" : op == Op::log_softmax ? "log_softmax" : "cross_entropy_fwd_bwd";
}

void run_case(benchmark::State& st, const std::string& name, Op op, DType dt, int64_t rows, int64_t classes) {
  const Inputs& in = inputs(dt, rows, classes);
  const double tol = dt == DType::F32 ? 1e-5 : 1e-2;
  const double numel = static_cast<double>(rows) * static_cast<double>(classes);
  const double esize = static_cast<double>(strata::dtype_size(dt));
  if (op != Op::cross_entropy_fwd_bwd) {
    auto f = [op](const Tensor& x) { return op == Op::softmax ? strata::softmax(x, -1) : strata::log_softmax(x, -1); };
    Tensor out = f(in.x);
    if (!gpu::check_close(st, name, f(in.x_cpu), out, tol)) return;
    const double s = gpu::time_calls(st, [&] { out = f(in.x); });
    gpu::report_bandwidth(st, name, 2.0 * numel * esize, s);
    return;
  }
  // Forward + backward: leaves whose gradient is reset (untimed) before each call.
  Tensor x_cpu = in.x_cpu.detach().requires_grad_(true);
  Tensor x = in.x.detach().requires_grad_(true);
  const Tensor loss_cpu = strata::cross_entropy(x_cpu, in.t_cpu);
  loss_cpu.backward();
  const Tensor loss = strata::cross_entropy(x, in.t);
  loss.backward();
  if (!gpu::check_close(st, name + " loss", loss_cpu, loss, tol)) return;
  if (!gpu::check_close(st, name + " grad", x_cpu.grad(), x.grad(), tol)) return;
  const double s = gpu::time_calls(
      st, [&] { strata::cross_entropy(x, in.t).backward(); }, [&] { x.zero_grad(); });
  gpu::report_bandwidth(st, name, 3.0 * numel * esize, s);
}

const bool registered = [] {
  for (const auto& [rows, classes] : std::vector<std::pair<int64_t, int64_t>>{{4096, 32000}, {65536, 1000}})
    for (Op op : {Op::softmax, Op::log_softmax, Op::cross_entropy_fwd_bwd})
      for (DType dt : {DType::F32, DType::BF16}) {
        const std::string name = std::string(op_name(op)) + "_" + gpu::dtype_str(dt) + "_" + std::to_string(rows) +
                                 "x" + std::to_string(classes);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [=](benchmark::State& st) { gpu::guarded(st, name, [&] { run_case(st, name, op, dt, rows, classes); }); })
            ->UseManualTime()
            ->Iterations(gpu::kTimedCalls)
            ->Unit(benchmark::kMicrosecond);
      }
  return true;
}();

void headline() {
  for (const char* op : {"softmax_f32", "log_softmax_f32", "cross_entropy_fwd_bwd_f32"}) {
    const auto [name, gbs] = gpu::best("GB/s", op);
    const auto pct = gpu::results().figures[name]["pct_HBM"];
    std::printf("headline: %s best %.0f GB/s = %.1f%% of HBM peak (%s)\n", op, gbs, pct, name.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) { return gpu::main(argc, argv, "bench_cuda_softmax", headline); }
