// The demo: a small CNN (apps/examples/fashion_cnn.h) trained on Fashion-MNIST (Debian's
// dataset-fashion-mnist) with train::Learner, the way fastai's lesson notebooks do it:
//
//   1. a DataBlock over the images: ImageBlock(BW) + CategoryBlock with the class names, the
//      test images as the validation set, aug_transforms + Normalize on each batch, and a
//      show_batch picture of the first (augmented, decoded) training batch,
//   2. lr_find: sweep the learning rate, plot loss against it, pick the "slide" suggestion
//      (on augmented batches the loss curve's long flat start drags fastai's default "valley"
//      down to ~8e-4, which trains to ~2 points less in the same epochs),
//   3. fit_one_cycle with accuracy and error rate in the progress table,
//   4. plot the training / validation loss and the lr / momentum schedule,
//   5. save the weights, load them into a fresh model and report its test accuracy.
//
// Everything it writes goes to --out-dir (default ./fashion_mnist_out):
//   show_batch.png, lr_find.png, loss.png, schedule.png (lr) and schedule_mom.png (momentum),
//   models/fashion_cnn.safetensors
//
//   scripts/demo                                   # = build/apps/fashion_mnist
//   build/apps/fashion_mnist --epochs 1 --lr 3e-3  # a quicker look, fixed learning rate
//
// Measured on the quiet 2-core machine, default options: 91.86% test accuracy, 148 s in all
// (lr_find 4 s, 8 epochs of 17-18 s); the same seed gives the same table.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "apps/examples/fashion_cnn.h"
#include "data/augment.h"
#include "data/block_vision.h"
#include "data/datablock.h"
#include "data/mnist_items.h"
#include "kernels/cpu/parallel.h"
#include "train/callbacks/recorder.h"
#include "train/from_data.h"
#include "train/learner.h"

