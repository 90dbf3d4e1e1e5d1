// The built-in callbacks: trackers' choices, gradient clipping and accumulation, MixUp/CutMix
// targets on fixed seeds, TerminateOnNaN, BnFreeze, ActivationStats, CSVLogger and Progress.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "learner_fixture.h"
#include "nn/norm.h"
#include "support/expect_error.h"
#include "train/callbacks/activation_stats.h"
#include "train/callbacks/gradient.h"
#include "train/callbacks/misc.h"
#include "train/callbacks/mixup.h"
#include "train/callbacks/progress.h"
#include "train/callbacks/tracker.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {

// A metric whose value at epoch e is seq[e] (the monitored value under the test's control).
class Scripted : public Metric {
 public:
  explicit Scripted(std::vector<double> seq) : seq_(std::move(seq)) {}
  std::string name() const override { return "score"; }
  void reset() override {}
  void accumulate(const Learner& l) override { epoch_ = l.epoch; }
  double value() const override { return seq_[epoch_]; }

 private:
  std::vector<double> seq_;
  int epoch_ = 0;
};

std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("strata_cbs_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST(Trackers, EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement) {
  auto l = quiet_learner(regression_dls(), affine_model(),
                         {.metrics = {std::make_shared<Scripted>(std::vector<double>{0.5, 0.6, 0.55, 0.58, 0.7, 0.8})}});
  auto es = std::make_shared<EarlyStopping>(TrackerOptions{.monitor = "score"}, 2);
  l->fit(6, 1e-3, {es});
  EXPECT_EQ(es->stopped_epoch, 3);
  EXPECT_DOUBLE_EQ(es->best, 0.6);
  EXPECT_EQ(l->recorder().values.size(), 4u);
}

TEST(Trackers, MinDeltaAndLowerIsBetterByName) {
  auto l = quiet_learner(regression_dls(), affine_model(),
                         {.metrics = {std::make_shared<Scripted>(std::vector<double>{0.5, 0.45, 0.44, 0.3})}});
  // "score" is higher-is-better by name; say lower, with min_delta 0.02: 0.44 is no improvement on 0.45.
  auto es = std::make_shared<EarlyStopping>(
      TrackerOptions{.monitor = "score", .lower_is_better = true, .min_delta = 0.02}, 1);
  l->fit(4, 1e-3, {es});
  EXPECT_EQ(es->stopped_epoch, 2);
  EXPECT_DOUBLE_EQ(es->best, 0.45);
  EXPECT_STRATA_ERROR(l->fit(1, 1e-3, {std::make_shared<EarlyStopping>(TrackerOptions{.monitor = "nope"})}),
                      ValueError, {"cannot monitor 'nope'", "valid_loss", "score"});
}

TEST(Trackers, SaveModelKeepsAndReloadsTheBestEpoch) {
  auto dir = temp_dir("savemodel");
  auto l = quiet_learner(regression_dls(), affine_model(),
                         {.metrics = {std::make_shared<Scripted>(std::vector<double>{0.5, 0.9, 0.7, 0.6})}, .path = dir});
  std::vector<float> w_by_epoch;
  struct Snap : Callback {
    std::vector<float>* out;
    explicit Snap(std::vector<float>* o) : Callback("Snap"), out(o) {}
    void after_epoch() override { out->push_back(learn->model->parameter("weight").item<float>()); }
  };
  auto sm = std::make_shared<SaveModel>(TrackerOptions{.monitor = "score"}, SaveModelOptions{.fname = "best"});
  l->fit(4, 0.05, {sm, std::make_shared<Snap>(&w_by_epoch)});
  ASSERT_EQ(w_by_epoch.size(), 4u);
  EXPECT_EQ(sm->best_epoch, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "models" / "best.safetensors"));
  EXPECT_EQ(l->model->parameter("weight").item<float>(), w_by_epoch[1]);  // reloaded at the end
  EXPECT_NE(w_by_epoch[3], w_by_epoch[1]);
  std::filesystem::remove_all(dir);
}

