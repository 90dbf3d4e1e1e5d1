#include <chrono>
#include <cstdio>
#include <vector>
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/parallel.h"
using namespace strata::kernels::cpu;
template <class F> double time_ms(F f, int reps = 20) {
  f();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}
int main() {
  strata::set_num_threads(2);
  const int B = 32, H = 1152, G = 4 * H;
  std::vector<float> W(G * H, 0.01f), h(B * H, 0.5f), out(B * G), outT(G * B), dA(B * G, 0.1f), dh(B * H), dhT(H * B);
  double fl = 2.0 * B * G * H;
  auto r = [&](const char* n, double ms) { std::printf("%-40s %8.3f ms %7.1f GFLOP/s\n", n, ms, fl / ms * 1e-6); };
  r("fwd h@W^T (m=32,tb)", time_ms([&] { gemm_f32(false, true, B, G, H, 1, h.data(), H, W.data(), H, 0, out.data(), G); }));
  r("fwd W@h^T (m=4608,n=32)", time_ms([&] { gemm_f32(false, true, G, B, H, 1, W.data(), H, h.data(), H, 0, outT.data(), B); }));
  r("bwd dA@W (m=32)", time_ms([&] { gemm_f32(false, false, B, H, G, 1, dA.data(), G, W.data(), H, 0, dh.data(), H); }));
  r("bwd W^T@dA^T (m=1152,n=32)", time_ms([&] { gemm_f32(true, true, H, B, G, 1, W.data(), H, dA.data(), G, 0, dhT.data(), B); }));
}
