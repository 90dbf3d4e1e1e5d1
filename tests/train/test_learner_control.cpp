// Two-way callbacks: what a callback changes on the Learner is what the loop uses. Also the
// Learner's inference, persistence, default loss and freezing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "learner_fixture.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "support/expect_error.h"
#include "tensor/safetensors.h"
#include "tensor/semantic.h"
#include "train/callbacks/param_scheduler.h"

using namespace strata;
using namespace strata::train;
using namespace strata::train::testing;

namespace {

struct Hook : Callback {
  explicit Hook(std::function<void(Learner&, Event)> f, int o = 0) : Callback("Hook"), f_(std::move(f)) { order = o; }
  void before_batch() override { f_(*learn, Event::before_batch); }
  void after_pred() override { f_(*learn, Event::after_pred); }
  void after_loss() override { f_(*learn, Event::after_loss); }
  void before_step() override { f_(*learn, Event::before_step); }
  void after_batch() override { f_(*learn, Event::after_batch); }
  std::function<void(Learner&, Event)> f_;
};

std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("strata_train_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p;
}

}  // namespace

TEST(LearnerControl, ACallbackThatChangesYbChangesTheLoss) {
  auto l = quiet_learner(regression_dls(), affine_model(), {.opt_func = SGD{}});
  std::vector<double> seen, expected;
  l->add_cb(std::make_shared<Hook>([&](Learner& L, Event e) {
    if (e == Event::before_batch) L.yb[0] = zeros_like(L.yb[0]);
    if (e == Event::after_loss) {
      seen.push_back(L.loss.item());
      expected.push_back(mean(square(L.pred.detach())).item());
    }
  }));
  l->fit(1, 0.0);
  ASSERT_EQ(seen.size(), 3u);  // 2 train + 1 valid batches
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_NEAR(seen[i], expected[i], 1e-6);
}

TEST(LearnerControl, ACallbackThatReplacesTheLossDrivesBackward) {
  auto l = quiet_learner(regression_dls(), affine_model(), {.opt_func = SGD{}});
  l->add_cb(std::make_shared<Hook>([&](Learner& L, Event e) {
    if (e == Event::after_loss && L.training) L.loss_grad = sum(L.pred) * 0.0 + mean(L.pred);  // d/db = 1
  }));
  l->fit(1, 0.5);
  // Two SGD steps on mean(pred): the bias falls by lr * 1 each time.
  EXPECT_NEAR(l->model->parameter("bias").item(), -0.25 - 2 * 0.5, 1e-6);
}

TEST(LearnerControl, ACallbackThatSkipsTheStepLeavesWeightsUnchanged) {
  auto l = quiet_learner(regression_dls(), affine_model(), {.opt_func = SGD{}});
  l->add_cb(std::make_shared<Hook>([&](Learner&, Event e) {
    if (e == Event::before_step) throw CancelStepException();
  }));
  l->fit(2, 0.1);
  EXPECT_FLOAT_EQ(l->model->parameter("weight").item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(l->model->parameter("bias").item<float>(), -0.25f);
}

TEST(LearnerControl, ACallbackThatStopsTheFitStopsIt) {
  auto l = quiet_learner(regression_dls(), affine_model());
  l->add_cb(std::make_shared<Hook>([&](Learner& L, Event e) {
    if (e == Event::after_batch && L.train_iter == 3) throw CancelFitException();
  }, 10));
  l->fit(5, 1e-3);
  EXPECT_EQ(l->train_iter, 3);
  EXPECT_EQ(l->epoch, 1);
  // The hook (order 10) runs before the Recorder (50): the third batch's after_batch stops there.
  EXPECT_EQ(l->recorder().losses.size(), 2u);
}

TEST(LearnerControl, TrainingReducesTheRegressionLoss) {
  auto l = quiet_learner(regression_dls(256, 64, 32, true), affine_model());
  auto before = l->validate();
  l->fit(4, 0.1);
  auto after = l->validate();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_LT(after[0], before[0] * 0.05);
  EXPECT_NEAR(l->model->parameter("weight").item(), 3.0, 0.2);
}

TEST(LearnerControl, GetPredsGathersActivatedPredictionsTargetsAndLosses) {
  auto dls = regression_dls(32, 20, 8);
  auto l = quiet_learner(dls, affine_model());
  auto p = l->get_preds({.with_input = true, .with_decoded = true, .with_loss = true});
  ASSERT_EQ(p.preds.shape(), Shape({20, 1}));
  EXPECT_EQ(p.targets.shape(), Shape({20, 1}));
  EXPECT_EQ(p.inputs.shape(), Shape({20, 1}));
  ASSERT_EQ(p.losses.shape(), Shape({20}));
  auto x = p.inputs.to_vector<float>(), y = p.targets.to_vector<float>(), pr = p.preds.to_vector<float>();
  auto ls = p.losses.to_vector<float>();
  for (int i = 0; i < 20; ++i) {
    EXPECT_NEAR(pr[i], 0.5f * x[i] - 0.25f, 1e-6);
    EXPECT_NEAR(ls[i], (pr[i] - y[i]) * (pr[i] - y[i]), 1e-5);
  }
  EXPECT_EQ(l->loss_func->reduction, Reduction::Mean);  // restored
}

TEST(LearnerControl, GetPredsOfAClassifierAppliesSoftmaxAndDecodes) {
  Generator g(3);
  Tensor x = randn({12, 4}, {}, &g);
  Tensor y = randint(0, 3, {12}, {.dtype = DType::I64}, &g);
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 5}),
                  std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 5})};
  manual_seed(0);
  auto model = std::make_shared<nn::Linear>(4, 3);
  Learner l(dls, model, {.progress = false});
  l.logger = {};
  auto p = l.get_preds({.with_decoded = true});
  ASSERT_TRUE(dynamic_cast<nn::CrossEntropyLossFlat*>(l.loss_func.get()));  // default loss from i64 targets
  EXPECT_EQ(p.preds.shape(), Shape({12, 3}));
  auto rows = sum(p.preds, {1}).to_vector<float>();
  for (float r : rows) EXPECT_NEAR(r, 1.0f, 1e-5);
  EXPECT_EQ(p.decoded.to_vector<int64_t>(), argmax(p.preds, 1).to_vector<int64_t>());
}

