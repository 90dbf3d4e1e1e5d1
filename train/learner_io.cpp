// Learner persistence (model + optimizer in one safetensors file) and inference passes
// (validate, get_preds), which run the validation loop inside fastai's validation_context:
// no logging, no table, before_fit/before_epoch ... after_epoch/after_fit around it.
#include <cmath>

#include "autograd/grad_mode.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/safetensors.h"
#include "train/learner.h"

namespace strata::train {

namespace {

constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptPrefix = "opt.";

class GatherPreds : public Callback {
 public:
  GatherPreds(bool with_input, bool with_loss)
      : Callback("GatherPredsCallback"), with_input_(with_input), with_loss_(with_loss) {
    order = 0;
  }
  void after_batch() override {
    if (!learn->pred.defined()) return;
    preds.push_back(learn->pred.detach());
    if (!learn->yb.empty()) targets.push_back(learn->yb[0].detach());
    if (with_input_ && !learn->xb.empty()) inputs.push_back(learn->xb[0].detach());
    if (with_loss_ && !learn->yb.empty() && learn->loss_func) {
      NoGradGuard g;
      Reduction saved = learn->loss_func->reduction;
      learn->loss_func->reduction = Reduction::None;
      try {
        losses.push_back((*learn->loss_func)(learn->pred, learn->yb[0]).detach());
      } catch (...) {
        learn->loss_func->reduction = saved;
        throw;
      }
      learn->loss_func->reduction = saved;
    }
  }
  std::vector<Tensor> preds, targets, inputs, losses;

 private:
  bool with_input_, with_loss_;
};

// fastai's validation_context: callbacks for this pass only, no logging, no table.
struct ValidationContext {
  Learner& learn;
  std::vector<CallbackPtr> cbs;
  Logger saved_logger;
  bool saved_mbar;
  ValidationContext(Learner& l, std::vector<CallbackPtr> c)
      : learn(l), cbs(std::move(c)), saved_logger(l.logger), saved_mbar(l.create_mbar) {
    learn.logger = {};
    learn.create_mbar = false;
    learn.add_cbs(cbs);
  }
  ~ValidationContext() {
    for (auto& c : cbs) learn.remove_cb(c);
    learn.logger = saved_logger;
    learn.create_mbar = saved_mbar;
  }
  void run(Loader* dl) {
    learn(Event::before_fit);
    learn(Event::before_epoch);
    learn.do_epoch_validate(dl);
    learn(Event::after_epoch);
    learn(Event::after_fit);
  }
};

Tensor cat_or_empty(const std::vector<Tensor>& ts) { return ts.empty() ? Tensor() : cat(ts, 0); }

}  // namespace

std::vector<double> Learner::validate(Loader* d) {
  if (!d) d = dls.valid.get();
  STRATA_CHECK(d != nullptr, ValueError, "Learner.validate: no validation loader");
  ValidationContext ctx(*this, {});
  ctx.run(d);
  return final_record;
}

Preds Learner::get_preds(GetPredsOptions o) {
  Loader* d = o.dl ? o.dl : dls.valid.get();
  STRATA_CHECK(d != nullptr, ValueError, "Learner.get_preds: no loader (the DataLoaders has no valid loader)");
  auto gather = std::make_shared<GatherPreds>(o.with_input, o.with_loss);
  {
    ValidationContext ctx(*this, {gather});
    ctx.run(d);
  }
  Preds r;
  r.preds = cat_or_empty(gather->preds);
  r.targets = cat_or_empty(gather->targets);
  if (o.with_input) r.inputs = cat_or_empty(gather->inputs);
  if (o.with_loss) r.losses = cat_or_empty(gather->losses);
  if (r.preds.defined()) {
    NoGradGuard g;
    if (o.act) r.preds = o.act(r.preds);
    else if (loss_func) r.preds = loss_func->activation(r.preds);
    if (o.with_decoded) r.decoded = loss_func ? loss_func->decodes(r.preds) : r.preds;
  }
  return r;
}

std::filesystem::path Learner::save(const std::string& name, bool with_opt) {
  auto file = path / model_dir / (name + ".safetensors");
  std::filesystem::create_directories(file.parent_path());
  std::map<std::string, Tensor> all;
  for (auto& [k, v] : model->state_dict()) all[kModelPrefix + k] = v;
  if (with_opt && opt)
    for (auto& [k, v] : opt->state_dict()) all[kOptPrefix + k] = v;
  save_safetensors(file, all, {{"format", "strata-learner"}});
  return file;
}

void Learner::load(const std::string& name, bool with_opt, bool strict) {
  auto file = path / model_dir / (name + ".safetensors");
  STRATA_CHECK(std::filesystem::exists(file), IOError, "Learner.load: no file {}", file.string());
  SafeTensorsFile f = load_safetensors(file);
  nn::StateDict model_sd;
  std::map<std::string, Tensor> opt_sd;
  const std::string mp = kModelPrefix, op = kOptPrefix;
  for (auto& [k, v] : f.tensors) {
    if (k.rfind(mp, 0) == 0) model_sd[k.substr(mp.size())] = v;
    else if (k.rfind(op, 0) == 0) opt_sd[k.substr(op.size())] = v;
  }
  // A plain model file (Module::save) has no prefixes: take it whole.
  if (model_sd.empty() && opt_sd.empty()) model_sd = f.tensors;
  model->load_state_dict(model_sd, strict);
  if (with_opt) {
    if (!opt) create_opt();
    if (!opt_sd.empty()) opt->load_state_dict(opt_sd);
  }
}

}  // namespace strata::train
