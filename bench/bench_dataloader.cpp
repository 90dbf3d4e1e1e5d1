// DataLoader throughput: items/s through a full pipeline (create_item -> item transforms ->
// collate -> batch transforms) with 0, 1 and 2 worker threads, one epoch per iteration.
//   synthetic: each item builds a [3, 32, 32] f32 TensorImage and runs a RandTransform (noise
//              from the per-batch Rng) and an elementwise item transform: CPU-bound transforms.
//   mnist_tiny: the fastai MNIST DataBlock (PNG decode through ImageBlock(BW), Categorize,
//              ToTensor, IntToFloatTensor) over ../shared/data/mnist_tiny's 1,428 files, when present.
//   jpeg224_rrc / jpeg224_resize: the 224px training path on 512 synthetic 320x240 JPEGs (written
//              once by Strata's encoder into a temp folder, two class folders): ImageBlock decode,
//              RandomResizedCrop(224) or Resize(224) item transforms, ToTensor, collate,
//              IntToFloatTensor.
// Worker results are checked identical to num_workers = 0 before timing (the loader's contract).
//
// Peer: bench/peers/torchvision_loader.py does the same work with torchvision's DataLoader (same
// files, batch size 64, shuffle + drop_last, the same num_workers: processes there, threads here),
// run tuned through shared/peers/run-tuned in the same sitting (bench/peer_script.h); the summary
// prints strata/torchvision items/s per case and worker count (goal >= 2). STRATA_BENCH_PEER=0
// skips it; without torch / torchvision the ratios print as n/a.
// Use --benchmark_repetitions=3: the summary takes the best repetition of each side.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "data/datablock.h"
#include "data/files.h"
#include "data/labellers.h"
#include "best_reporter.h"
#include "data/image.h"
#include "data/splitters.h"
#include "data/vision_transforms.h"
#include "median_timer.h"
#include "peer_script.h"
#include "strata.h"

using namespace strata;
using namespace strata::data;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kItems = 2048, kBs = 64;

struct Jitter : RandTransform {
  Jitter() : RandTransform("Jitter", 0.5) {
    encodes<TensorImage>([](const TensorImage& x) { return x + rng().uniform(-0.1, 0.1); });
  }
};

std::shared_ptr<const ItemSource> synthetic() {
  return std::make_shared<VectorSource>(
      [] {
        std::vector<Item> v;
        for (int64_t i = 0; i < kItems; ++i) v.emplace_back(i);
        return v;
      }(),
      0);
}

DataLoaderOptions synthetic_opts(int workers) {
  auto make = make_transform("make", [](const Item& x) {
    Tensor t = full({3, 32, 32}, static_cast<double>(x.as_int() % 255) / 255.0);
    return Item::tuple({Item(Tensor(TensorImage(t))), Item(x.as_int() % 10)});
  });
  auto norm = std::make_shared<Transform>("Normalize");
  norm->order = 20;
  norm->encodes<TensorImage>([](const TensorImage& x) { return (x - 0.5) / 0.25; });
  return {.bs = kBs, .shuffle = true, .seed = 0, .num_workers = workers, .item_tfms = {make, std::make_shared<Jitter>(), norm}};
}

double checksum(DataLoader& dl) {
  double s = 0;
  for (const Batch& b : dl) s += sum(b[0]).item<double>() + sum(b[1].to(DType::F64)).item<double>();
  return s;
}

void BM_Synthetic(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  DataLoader ref(synthetic(), synthetic_opts(0));
  DataLoader dl(synthetic(), synthetic_opts(workers));
  if (checksum(ref) != checksum(dl)) state.SkipWithError("workers changed the batches");
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] {
      for (const Batch& b : dl) benchmark::DoNotOptimize(b[0].raw_data());
    });
  state.counters["items/s"] = timer.rate(static_cast<double>(dl.size() * kBs));
}
BENCHMARK(BM_Synthetic)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// $STRATA_SHARED_DATA, else ../shared/data found from the source file or the working directory.
fs::path mnist_tiny() {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("STRATA_SHARED_DATA")) roots.emplace_back(env);
  const fs::path here = fs::absolute(fs::path(__FILE__)).parent_path();
  for (const char* up : {"../../shared/data", "../../../shared/data"}) roots.push_back(here / up);
  for (const char* up : {"../shared/data", "../../shared/data", "../../../shared/data"}) roots.push_back(fs::absolute(up));
  for (const auto& r : roots)
    if (fs::exists(r / "mnist_tiny")) return r / "mnist_tiny";
  return {};
}

void run_epochs(benchmark::State& state, DataLoaders& dls) {
  DataLoaders ref = dls.new_([](DataLoaderOptions& o) { o.num_workers = 0; });
  if (checksum(ref.train()) != checksum(dls.train())) state.SkipWithError("workers changed the batches");
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] {
      for (const Batch& b : dls.train()) benchmark::DoNotOptimize(b[0].raw_data());
    });
  state.counters["items/s"] = timer.rate(static_cast<double>(dls.train().size() * kBs));
}

