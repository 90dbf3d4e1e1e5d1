// Google Benchmark of one training step's compute for fastai's xresnet18 (n_out 10): forward,
// cross-entropy against fixed labels, backward, at batch 32 on 64x64 RGB inputs, in training mode
// (batch-norm batch statistics). Counter "images/s" = 32 / median step time (bench/median_timer.h).
//   xresnet18_fwdbwd_b32_64px  - forward + loss + backward
//   xresnet18_fwd_b32_64px     - forward only, no grad, eval mode (inference)
//
// PyTorch counterpart: no peer-script case exists, so the bench carries its own (kPeerScript below:
// fastai's XResNet written out with plain torch.nn, same layers, order and state dict keys; the
// median of 8 steps after 2 warm-ups). It runs it with /usr/bin/python3 the way
// shared/peers/run-tuned runs PyTorch (jemalloc preloaded when present, OMP_NUM_THREADS = the
// strata thread count), best of STRATA_PEER_REPEATS (default 2) runs, and prints strata/pytorch.
// STRATA_BENCH_PEER=0 skips it; without PyTorch the ratio reads "n/a".
//
// Threads: STRATA_NUM_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "autograd/grad_mode.h"
#include "kernels/cpu/parallel.h"
#include "median_timer.h"
#include "nn/xresnet.h"
#include "strata.h"

namespace {

using strata::Tensor;

constexpr int64_t kBatch = 32, kSize = 64, kClasses = 10;

// Figures of the last run of each benchmark, for the ratio printed at the end.
std::map<std::string, double> g_strata;

const char* kPeerScript = R"PY(
import statistics, time, torch, torch.nn as nn, torch.nn.functional as F
def cl(ni, nf, ks=3, stride=1, zero=False, act=True):
    bn = nn.BatchNorm2d(nf); nn.init.constant_(bn.weight, 0. if zero else 1.)
    l = [nn.Conv2d(ni, nf, ks, stride, ks // 2, bias=False), bn]
    return nn.Sequential(*(l + [nn.ReLU()] if act else l))
class Res(nn.Module):
    def __init__(s, ni, nf, stride):
        super().__init__()
        s.convpath = nn.Sequential(cl(ni, nf, stride=stride), cl(nf, nf, zero=True, act=False))
        idp = [cl(ni, nf, 1, act=False)] if ni != nf else []
        if stride != 1: idp.insert(0, nn.AvgPool2d(stride, ceil_mode=True))
        s.idpath = nn.Sequential(*idp)
    def forward(s, x): return F.relu(s.convpath(x) + s.idpath(x))
szs = [64, 64, 128, 256, 512]
m = nn.Sequential(cl(3, 32, stride=2), cl(32, 32), cl(32, 64), nn.MaxPool2d(3, 2, 1),
    *[nn.Sequential(*[Res(szs[i] if j == 0 else szs[i+1], szs[i+1], 1 if i == 0 or j else 2)
                      for j in range(2)]) for i in range(4)],
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.), nn.Linear(512, 10))
x, y = torch.randn(32, 3, 64, 64), torch.randint(0, 10, (32,))
ts = []
for i in range(10):
    t = time.perf_counter(); m.zero_grad(); F.cross_entropy(m(x), y).backward(); ts.append(time.perf_counter() - t)
print("xresnet18_fwdbwd_b32_64px", 32 / statistics.median(ts[2:]))
m.eval(); ts = []
with torch.no_grad():
    for i in range(10):
        t = time.perf_counter(); m(x); ts.append(time.perf_counter() - t)
print("xresnet18_fwd_b32_64px", 32 / statistics.median(ts[2:]))
)PY";

std::map<std::string, double> torch_figures(int threads) {
  std::map<std::string, double> out;
  if (const char* skip = std::getenv("STRATA_BENCH_PEER"); skip && std::string(skip) == "0") return out;
  if (!std::filesystem::exists("/usr/bin/python3")) return out;
  const auto script = std::filesystem::temp_directory_path() / "strata_bench_xresnet_peer.py";
  std::ofstream(script) << kPeerScript;
  std::string env = "OMP_NUM_THREADS=" + std::to_string(threads);
  if (std::filesystem::exists("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"))
    env += " LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1";
  const std::string cmd =
      "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE " + env + " /usr/bin/python3 " + script.string() + " 2>/dev/null";
  int repeats = 2;
  if (const char* r = std::getenv("STRATA_PEER_REPEATS")) repeats = std::max(1, std::atoi(r));
  for (int rep = 0; rep < repeats; ++rep) {
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) break;
    char line[256];
    while (std::fgets(line, sizeof line, p)) {
      std::istringstream in(line);
      std::string name;
      double figure = 0;
      if (in >> name >> figure) out[name] = std::max(out[name], figure);
    }
    pclose(p);
  }
  std::filesystem::remove(script);
  return out;
}

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
  g_strata["xresnet18_fwdbwd_b32_64px"] = kBatch / timer.median_seconds();
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
  g_strata["xresnet18_fwd_b32_64px"] = kBatch / timer.median_seconds();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) threads = std::max(1, std::atoi(env));
  strata::set_num_threads(threads);
  // Ten steps each (a step takes about a second): the median then skips the cold first one.
  benchmark::RegisterBenchmark("xresnet18_fwdbwd_b32_64px", fwdbwd)
      ->Iterations(10)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("xresnet18_fwd_b32_64px", fwd)
      ->Iterations(10)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto torch = torch_figures(threads);
  for (const auto& [name, mine] : g_strata) {
    auto it = torch.find(name);
    if (it == torch.end() || it->second <= 0)
      std::printf("%-28s strata %8.2f images/s   pytorch n/a\n", name.c_str(), mine);
    else
      std::printf("%-28s strata %8.2f images/s   pytorch %8.2f images/s   strata/pytorch %.2fx\n", name.c_str(), mine,
                  it->second, mine / it->second);
  }
  return 0;
}
