// Softmax regression on Fashion-MNIST (from Debian's dataset-fashion-mnist) with raw tensors and
// autograd only: no nn/ or train/ layer, a hand-written training loop. It was the first demo; the
// demo is now apps/examples/fashion_mnist.cpp (a CNN trained with train::Learner). Prints the
// loss, test accuracy and time of every epoch.
//
//   build/apps/softmax_regression --epochs 1 --lr 3e-3 --threads 2
//
// The model, loss and optimizer are in softmax_regression.h (shared with the end-to-end test).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <cstdio>

#include "apps/examples/softmax_regression.h"
#include "data/mnist.h"

int main(int argc, char** argv) {
  using namespace strata;
  CLI::App app{"Softmax regression on Fashion-MNIST with Strata tensors and autograd"};
  int epochs = 3;
  int threads = 0;
  std::string data_dir = data::fashion_mnist_dir().string();
  examples::SoftmaxRegressionOptions opts;
  app.add_option("--epochs", epochs, "passes over the 60000 training images")->check(CLI::Range(1, 100));
  app.add_option("--lr", opts.lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", opts.batch_size, "images per step")->check(CLI::Range(1, 60000));
  app.add_option("--seed", opts.seed, "seed of the initialization and the shuffling");
  app.add_option("--threads", threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--data-dir", data_dir, "directory with the four Fashion-MNIST IDX files");
  CLI11_PARSE(app, argc, argv);

  try {
    if (threads > 0) set_num_threads(threads);
    if (!data::has_mnist(data_dir, "train") || !data::has_mnist(data_dir, "t10k")) {
      fmt::print(stderr, "Fashion-MNIST not found in {} (install the Debian package dataset-fashion-mnist: scripts/setup)\n",
                 data_dir);
      return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const data::MnistSplit train = data::load_mnist(data_dir, "train");
    const data::MnistSplit test = data::load_mnist(data_dir, "t10k");
    const auto stats = examples::pixel_stats(train.images);
    const Tensor test_x = examples::to_features(test.images, stats);
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("Fashion-MNIST: {} train / {} test images of {}x{}, pixel mean {:.4f} std {:.4f} (loaded in {:.2f} s)\n",
               train.images.size(0), test.images.size(0), train.images.size(1), train.images.size(2), stats.first,
               stats.second, load_s);
    fmt::print("softmax regression 784 -> 10, Adam lr {}, batch {}, {} thread(s)\n", opts.lr, opts.batch_size,
               get_num_threads());

    examples::SoftmaxRegression model(28 * 28, 10, opts);
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      const double train_loss = model.train_epoch(train.images, train.labels, stats);
      const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto eval = model.evaluate(test_x, test.labels);
      fmt::print("epoch {}/{}  train loss {:.4f}  test loss {:.4f}  test accuracy {:.2f}%  time {:.2f} s ({:.0f} images/s)\n",
                 epoch, epochs, train_loss, eval.loss, 100.0 * eval.accuracy, train_s,
                 static_cast<double>(train.images.size(0)) / train_s);
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    fmt::print(stderr, "softmax_regression: {}\n", e.what());
    return 1;
  }
  return 0;
}