TEST(Trackers, SaveModelEveryEpoch) {
  auto dir = temp_dir("every");
  auto l = quiet_learner(regression_dls(), affine_model(), {.path = dir});
  l->fit(3, 1e-3, {std::make_shared<SaveModel>(TrackerOptions{}, SaveModelOptions{.fname = "m", .every_epoch = 2})});
  EXPECT_TRUE(std::filesystem::exists(dir / "models" / "m_0.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "models" / "m_1.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir / "models" / "m_2.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST(Trackers, ReduceLROnPlateauDividesTheLr) {
  auto l = quiet_learner(regression_dls(), affine_model(),
                         {.metrics = {std::make_shared<Scripted>(std::vector<double>{0.5, 0.4, 0.6, 0.3, 0.2})}});
  std::vector<double> lr_at_start;
  struct Peek : Callback {
    std::vector<double>* out;
    explicit Peek(std::vector<double>* o) : Callback("Peek"), out(o) {}
    void before_epoch() override { out->push_back(learn->opt->hyper("lr")); }
  };
  l->fit(5, 1e-2, {std::make_shared<ReduceLROnPlateau>(TrackerOptions{.monitor = "score"}, 1, 10.0, 2e-4),
                   std::make_shared<Peek>(&lr_at_start)});
  ASSERT_EQ(lr_at_start.size(), 5u);
  EXPECT_DOUBLE_EQ(lr_at_start[1], 1e-2);
  EXPECT_NEAR(lr_at_start[2], 1e-3, 1e-15);  // epoch 1 did not improve on 0.5
  EXPECT_NEAR(lr_at_start[3], 1e-3, 1e-15);  // epoch 2 (0.6) did
  EXPECT_NEAR(lr_at_start[4], 2e-4, 1e-15);  // epoch 3 did not; floored at min_lr
}

TEST(GradientClip, ClipsTheGlobalNormAsTorchDoes) {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({1}).requires_grad_();
  a.set_grad(tensor({3.f, 0.f}));
  b.set_grad(tensor({4.f}));
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(a.grad().to_vector<float>()[0], 3 * coef, 1e-6);
  EXPECT_NEAR(b.grad().item(), 4 * coef, 1e-6);
  // Under the limit: unchanged. Max norm: the largest |g|.
  EXPECT_NEAR(clip_grad_norm({a, b}, 10.0), 1.0, 1e-5);
  EXPECT_NEAR(b.grad().item(), 4 * coef, 1e-6);
  a.set_grad(tensor({-7.f, 1.f}));
  EXPECT_NEAR(clip_grad_norm({a, b}, 100.0, INFINITY), 7.0, 1e-6);
  EXPECT_NEAR(clip_grad_norm({a, b}, 100.0, 1.0), 8.0 + 4 * coef, 1e-5);
}

TEST(GradientClip, BoundsTheNormTheOptimizerSees) {
  auto l = quiet_learner(regression_dls(), affine_model(0.0, 0.0), {.opt_func = SGD{}});
  std::vector<double> seen;
  struct After : Callback {
    std::vector<double>* out;
    explicit After(std::vector<double>* o) : Callback("After"), out(o) { order = 5; }
    void before_step() override {
      double s = 0;
      for (auto& p : learn->model->parameters()) s += sum(square(p.grad())).item();
      out->push_back(std::sqrt(s));
    }
  };
  auto clip = std::make_shared<GradientClip>(0.5);
  l->fit(1, 1e-2, {clip, std::make_shared<After>(&seen)});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_GT(clip->last_norm, 0.5);  // y = 3x + 2 from w = b = 0: large gradients
  for (double n : seen) EXPECT_NEAR(n, 0.5, 1e-5);
}

TEST(GradientAccumulation, OneStepPerNAccItemsMatchesABigBatch) {
  // 32 items in batches of 8, accumulated to 16: two steps per epoch, each the gradient of 16 items.
  auto acc = quiet_learner(regression_dls(32, 16, 8), affine_model(), {.opt_func = SGD{}});
  acc->fit(1, 0.1, {std::make_shared<GradientAccumulation>(16)});
  auto big = quiet_learner(regression_dls(32, 16, 16), affine_model(), {.opt_func = SGD{}});
  big->fit(1, 0.1);
  EXPECT_NEAR(acc->model->parameter("weight").item(), big->model->parameter("weight").item(), 1e-5);
  EXPECT_NEAR(acc->model->parameter("bias").item(), big->model->parameter("bias").item(), 1e-5);
}

TEST(MixUp, BlendsInputsAndFloatTargetsWithTheSameWeights) {
  auto l = quiet_learner(regression_dls(32, 16, 16), affine_model());
  auto mix = std::make_shared<MixUp>(0.4, /*seed=*/7);
  struct Check : Callback {
    MixUp* mix;
    Batch orig_x, orig_y;
    int checked = 0;
    explicit Check(MixUp* m) : Callback("Check"), mix(m) {}
    void before_batch() override {  // order 0, added after MixUp: sees the mixed batch
      if (!learn->training) return;
      Tensor lam = mix->lam;
      auto lv = lam.to_vector<float>();
      for (float v : lv) {
        EXPECT_GE(v, 0.5f);
        EXPECT_LE(v, 1.0f);
      }
      ++checked;
    }
  };
  struct Before : Callback {
    Check* c;
    explicit Before(Check* k) : Callback("Before"), c(k) { order = -1; }
    void before_batch() override {
      c->orig_x = learn->xb;
      c->orig_y = learn->yb;
    }
  };
  auto check = std::make_shared<Check>(mix.get());
  struct Verify : Callback {
    Check* c;
    MixUp* m;
    Verify(Check* k, MixUp* mm) : Callback("Verify"), c(k), m(mm) { order = 1; }
    void before_batch() override {
      if (!learn->training) return;
      Tensor lam = m->lam.unsqueeze(1);
      Tensor x1 = index_select(c->orig_x[0], 0, m->shuffle), y1 = index_select(c->orig_y[0], 0, m->shuffle);
      auto ex = (x1 + lam * (c->orig_x[0] - x1)).to_vector<float>();
      auto ey = (y1 + lam * (c->orig_y[0] - y1)).to_vector<float>();
      auto gx = learn->xb[0].to_vector<float>(), gy = learn->yb[0].to_vector<float>();
      for (size_t i = 0; i < ex.size(); ++i) {
        EXPECT_NEAR(gx[i], ex[i], 1e-6);
        EXPECT_NEAR(gy[i], ey[i], 1e-6);
      }
    }
  };
  l->fit(1, 1e-3, {mix, check, std::make_shared<Before>(check.get()), std::make_shared<Verify>(check.get(), mix.get())});
  EXPECT_EQ(check->checked, 2);
  // Fixed seed: the same draws again.
  auto m2 = std::make_shared<MixUp>(0.4, 7);
  auto l2 = quiet_learner(regression_dls(32, 16, 16), affine_model());
  std::vector<float> lam1, lam2;
  struct Grab : Callback {
    MixUp* m;
    std::vector<float>* out;
    Grab(MixUp* mm, std::vector<float>* o) : Callback("Grab"), m(mm), out(o) { order = 1; }
    void before_batch() override {
      if (!learn->training) return;
      auto v = m->lam.to_vector<float>();
      out->insert(out->end(), v.begin(), v.end());
    }
  };
  auto m3 = std::make_shared<MixUp>(0.4, 7);
  l2->fit(1, 1e-3, {m2, std::make_shared<Grab>(m2.get(), &lam1)});
  auto l3 = quiet_learner(regression_dls(32, 16, 16), affine_model());
  l3->fit(1, 1e-3, {m3, std::make_shared<Grab>(m3.get(), &lam2)});
  EXPECT_EQ(lam1, lam2);
  EXPECT_EQ(lam1.size(), 32u);
}

TEST(MixUp, WithCrossEntropyTheLossIsMixedNotTheTargets) {
  Generator g(4);
  Tensor x = randn({8, 3}, {}, &g);
  Tensor y = randint(0, 3, {8}, {.dtype = DType::I64}, &g);
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 8}), nullptr};
  manual_seed(1);
  auto l = quiet_learner(dls, std::make_shared<nn::Linear>(3, 3),
                         {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>()});
  auto mix = std::make_shared<MixUp>(0.4, 3);
  struct Verify : Callback {
    MixUp* m;
    int checked = 0;
    explicit Verify(MixUp* mm) : Callback("Verify"), m(mm) { order = 1; }
    void after_loss() override {
      EXPECT_EQ(learn->yb[0].dtype(), DType::I64);  // targets untouched
      auto ce = [&](const Tensor& t) {
        return cross_entropy(learn->pred.detach(), t, {.reduction = Reduction::None});
      };
      Tensor a = ce(m->yb1[0]), b = ce(learn->yb[0]);
      double expected = mean(a + m->lam * (b - a)).item();
      EXPECT_NEAR(learn->loss.item(), expected, 1e-5);
      ++checked;
    }
  };
  auto v = std::make_shared<Verify>(mix.get());
  auto original = l->loss_func;
  l->fit(1, 1e-3, {mix, v});
  EXPECT_EQ(v->checked, 1);
  EXPECT_EQ(l->loss_func, original);  // restored after training
}

