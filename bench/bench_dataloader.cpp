// DataLoader throughput: items/s through a full pipeline (create_item -> item transforms ->
// collate -> batch transforms) with 0, 1 and 2 worker threads, one epoch per iteration.
//   synthetic: each item builds a [3, 32, 32] f32 TensorImage and runs a RandTransform (noise
//              from the per-batch Rng) and an elementwise item transform: CPU-bound transforms.
//   mnist_tiny: the fastai MNIST DataBlock (PNG decode through ImageBlock(BW), Categorize,
//              ToTensor, IntToFloatTensor) over ../shared/data/mnist_tiny's 1,428 files, when present.
// Worker results are checked identical to num_workers = 0 before timing (the loader's contract).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "data/datablock.h"
#include "data/files.h"
#include "data/labellers.h"
#include "median_timer.h"
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

void BM_MnistTiny(benchmark::State& state) {
  const fs::path root = mnist_tiny();
  if (root.empty()) {
    state.SkipWithError("../shared/data/mnist_tiny not present");
    return;
  }
  DataBlock db({.blocks = {ImageBlock(ImageMode::BW), CategoryBlock()},
                .get_items = [](const Item& p) { return to_items(get_image_files(item_path(p))); },
                .get_y = parent_label,
                .splitter = GrandparentSplitter()});
  const int workers = static_cast<int>(state.range(0));
  DataLoaders dls = db.dataloaders(Item(root), {.bs = kBs, .seed = 0, .num_workers = workers});
  DataLoaders ref = dls.new_([](DataLoaderOptions& o) { o.num_workers = 0; });
  if (checksum(ref.train()) != checksum(dls.train())) state.SkipWithError("workers changed the batches");
  bench::MedianTimer timer;
  for (auto _ : state) timer.time([&] {
      for (const Batch& b : dls.train()) benchmark::DoNotOptimize(b[0].raw_data());
    });
  state.counters["items/s"] = timer.rate(static_cast<double>(dls.train().size() * kBs));
}
BENCHMARK(BM_MnistTiny)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
