// Google Benchmark of one training step's compute for fastai's xresnet18 (n_out 10): forward,
// cross-entropy against fixed labels, backward, at batch 32 on 64x64 RGB inputs, in training mode
// (batch-norm batch statistics). Counter "images/s" = 32 / median step time (bench/median_timer.h).
//   xresnet18_fwdbwd_b32_64px  - forward + loss + backward
//   xresnet18_fwd_b32_64px     - forward only, no grad, eval mode (inference)
//
// PyTorch counterpart (no peer-script case exists; fastai's XResNet written out with plain
// torch.nn, same layers and order; run with OMP_NUM_THREADS=2 to match STRATA_NUM_THREADS=2):
//
//   import torch, torch.nn as nn, torch.nn.functional as F, time
//   def cl(ni, nf, ks=3, stride=1, zero=False, act=True):
//       bn = nn.BatchNorm2d(nf); nn.init.constant_(bn.weight, 0. if zero else 1.)
//       l = [nn.Conv2d(ni, nf, ks, stride, ks // 2, bias=False), bn]
//       return nn.Sequential(*(l + [nn.ReLU()] if act else l))
//   class Res(nn.Module):
//       def __init__(s, ni, nf, stride):
//           super().__init__()
//           s.convpath = nn.Sequential(cl(ni, nf, stride=stride), cl(nf, nf, zero=True, act=False))
//           id = [cl(ni, nf, 1, act=False)] if ni != nf else []
//           if stride != 1: id.insert(0, nn.AvgPool2d(stride, ceil_mode=True))
//           s.idpath = nn.Sequential(*id)
//       def forward(s, x): return F.relu(s.convpath(x) + s.idpath(x))
//   szs = [64, 64, 128, 256, 512]
//   m = nn.Sequential(cl(3, 32, stride=2), cl(32, 32), cl(32, 64), nn.MaxPool2d(3, 2, 1),
//       *[nn.Sequential(*[Res(szs[i] if j == 0 else szs[i+1], szs[i+1], 1 if i == 0 or j else 2)
//                         for j in range(2)]) for i in range(4)],
//       nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.), nn.Linear(512, 10))
//   x, y = torch.randn(32, 3, 64, 64), torch.randint(0, 10, (32,))
//   for i in range(13):
//       if i == 3: t = time.perf_counter()
//       m.zero_grad(); F.cross_entropy(m(x), y).backward()
//   print(32 * 10 / (time.perf_counter() - t), "images/s")
//
// Threads: STRATA_NUM_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>

#include "autograd/grad_mode.h"
#include "kernels/cpu/parallel.h"
#include "median_timer.h"
#include "nn/xresnet.h"
#include "strata.h"

namespace {

using strata::Tensor;

constexpr int64_t kBatch = 32, kSize = 64, kClasses = 10;

struct Setup {
  std::shared_ptr<strata::nn::XResNet> model = strata::nn::xresnet18({.n_out = kClasses});
  Tensor x, y;
  Setup() {
    strata::Generator gen(1);
    x = strata::randn({kBatch, 3, kSize, kSize}, {}, &gen);
    y = strata::randint(0, kClasses, {kBatch}, {.dtype = strata::DType::I64}, &gen);
  }
};

void fwdbwd(benchmark::State& state) {
  Setup s;
  s.model->train();
  bench::MedianTimer timer;
  for (auto _ : state) {
    timer.time([&] {
      s.model->zero_grad();
      Tensor loss = strata::cross_entropy((*s.model)(s.x), s.y);
      loss.backward();
      benchmark::DoNotOptimize(loss.raw_data());
    });
  }
  state.counters["images/s"] = timer.rate(static_cast<double>(kBatch));
}

void fwd(benchmark::State& state) {
  Setup s;
  s.model->eval();
  strata::NoGradGuard no_grad;
  bench::MedianTimer timer;
  for (auto _ : state) {
    timer.time([&] {
      Tensor out = (*s.model)(s.x);
      benchmark::DoNotOptimize(out.raw_data());
    });
  }
  state.counters["images/s"] = timer.rate(static_cast<double>(kBatch));
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  benchmark::RegisterBenchmark("xresnet18_fwdbwd_b32_64px", fwdbwd)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("xresnet18_fwd_b32_64px", fwd)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
