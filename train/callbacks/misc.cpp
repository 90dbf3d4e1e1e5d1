// TerminateOnNaN, BnFreeze and CSVLogger.
#include "train/callbacks/misc.h"

#include <cmath>

#include <fmt/core.h>

#include "nn/norm.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "train/callbacks/recorder.h"

namespace strata::train {

void TerminateOnNaN::after_batch() {
  if (!learn->loss.defined()) return;
  double l = mean(learn->loss.detach().to(DType::F64)).item();
  if (std::isnan(l) || std::isinf(l)) throw CancelFitException();
}

void set_bn_eval(nn::Module& m) {
  for (auto& c : m.children()) {
    if (nn::is_batch_norm(*c)) {
      auto ps = c->parameters(false);
      if (!ps.empty() && !ps[0].requires_grad()) c->eval();
    }
    set_bn_eval(*c);
  }
}

void BnFreeze::before_train() { set_bn_eval(*learn->model); }

CSVLogger::CSVLogger(std::filesystem::path fname, bool append)
    : Callback("CSVLogger"), fname_(std::move(fname)), append_(append) {
  order = 60;
}
CSVLogger::~CSVLogger() {
  if (f_) std::fclose(f_);
}

std::filesystem::path CSVLogger::file() const { return learn ? learn->path / fname_ : fname_; }

void CSVLogger::before_fit() {
  if (!learn->create_mbar) return;  // validate / get_preds: not an epoch of training
  auto p = file();
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  f_ = std::fopen(p.c_str(), append_ ? "a" : "w");
  STRATA_CHECK(f_ != nullptr, IOError, "CSVLogger: cannot open {}", p.string());
  write(learn->recorder().metric_names);
  old_ = learn->logger;
  learn->logger = [this](const std::vector<std::string>& row) {
    write(row);
    if (old_) old_(row);
  };
}

void CSVLogger::write(const std::vector<std::string>& row) {
  if (!f_) return;
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + row[i];
  fmt::print(f_, "{}\n", line);
  std::fflush(f_);
}

void CSVLogger::after_fit() {
  if (!f_) return;
  std::fclose(f_);
  f_ = nullptr;
  learn->logger = old_;
}

}  // namespace strata::train