TEST(LearnerControl, DefaultLossFollowsTheTargets) {
  EXPECT_TRUE(dynamic_cast<nn::CrossEntropyLossFlat*>(default_loss_for(tensor<int64_t>({1, 2})).get()));
  EXPECT_TRUE(dynamic_cast<nn::BCEWithLogitsLossFlat*>(default_loss_for(tensor({0.f, 1.f, 1.f, 0.f}, {2, 2})).get()));
  EXPECT_TRUE(dynamic_cast<nn::MSELossFlat*>(default_loss_for(tensor({0.f, 1.5f, 1.f, 0.f}, {2, 2})).get()));
  EXPECT_TRUE(dynamic_cast<nn::MSELossFlat*>(default_loss_for(tensor({0.f, 1.f})).get()));
  EXPECT_TRUE(dynamic_cast<nn::BCEWithLogitsLossFlat*>(
      default_loss_for(cast(tensor({0.f, 1.f}), &semantic_types::TensorMultiCategory)).get()));
  EXPECT_TRUE(dynamic_cast<nn::CrossEntropyLossFlat*>(
      default_loss_for(cast(tensor({0.f, 1.f}), &semantic_types::TensorCategory)).get()));
}

TEST(LearnerControl, SaveAndLoadRoundTripModelAndOptimizer) {
  auto dir = temp_dir("save");
  auto l = quiet_learner(regression_dls(), affine_model(), {.path = dir});
  l->fit(1, 1e-2);
  auto file = l->save("stage1");
  EXPECT_EQ(file, dir / "models" / "stage1.safetensors");
  auto f = load_safetensors(file);
  EXPECT_TRUE(f.contains("model.weight"));
  EXPECT_TRUE(f.contains("opt.hyper.0.lr"));
  double w = l->model->parameter("weight").item();
  std::map<std::string, Tensor> opt_sd;
  for (auto& [k, v] : l->opt->state_dict()) opt_sd[k] = v.clone();  // state_dict aliases the live state
  l->fit(1, 1e-2);
  EXPECT_NE(l->model->parameter("weight").item(), w);
  l->load("stage1");
  EXPECT_EQ(l->model->parameter("weight").item(), w);
  for (auto& [k, v] : l->opt->state_dict())
    EXPECT_EQ(v.to(DType::F64).to_vector<double>(), opt_sd.at(k).to(DType::F64).to_vector<double>()) << k;
  EXPECT_STRATA_ERROR(l->load("nope"), IOError, {"Learner.load", "nope.safetensors"});
  std::filesystem::remove_all(dir);
}