void BM_MnistTiny(benchmark::State& state, int workers) {
  const fs::path root = mnist_tiny();
  if (root.empty()) {
    state.SkipWithError("../shared/data/mnist_tiny not present");
    return;
  }
  DataBlock db({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  DataLoaders dls = db.dataloaders(Item(root), {.bs = kBs, .seed = 0, .num_workers = workers});
  run_epochs(state, dls);
}

// 512 RGB 320x240 JPEGs (quality 90) in <tmp>/strata_bench_jpeg_<pid>/{a,b}/: smooth gradients
// with per-image offsets and some texture, so the files decode like photos, not flat colour.
constexpr int kJpegs = 512, kJpegH = 240, kJpegW = 320;
struct JpegFolder {
  fs::path dir;
  JpegFolder() {
    dir = fs::temp_directory_path() / ("strata_bench_jpeg_" + std::to_string(::getpid()));
    for (int i = 0; i < kJpegs; ++i) {
      Image img(kJpegH, kJpegW, 3);
      for (int y = 0; y < kJpegH; ++y)
        for (int x = 0; x < kJpegW; ++x) {
          const unsigned t = static_cast<unsigned>(x * 7 + y * 13 + i * 31) * 2654435761u;
          img.at(y, x, 0) = static_cast<uint8_t>((x + i * 5) * 255 / (kJpegW + 5 * kJpegs) + (t >> 29));
          img.at(y, x, 1) = static_cast<uint8_t>(y * 255 / kJpegH / 2 + ((x / 16 + y / 16 + i) % 2) * 100);
          img.at(y, x, 2) = static_cast<uint8_t>((x ^ y ^ i) & 0xff);
        }
      const fs::path sub = dir / (i % 2 ? "b" : "a");
      fs::create_directories(sub);
      save_jpeg(img, sub / (std::to_string(i) + ".jpg"), 90);
    }
  }
  ~JpegFolder() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};
const JpegFolder& jpegs() {
  static const JpegFolder f;
  return f;
}

void BM_Jpeg224(benchmark::State& state, int workers, bool rrc) {
  TfmPtr crop = rrc ? TfmPtr(std::make_shared<RandomResizedCrop>(HW{224, 224}))
                    : TfmPtr(std::make_shared<Resize>(HW{224, 224}));
  DataBlock db({.blocks = {ImageBlock(), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = IndexSplitter({}),
                .item_tfms = {crop}});
  DataLoaders dls = db.dataloaders(Item(jpegs().dir), {.bs = kBs, .seed = 0, .num_workers = workers});
  run_epochs(state, dls);
}

const int kWorkers[] = {0, 1, 2};
const char* kCases[] = {"mnist_tiny", "jpeg224_rrc", "jpeg224_resize"};

}  // namespace

int main(int argc, char** argv) {
  for (int w : kWorkers) {
    const std::string suffix = "_w" + std::to_string(w);
    benchmark::RegisterBenchmark(("mnist_tiny" + suffix).c_str(), BM_MnistTiny, w)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("jpeg224_rrc" + suffix).c_str(), BM_Jpeg224, w, true)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("jpeg224_resize" + suffix).c_str(), BM_Jpeg224, w, false)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::BestReporter reporter("items/s");
  benchmark::RunSpecifiedBenchmarks(&reporter);

  // The peer on the same files and worker counts (only the cases that ran here).
  std::string workers, args;
  bool any_jpeg = false, any_mnist = false;
  for (int w : kWorkers) {
    const std::string sw = std::to_string(w);
    const bool mnist = reporter.best("mnist_tiny_w" + sw) > 0;
    const bool jpeg = reporter.best("jpeg224_rrc_w" + sw) > 0 || reporter.best("jpeg224_resize_w" + sw) > 0;
    if (mnist || jpeg) workers += (workers.empty() ? "" : ",") + sw;
    any_mnist = any_mnist || mnist;
    any_jpeg = any_jpeg || jpeg;
  }
  if (any_mnist && !mnist_tiny().empty()) args += " --mnist '" + mnist_tiny().string() + "'";
  if (any_jpeg) args += " --jpeg '" + jpegs().dir.string() + "'";
  std::map<std::string, double> peer;
  if (!args.empty()) peer = bench::script_figures("torchvision_loader.py", args + " --workers " + workers);
  std::printf("\nsummary (items/s over one epoch, best repetition; ratio = strata / torchvision at the same "
              "num_workers; goal >= 2.0)\n");
  for (const char* c : kCases)
    for (int w : kWorkers) {
      const std::string name = std::string(c) + "_w" + std::to_string(w);
      const double s = reporter.best(name);
      if (s <= 0) continue;
      auto it = peer.find("torchvision_" + name);
      if (it != peer.end() && it->second > 0)
        std::printf("  %-24s strata %9.1f  torchvision %9.1f  ratio %.2f\n", name.c_str(), s, it->second,
                    s / it->second);
      else
        std::printf("  %-24s strata %9.1f  torchvision       n/a\n", name.c_str(), s);
    }
  benchmark::Shutdown();
  return 0;
}
