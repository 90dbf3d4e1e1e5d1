// Sequential: the chain is its children list; nothing else to store. forward looks one child
// ahead for a BatchNorm -> ReLU pair (nn/sequential.h): a type test per child, cheap next to any
// layer's forward. Only the exact classes fuse (a subclass may override forward; LeakyReLU is not
// ReLU), and only without hooks on either module. Effect on the reference CNN (bench_fashion_cnn,
// STRATA_FUSION=0 vs 1, 1 thread): epoch CPU time 57.09 s -> 55.26 s, peak RSS 687 -> 646 MiB
// (kernels/cpu/norm_batch.cpp has the details).
#include "nn/sequential.h"

#include <atomic>
#include <string>
#include <typeinfo>

#include "nn/activation.h"
#include "nn/norm.h"
#include "tensor/error.h"

namespace strata::nn {
namespace {

std::atomic<bool> g_fusion_enabled{true};

// The BatchNorm of a fusable BatchNorm -> ReLU pair (first, second), or null.
BatchNormBase* fusable_batch_norm(Module& first, Module& second) {
  const std::type_info& t = typeid(first);
  if (t != typeid(BatchNorm1d) && t != typeid(BatchNorm2d) && t != typeid(BatchNorm3d)) return nullptr;
  if (typeid(second) != typeid(ReLU)) return nullptr;
  if (first.has_forward_hooks() || second.has_forward_hooks()) return nullptr;
  return static_cast<BatchNormBase*>(&first);
}

}  // namespace

void set_fusion_enabled(bool on) { g_fusion_enabled.store(on, std::memory_order_relaxed); }
bool fusion_enabled() { return g_fusion_enabled.load(std::memory_order_relaxed); }

Sequential::Sequential(std::vector<ModulePtr> layers) : Module("Sequential") {
  for (auto& l : layers) push_back(std::move(l));
}

void Sequential::push_back(ModulePtr layer) { add_child(std::to_string(size()), std::move(layer)); }

ModulePtr Sequential::operator[](int64_t index) const {
  int64_t n = size();
  STRATA_CHECK(index >= -n && index < n, IndexError, "Sequential: index {} out of range for {} layers", index, n);
  return named_children()[index < 0 ? index + n : index].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  const auto layers = named_children();
  const bool fuse = fusion_enabled();
  for (size_t i = 0; i < layers.size(); ++i) {
    Module& layer = *layers[i].second;
    if (fuse && i + 1 < layers.size()) {
      if (BatchNormBase* bn = fusable_batch_norm(layer, *layers[i + 1].second)) {
        y = bn->forward_fused_relu(y);
        ++i;  // the ReLU ran inside the fused op
        continue;
      }
    }
    y = layer(y);
  }
  return y;
}

}  // namespace strata::nn