TEST(LearnerControl, FreezeKeepsNormLayersTrainableWhenTrainBn) {
  auto body = std::make_shared<nn::Sequential>(
      std::vector<nn::ModulePtr>{std::make_shared<nn::Linear>(4, 4), std::make_shared<nn::BatchNorm1d>(4)});
  auto head = std::make_shared<nn::Linear>(4, 2);
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::ModulePtr>{body, head});
  Splitter split = [body, head](nn::Module&) {
    return std::vector<std::vector<Tensor>>{body->parameters(), head->parameters()};
  };
  Tensor x = randn({8, 4}), y = randint(0, 2, {8});
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{x, y}, TensorLoaderOptions{.bs = 4}), nullptr};
  auto l = quiet_learner(dls, model, {.loss_func = std::make_shared<nn::CrossEntropyLossFlat>(), .splitter = split});
  l->freeze();
  auto lin = (*body)[0], bn = (*body)[1];
  EXPECT_FALSE(lin->parameter("weight").requires_grad());
  EXPECT_FALSE(lin->parameter("bias").requires_grad());
  EXPECT_TRUE(bn->parameter("weight").requires_grad());
  EXPECT_TRUE(head->parameter("weight").requires_grad());
  // wd_bn_bias = false: no weight decay on norm parameters and biases.
  EXPECT_FALSE(l->opt->state(bn->parameter("weight")).do_wd);
  EXPECT_FALSE(l->opt->state(head->parameter("bias")).do_wd);
  EXPECT_TRUE(l->opt->state(head->parameter("weight")).do_wd);
  Tensor w_lin = lin->parameter("weight").clone();
  l->fit(1, 1e-2);  // no valid loader: trains only
  EXPECT_EQ(lin->parameter("weight").to_vector<float>(), w_lin.to_vector<float>());
  l->unfreeze();
  EXPECT_TRUE(lin->parameter("weight").requires_grad());
}

TEST(LearnerControl, DiscriminativeLearningRatesFromSlices) {
  EXPECT_EQ(LR(0.1).per_group(3), (std::vector<double>{0.1, 0.1, 0.1}));
  EXPECT_EQ(slice(0.1).per_group(3), (std::vector<double>{0.01, 0.01, 0.1}));
  auto r = slice(1e-4, 1e-2).per_group(3);
  EXPECT_NEAR(r[0], 1e-4, 1e-12);
  EXPECT_NEAR(r[1], 1e-3, 1e-12);
  EXPECT_NEAR(r[2], 1e-2, 1e-12);
}

TEST(LearnerControl, BadConstructionIsRejected) {
  EXPECT_STRATA_ERROR(Learner(regression_dls(), nullptr), ValueError, {"Learner", "model"});
  EXPECT_STRATA_ERROR(Learner(DataLoaders{}, affine_model()), ValueError, {"Learner", "train loader"});
}

TEST(LearnerControl, WeightDecayFromTheOptionsOrTheFit) {
  auto l = quiet_learner(regression_dls(), affine_model(), {.wd = 0.25});
  l->fit(1, 1e-3);
  EXPECT_DOUBLE_EQ(l->opt->hyper("wd"), 0.25);
  l->fit(1, 1e-3, {}, 0.5);
  EXPECT_DOUBLE_EQ(l->opt->hyper("wd"), 0.5);
  auto d = quiet_learner(regression_dls(), affine_model());
  d->fit(1, 1e-3);
  EXPECT_DOUBLE_EQ(d->opt->hyper("wd"), 0.01);  // Adam's own default
  auto* first = d->opt.get();
  d->fit(1, 1e-3);
  EXPECT_EQ(d->opt.get(), first);  // kept between fits
  d->fit(1, 1e-3, {}, {}, /*reset_opt=*/true);
  EXPECT_NE(d->opt.get(), first);
}

TEST(LearnerControl, SeveralInputsReachTheModelsSpanForward) {
  struct Sum2 : nn::Module {
    Sum2() : Module("Sum2") { w = register_parameter("w", ones({1})); }
    Tensor forward(std::span<const Tensor> xs) override { return (xs[0] + xs[1]) * w; }
    using Module::forward;
    Tensor w;
  };
  Tensor a = tensor({1.f, 2.f, 3.f, 4.f}, {4, 1}), b = tensor({1.f, 1.f, 1.f, 1.f}, {4, 1});
  Tensor y = (a + b) * 2.0;
  DataLoaders dls{std::make_shared<TensorLoader>(std::vector<Tensor>{a, b, y}, TensorLoaderOptions{.bs = 2, .n_inp = 2}),
                  std::make_shared<TensorLoader>(std::vector<Tensor>{a, b, y}, TensorLoaderOptions{.bs = 4, .n_inp = 2})};
  auto l = quiet_learner(dls, std::make_shared<Sum2>(), {.opt_func = SGD{}});
  l->fit(20, 0.02);
  EXPECT_NEAR(l->model->parameter("w").item(), 2.0, 1e-3);
  auto p = l->get_preds({.with_input = true});
  EXPECT_EQ(p.inputs.to_vector<float>(), a.to_vector<float>());  // xb[0]
}

TEST(LearnerControl, ParamSchedulerChecksPerGroupSchedules) {
  auto l = quiet_learner(regression_dls(), affine_model());
  auto ps = std::make_shared<ParamScheduler>(ParamScheduler::Scheds{{"lr", {SchedNo(1e-3, 0), SchedNo(1e-3, 0)}}});
  EXPECT_STRATA_ERROR(l->fit(1, 1e-3, {ps}), ValueError, {"ParamScheduler", "2 schedules", "1 groups"});
  EXPECT_STRATA_ERROR(ParamScheduler(ParamScheduler::Scheds{{"lr", {}}}), ValueError, {"no schedule for 'lr'"});
}
