#pragma once
// MixUp and CutMix (fastai/callback/mixup.py). During training each batch is blended with a
// shuffled copy of itself:
//   MixUp   x = lerp(x[shuffle], x, lam) with lam ~ Beta(alpha, alpha) per item, lam = max(lam, 1 - lam)
//   CutMix  a random box of x is replaced by the same box of x[shuffle]; lam = 1 - box area share
// With a class-index loss (CrossEntropyLossFlat, label smoothing) the targets stay and the loss
// becomes lerp(loss(pred, y[shuffle]), loss(pred, y), lam) per item, then reduced; with any other
// loss the targets are blended the same way as the inputs. Random draws come from the callback's
// own seeded generators, so a run is reproducible.
#include <cstdint>
#include <memory>
#include <random>

#include "nn/loss.h"
#include "tensor/ops/random.h"
#include "train/callback.h"
#include "train/loader.h"

namespace strata::train {

class MixHandler : public Callback {
 public:
  MixHandler(std::string name, double alpha, uint64_t seed);
  void before_train() override;
  void after_train() override;
  void after_cancel_train() override { after_train(); }
  void after_cancel_fit() override { after_train(); }

  Tensor lam;      // this batch's weights: [bs] (MixUp) or 0-d (CutMix)
  Tensor shuffle;  // this batch's permutation
  Batch yb1;       // the shuffled targets

  // The wrapped loss (used while stack_y): public so the mixed loss can reach it.
  std::shared_ptr<nn::Loss> old_loss;
  bool stack_y = false;

 protected:
  double sample_beta();
  std::mt19937_64 rng_;
  Generator gen_;
  double alpha_;
};

class MixUp : public MixHandler {
 public:
  explicit MixUp(double alpha = 0.4, uint64_t seed = 0) : MixHandler("MixUp", alpha, seed) {}
  void before_batch() override;
};

class CutMix : public MixHandler {
 public:
  explicit CutMix(double alpha = 1.0, uint64_t seed = 0) : MixHandler("CutMix", alpha, seed) {}
  void before_batch() override;
  int64_t x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // the last box
};

}  // namespace strata::train
