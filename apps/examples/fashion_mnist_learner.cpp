// Draft of the Learner-based Fashion-MNIST demo: a small CNN (conv-BN-ReLU blocks, stride-2
// downsampling, average pool, linear head) trained with fit_one_cycle through train::Learner.
// It runs lr_find (plot), trains with the progress table, writes loss / schedule plots, saves
// the model, reloads it into a fresh model and reports test accuracy.
//
//   build/apps/fashion_mnist_learner --epochs 3 --out fmnist_run
//   build/apps/fashion_mnist_learner --epochs 1 --limit 6000   # a quick look
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>

#include "data/mnist.h"
#include "kernels/cpu/parallel.h"
#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "tensor/ops.h"
#include "train/callbacks/recorder.h"
#include "train/learner.h"

using namespace strata;

namespace {

std::vector<nn::ModulePtr> conv_block(int64_t cin, int64_t cout, int64_t stride) {
  return {std::make_shared<nn::Conv2d>(cin, cout, 3, nn::ConvOptions{.stride = stride, .padding = 1, .bias = false}),
          std::make_shared<nn::BatchNorm2d>(cout), std::make_shared<nn::ReLU>()};
}

std::shared_ptr<nn::Sequential> small_cnn() {
  std::vector<nn::ModulePtr> layers;
  auto add = [&](std::vector<nn::ModulePtr> b) { layers.insert(layers.end(), b.begin(), b.end()); };
  add(conv_block(1, 16, 1));   // 28
  add(conv_block(16, 32, 2));  // 14
  add(conv_block(32, 64, 2));  // 7
  add(conv_block(64, 128, 2)); // 4
  layers.push_back(std::make_shared<nn::AdaptiveAvgPool2d>(1));
  layers.push_back(std::make_shared<nn::Flatten>());
  layers.push_back(std::make_shared<nn::Linear>(128, 10));
  return std::make_shared<nn::Sequential>(layers);
}

// u8 [N, 28, 28] → f32 [N, 1, 28, 28], normalized with the training set's statistics.
Tensor to_input(const Tensor& images, double mean_px, double std_px) {
  return ((images.to(DType::F32) / 255.0 - mean_px) / std_px).unsqueeze(1).contiguous();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST with train::Learner: a small CNN and fit_one_cycle"};
  int epochs = 3, threads = 0;
  int64_t bs = 128, limit = 0;
  double lr = 0;  // 0: use lr_find's valley
  uint64_t seed = 42;
  std::string data_dir = data::fashion_mnist_dir().string(), out = "fashion_mnist_learner";
  app.add_option("--epochs", epochs)->check(CLI::Range(1, 100));
  app.add_option("--lr", lr, "max learning rate (default: from lr_find)");
  app.add_option("--batch-size", bs)->check(CLI::Range(1, 60000));
  app.add_option("--limit", limit, "use only the first N training images (0: all)");
  app.add_option("--seed", seed);
  app.add_option("--threads", threads)->check(CLI::Range(0, 1024));
  app.add_option("--data-dir", data_dir);
  app.add_option("--out", out, "directory for plots and the saved model");
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    if (!data::has_mnist(data_dir, "train") || !data::has_mnist(data_dir, "t10k")) {
      fmt::print(stderr, "Fashion-MNIST not found in {} (Debian package dataset-fashion-mnist)\n", data_dir);
      return 1;
    }
    auto tr = data::load_mnist(data_dir, "train");
    auto te = data::load_mnist(data_dir, "t10k");
    Tensor tx = tr.images, ty = tr.labels;
    if (limit > 0 && limit < tx.size(0)) {
      tx = tx.slice(0, 0, limit);
      ty = ty.slice(0, 0, limit);
    }
    Tensor f = tx.to(DType::F32) / 255.0;
    double m = mean(f).item(), s = strata::std(f).item();
    Tensor x_train = to_input(tx, m, s), x_test = to_input(te.images, m, s);

    manual_seed(seed);
    train::DataLoaders dls{
        std::make_shared<train::TensorLoader>(std::vector<Tensor>{x_train, ty.contiguous()},
                                              train::TensorLoaderOptions{.bs = bs, .shuffle = true, .drop_last = true, .seed = seed}),
        std::make_shared<train::TensorLoader>(std::vector<Tensor>{x_test, te.labels},
                                              train::TensorLoaderOptions{.bs = 512})};
    auto model = small_cnn();
    train::Learner learn(dls, model,
                         {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>(),
                          .metrics = {train::accuracy(), train::error_rate()},
                          .path = out});
    fmt::print("{} training images, batch {}, {} thread(s)\n", x_train.size(0), bs, get_num_threads());

    if (lr <= 0) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = learn.lr_find({.plot = std::filesystem::path(out) / "lr_find.png"});
      lr = r.valley;
      fmt::print("lr_find ({:.1f} s): valley {:.2e}, slide {:.2e}, minimum {:.2e}, steep {:.2e} -> lr_max {:.2e}\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), r.valley, r.slide,
                 r.minimum, r.steep, lr);
    }
    learn.fit_one_cycle(epochs, {.lr_max = lr});
    learn.recorder().plot_loss(std::filesystem::path(out) / "loss.png");
    learn.recorder().plot_sched(std::filesystem::path(out) / "sched.png");
    auto saved = learn.save("fashion_mnist_cnn", /*with_opt=*/false);

    // Reload into a fresh model and measure test accuracy.
    auto fresh = small_cnn();
    train::Learner again(dls, fresh, {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>(), .path = out,
                                      .progress = false});
    again.load("fashion_mnist_cnn", /*with_opt=*/false);
    auto preds = again.get_preds({.with_decoded = true});
    double acc = mean(eq(preds.decoded, preds.targets).to(DType::F32)).item();
    fmt::print("saved {}; reloaded model: test accuracy {:.2f}%\n", saved.string(), 100 * acc);
  } catch (const Error& e) {
    fmt::print(stderr, "fashion_mnist_learner: {}\n", e.what());
    return 1;
  }
  return 0;
}
