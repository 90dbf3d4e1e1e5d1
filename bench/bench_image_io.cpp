// Image loading throughput on one thread (images/s), the item half of a vision DataLoader:
//   jpeg_rrc224      decode a 500x375 JPEG + RandomResizedCrop to 224x224 (the ImageNet path)
//   jpeg_resize224   decode + Resize(224, Crop) (fastai's validation path)
//   jpeg_decode      decode only (what the two above spend on stb)
//   resize_500x375_to_224  the bilinear resize alone
//   mnist_tiny_png   decode mnist_tiny's 28x28 PNGs (../shared/data, skipped when absent) + ToTensor
// The synthetic JPEGs (smooth gradients plus noise, quality 90, so they compress like photos) are
// written once to a temporary folder. Figures are per median call of a 16-image batch.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "data/image.h"
#include "data/image_ops.h"
#include "median_timer.h"

namespace fs = std::filesystem;
using namespace strata::data;

namespace {

constexpr int kBatch = 16;

struct JpegSet {
  fs::path dir;
  std::vector<fs::path> files;
  JpegSet() {
    dir = fs::temp_directory_path() / ("strata_bench_jpeg_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::mt19937_64 rng(1);
    for (int i = 0; i < kBatch; ++i) {
      Image img(375, 500, 3);
      for (int y = 0; y < img.h; ++y)
        for (int x = 0; x < img.w; ++x) {
          const int n = int(rng() % 24);
          img.at(y, x, 0) = uint8_t((x * 255 / img.w + n + i * 13) & 255);
          img.at(y, x, 1) = uint8_t((y * 255 / img.h + n) & 255);
          img.at(y, x, 2) = uint8_t(((x + y) / 4 + n) & 255);
        }
      files.push_back(dir / ("img" + std::to_string(i) + ".jpg"));
      save_jpeg(img, files.back(), 90);
    }
  }
  ~JpegSet() { fs::remove_all(dir); }
};

JpegSet& jpegs() {
  static JpegSet set;
  return set;
}

void BM_jpeg_decode(benchmark::State& state) {
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      for (const auto& f : jpegs().files) benchmark::DoNotOptimize(load_image(f).data.data());
    });
  state.counters["images/s"] = timer.rate(kBatch);
}

void BM_jpeg_rrc224(benchmark::State& state) {
  bench::MedianTimer timer;
  std::mt19937_64 rng(7);
  for (auto _ : state)
    timer.time([&] {
      for (const auto& f : jpegs().files) {
        const Image img = load_image(f);
        const auto d = draw_random_resized_crop({img.h, img.w}, {224, 224}, true, rng);
        benchmark::DoNotOptimize(apply_random_resized_crop(img, {224, 224}, d).data.data());
      }
    });
  state.counters["images/s"] = timer.rate(kBatch);
}

void BM_jpeg_resize224(benchmark::State& state) {
  bench::MedianTimer timer;
  std::mt19937_64 rng(7);
  for (auto _ : state)
    timer.time([&] {
      for (const auto& f : jpegs().files) {
        const Image img = load_image(f);
        benchmark::DoNotOptimize(
            resize_method(img, {224, 224}, ResizeMethod::Crop, PadMode::Reflection, false, rng).data.data());
      }
    });
  state.counters["images/s"] = timer.rate(kBatch);
}

void BM_resize_500x375_to_224(benchmark::State& state) {
  const Image img = load_image(jpegs().files[0]);
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(resize(img, {224, 224}).data.data());
    });
  state.counters["images/s"] = timer.rate(kBatch);
}

void BM_mnist_tiny_png(benchmark::State& state) {
  // ../shared/data relative to the project root (the working directory, or one more level up for
  // a git worktree under wt/).
  fs::path root;
  for (const fs::path& base : {fs::path("..") / "shared" / "data", fs::path("..") / ".." / "shared" / "data"})
    if (fs::is_directory(base / "mnist_tiny" / "train")) {
      root = base / "mnist_tiny" / "train";
      break;
    }
  std::vector<fs::path> files;
  if (!root.empty())
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.path().extension() == ".png") files.push_back(e.path());
  if (files.empty()) {
    state.SkipWithError("../shared/data/mnist_tiny is absent");
    return;
  }
  bench::MedianTimer timer;
  for (auto _ : state)
    timer.time([&] {
      for (const auto& f : files) benchmark::DoNotOptimize(image_to_tensor_bw(load_image(f, ImageMode::Gray)));
    });
  state.counters["images/s"] = timer.rate(double(files.size()));
}

}  // namespace

BENCHMARK(BM_jpeg_decode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_jpeg_rrc224)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_jpeg_resize224)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_resize_500x375_to_224)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mnist_tiny_png)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