TEST(CutMix, PastesABoxAndWeighsByItsArea) {
  Tensor x = arange(0, 2 * 1 * 4 * 4, 1, {.dtype = DType::F32}).reshape({2, 1, 4, 4});
  Tensor y = tensor({0.f, 1.f}, {2, 1});
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 2}), nullptr};
  struct Flat : nn::Module {
    Flat() : Module("Flat") { w = register_parameter("w", zeros({16, 1})); }
    Tensor forward(const Tensor& t) override { return matmul(t.reshape({t.size(0), -1}), w); }
    using Module::forward;
    Tensor w;
  };
  auto l = quiet_learner(dls, std::make_shared<Flat>());
  auto cm = std::make_shared<CutMix>(1.0, 11);
  struct Verify : Callback {
    CutMix* c;
    Tensor x0;
    int checked = 0;
    Verify(CutMix* cc, Tensor x) : Callback("Verify"), c(cc), x0(std::move(x)) { order = 1; }
    void before_batch() override {
      auto xs = index_select(x0, 0, c->shuffle);
      Tensor got = learn->xb[0];
      double area = static_cast<double>((c->x2 - c->x1) * (c->y2 - c->y1));
      EXPECT_NEAR(c->lam.item(), 1 - area / 16, 1e-6);
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t i = 0; i < 4; ++i)
          for (int64_t j = 0; j < 4; ++j) {
            bool in = i >= c->y1 && i < c->y2 && j >= c->x1 && j < c->x2;
            float e = (in ? xs : x0)[n][0][i][j].item<float>();
            EXPECT_EQ(got[n][0][i][j].item<float>(), e);
          }
      ++checked;
    }
  };
  auto v = std::make_shared<Verify>(cm.get(), x);
  l->fit(1, 1e-3, {cm, v});
  EXPECT_EQ(v->checked, 1);
  EXPECT_EQ(x.to_vector<float>()[0], 0.f);  // the dataset is not modified
}