namespace {

using namespace strata;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Accuracy and cross-entropy are what the table shows; the loss is fastai's flattened cross-entropy.
train::Learner make_learner(const train::DataLoaders& dls, nn::ModulePtr model, const std::filesystem::path& out,
                            bool progress) {
  return train::Learner(dls, std::move(model),
                        {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>(),
                         .metrics = {train::accuracy(), train::error_rate()},
                         .path = out,
                         .progress = progress});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST: a small CNN trained with Strata's Learner and fit_one_cycle"};
  int epochs = 8, threads = 0, workers = 1;
  bool augment = true;
  int64_t batch_size = 128;
  double lr = 0;
  uint64_t seed = 42;
  std::string data_dir = data::fashion_mnist_dir().string(), out_dir = "fashion_mnist_out";
  app.add_option("--epochs", epochs, "passes over the 60000 training images")->check(CLI::Range(1, 100));
  app.add_option("--lr", lr, "maximum learning rate of the one-cycle schedule (default: lr_find's slide)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", batch_size, "images per step")->check(CLI::Range(1, 60000));
  app.add_option("--seed", seed, "seed of the initialization and the shuffling");
  app.add_option("--threads", threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--workers", workers, "loader worker threads (0: load in the training thread)")
      ->check(CLI::Range(0, 64));
  app.add_flag("--augment,!--no-augment", augment, "aug_transforms on the training batches (default on)");
  app.add_option("--data-dir", data_dir, "directory with the four Fashion-MNIST IDX files");
  app.add_option("--out-dir", out_dir, "where the plots and the saved model go");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto start = Clock::now();
    if (threads > 0) set_num_threads(threads);
    if (!data::has_mnist(data_dir, "train") || !data::has_mnist(data_dir, "t10k")) {
      fmt::print(stderr, "Fashion-MNIST not found in {} (install the Debian package dataset-fashion-mnist: scripts/setup)\n",
                 data_dir);
      return 1;
    }
    const std::filesystem::path out = out_dir;
    std::filesystem::create_directories(out);
    // Clothes are upright and centred: flips and small rotations/zooms help, perspective warp
    // does not (fastai's defaults otherwise).
    const data::AugOptions aug{.do_flip = augment, .max_rotate = augment ? 10.0 : 0.0,
                               .max_zoom = augment ? 1.1 : 1.0, .max_lighting = augment ? 0.2 : 0.0,
                               .max_warp = 0.0};

    // 1. Data: the IDX files as a DataBlock source (items are row numbers; the getters make a
    //    28x28 BW image and its class name per row), the 10000 test images as the validation set.
    const data::MnistItems fashion(data::load_mnist(data_dir, "train"), data::load_mnist(data_dir, "t10k"),
                                   data::fashion_mnist_classes());
    std::vector<data::TfmPtr> batch_tfms = data::aug_transforms(aug);
    batch_tfms.push_back(std::make_shared<data::Normalize>());  // stats learnt from one batch
    const data::DataBlock block({.blocks = {data::ImageBlock(data::ImageMode::BW),
                                            data::CategoryBlock(fashion.vocab(), /*sort=*/false)},
                                 .get_x = fashion.image_getter(),
                                 .get_y = fashion.label_getter(),
                                 .splitter = fashion.test_splitter(),
                                 .batch_tfms = batch_tfms});
    const data::DataLoaders data_dls = block.dataloaders(
        data::Item::list(fashion.items()),
        {.bs = batch_size, .val_bs = 512, .seed = seed, .num_workers = workers});
    data_dls.show_batch(out / "show_batch.png", {.max_n = 16, .min_cell = 112});
    const train::DataLoaders dls = train::from_data(data_dls);
    fmt::print("Fashion-MNIST: {} train / {} test images; batch {}, {} thread(s), {} loader worker(s); "
               "show_batch: {}\n",
               fashion.n_train(), fashion.n_test(), batch_size, get_num_threads(), workers,
               (out / "show_batch.png").string());

    manual_seed(seed);
    auto model = examples::fashion_cnn();
    fmt::print("{}\n", nn::summary(*model, {batch_size, 1, 28, 28}));
    train::Learner learn = make_learner(dls, model, out, /*progress=*/true);

    // 2. Learning rate finder (it restores the weights afterwards).
    const auto t_find = Clock::now();
    const auto found = learn.lr_find({.plot = out / "lr_find.png"});
    fmt::print("lr_find ({:.0f} s): valley {:.2e}, slide {:.2e}, minimum {:.2e}, steep {:.2e}; plot: {}\n",
               seconds_since(t_find), found.valley, found.slide, found.minimum, found.steep,
               (out / "lr_find.png").string());
    if (lr <= 0) lr = found.slide;

    // 3. Train: one cycle, lr warming up to lr and annealing down; momentum the other way.
    fmt::print("fit_one_cycle({}, lr_max={:.2e})\n", epochs, lr);
    std::fflush(stdout);
    const auto t_fit = Clock::now();
    learn.fit_one_cycle(epochs, {.lr_max = lr});
    const double fit_s = seconds_since(t_fit);

    // 4. Plots (before anything validates again: that restarts the Recorder).
    learn.recorder().plot_loss(out / "loss.png");
    learn.recorder().plot_sched(out / "schedule.png");

    // 5. Save, reload into a fresh model, evaluate on the test set.
    const auto saved = learn.save("fashion_cnn", /*with_opt=*/false);
    train::Learner reloaded = make_learner(dls, examples::fashion_cnn(), out, /*progress=*/false);
    reloaded.load("fashion_cnn", /*with_opt=*/false);
    const train::Preds preds = reloaded.get_preds({.with_decoded = true});
    const double accuracy = mean(eq(preds.decoded, preds.targets).to(DType::F32)).item<double>();

    fmt::print("plots: {}, {}, {}\n", (out / "lr_find.png").string(), (out / "loss.png").string(),
               (out / "schedule.png").string());
    fmt::print("model saved to {} and reloaded into a fresh model\n", saved.string());
    fmt::print("test accuracy of the reloaded model: {:.2f}% ({} images); training {:.0f} s, total {:.0f} s\n",
               100.0 * accuracy, preds.targets.size(0), fit_s, seconds_since(start));
  } catch (const Error& e) {
    fmt::print(stderr, "fashion_mnist: {}\n", e.what());
    return 1;
  }
  return 0;
}