TEST(TerminateOnNaN, StopsOnANanLoss) {
  auto l = quiet_learner(regression_dls(), affine_model());
  struct Poison : Callback {
    Poison() : Callback("Poison") { order = -50; }
    void after_loss() override {
      if (learn->train_iter == 1) learn->loss = scalar_tensor(NAN);
    }
  };
  l->fit(3, 1e-3, {std::make_shared<Poison>(), std::make_shared<TerminateOnNaN>()});
  EXPECT_EQ(l->epoch, 0);
  EXPECT_EQ(l->train_iter, 2);  // TrainEval counted the batch before TerminateOnNaN stopped
}

TEST(BnFreeze, FrozenBatchNormStaysInEvalMode) {
  auto bn = std::make_shared<nn::BatchNorm1d>(1);
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{bn, affine_model()});
  Splitter split = [](nn::Module& m) {
    return std::vector<std::vector<Tensor>>{m.child("0")->parameters(), m.child("1")->parameters()};
  };
  auto l = quiet_learner(regression_dls(), model, {.splitter = split, .train_bn = false});
  l->freeze();
  Tensor rm = bn->buffer("running_mean").clone();
  bool mode_seen = true;
  struct Peek : Callback {
    bool* out;
    nn::Module* m;
    Peek(bool* o, nn::Module* mm) : Callback("Peek"), out(o), m(mm) {}
    void before_batch() override { if (learn->training) *out = m->is_training(); }
  };
  l->fit(1, 1e-3, {std::make_shared<BnFreeze>(), std::make_shared<Peek>(&mode_seen, bn.get())});
  EXPECT_FALSE(mode_seen);
  EXPECT_EQ(bn->buffer("running_mean").to_vector<float>(), rm.to_vector<float>());
}

TEST(ActivationStats, RecordsMeanStdAndNearZeroPerLayerAndBatch) {
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{affine_model(2.0, 1.0), affine_model()});
  auto l = quiet_learner(regression_dls(), model);
  auto stats = std::make_shared<ActivationStats>();
  std::vector<Tensor> first_out;
  auto h = (*model)[0]->register_forward_hook([&](nn::Module&, std::span<const Tensor>, const Tensor& o) {
    if (first_out.empty()) first_out.push_back(o.detach().clone());
  });
  l->fit(1, 0.0, {stats});
  (*model)[0]->remove_forward_hook(h);
  EXPECT_EQ(stats->layer_names, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(stats->stats.size(), 2u);  // training batches only
  const auto& s = stats->stats[0][0];
  Tensor o = first_out[0];
  EXPECT_NEAR(s.mean, mean(o).item(), 1e-6);
  EXPECT_NEAR(s.std, strata::std(o).item(), 1e-6);
  EXPECT_NEAR(s.near_zero, sum(le(o, 0.05)).item() / o.numel(), 1e-12);
  // Hooks are gone after the fit: another fit without the callback records nothing new.
  l->fit(1, 0.0);
  EXPECT_EQ(stats->stats.size(), 2u);
}

TEST(CSVLogger, WritesTheHeaderAndOneRowPerEpoch) {
  auto dir = temp_dir("csv");
  auto l = quiet_learner(regression_dls(), affine_model(), {.metrics = {mae()}, .path = dir});
  l->fit(2, 1e-3, {std::make_shared<CSVLogger>("hist.csv")});
  auto text = read_file(dir / "hist.csv");
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "epoch,train_loss,valid_loss,mae,time");
  EXPECT_EQ(lines[2].substr(0, 2), "1,");
  l->validate();  // a validation pass does not touch the file
  EXPECT_EQ(read_file(dir / "hist.csv"), text);
  std::filesystem::remove_all(dir);
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto l = quiet_learner(regression_dls(), affine_model());
  l->logger = [](const std::vector<std::string>&) {};
  l->add_cb(std::make_shared<ProgressCallback>(f));
  l->fit(1, 1e-3);
  std::rewind(f);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.substr(0, 45), "epoch   train_loss  valid_loss  time\n0       ");
}

TEST(Progress, PrintsFastaisTableAndABar) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto l = quiet_learner(regression_dls(), affine_model(), {.metrics = {mae()}});
  l->logger = [](const std::vector<std::string>&) {};
  l->add_cb(std::make_shared<ProgressCallback>(f, /*force_bar=*/true));
  l->fit(2, 1e-3);
  std::rewind(f);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  std::fclose(f);
  EXPECT_NE(out.find("epoch   train_loss  valid_loss  mae     time\n"), std::string::npos) << out;
  // Rows come after the bar is cleared with '\r'.
  EXPECT_NE(out.find("\r0       "), std::string::npos) << out;
  EXPECT_NE(out.find("\r1       "), std::string::npos) << out;
  EXPECT_NE(out.find("2/2"), std::string::npos) << out;  // the bar
}

TEST(MixUp, TheDefaultLossIsKnownBeforeTrainingSoMixUpKeepsClassTargets) {
  Generator g(5);
  Tensor x = randn({8, 3}, {}, &g);
  Tensor y = randint(0, 3, {8}, {.dtype = DType::I64}, &g);
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 4}), nullptr};
  manual_seed(1);
  Learner l(dls, std::make_shared<nn::Linear>(3, 3), {.progress = false});
  l.logger = {};
  auto mix = std::make_shared<MixUp>(0.4, 3);
  l.fit(1, 1e-3, {mix});
  EXPECT_TRUE(mix->stack_y);
  EXPECT_TRUE(dynamic_cast<nn::CrossEntropyLossFlat*>(l.loss_func.get()));
}
