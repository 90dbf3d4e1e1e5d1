// Node bookkeeping: saved tensors, leaf accumulation, and the helpers op front ends use to
// record themselves (autograd/record.h).
#include <atomic>

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {

// ---- Node ----
Node::~Node() {
  // Take over the nodes that only this one keeps alive; each is then destroyed here with its
  // edges already moved out, so no destructor recurses more than one level.
  std::vector<std::shared_ptr<Node>> stack;
  auto take_unique = [&stack](EdgeList& edges) {
    for (auto& e : edges)
      if (e.node && e.node.use_count() == 1) stack.push_back(std::move(e.node));
  };
  take_unique(next_edges);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    // Saved inputs hold their own grad_fn (the node behind an edge); dropping them first leaves
    // the edge as that node's last owner, so it lands on this stack instead of recursing.
    n->release_saved();
    take_unique(n->next_edges);
  }
}

// ---- SavedTensor ----
void SavedTensor::save(const Tensor& t, bool is_output) {
  released_ = false;
  if (!t.defined()) {
    tensor_ = Tensor();
    return;
  }
  tensor_ = is_output ? t.detach() : t;
  version_ = t.version();
}

Tensor SavedTensor::get(const Node* node) const {
  if (released_) {
    STRATA_THROW(AutogradError,
                 "{}: trying to backward through the graph a second time (or to use saved tensors "
                 "after they were freed); pass retain_graph=true to the first backward",
                 node ? node->name() : "backward");
  }
  if (tensor_.defined() && tensor_.version() != version_) {
    STRATA_THROW(AutogradError,
                 "{}: a tensor of shape {} saved for the gradient computation was modified by an "
                 "in-place operation (version {} when saved, now {})",
                 node ? node->name() : "backward", tensor_.shape(), version_, tensor_.version());
  }
  return tensor_;
}

// ---- metadata ----
AutogradMeta& autograd_meta(const Tensor& t) {
  auto& impl = t.impl();
  if (!impl.autograd) impl.autograd = std::make_unique<AutogradMeta>();
  return *impl.autograd;
}

const AutogradMeta* autograd_meta_or_null(const Tensor& t) { return t.impl().autograd.get(); }

Edge gradient_edge(const Tensor& t) {
  auto* meta = t.impl().autograd.get();
  if (!meta || !meta->requires_grad) return {};
  if (meta->grad_fn) return {meta->grad_fn, meta->output_nr};
  auto acc = meta->accumulator.lock();
  if (!acc) {
    acc = std::allocate_shared<AccumulateGrad>(PoolAllocator<AccumulateGrad>(), t.impl_ptr());
    acc->outputs.push_back({t.shape(), t.dtype(), t.device()});
    meta->accumulator = acc;
  }
  return {acc, 0};
}

// ---- leaf accumulation ----
TensorList AccumulateGrad::apply(TensorList&& grads) {
  auto impl = leaf.lock();
  if (!impl || grads.empty() || !grads[0].defined()) return {};
  Tensor self(impl);
  auto& meta = autograd_meta(self);
  Tensor g = grads[0];
  for (auto& hook : meta.hooks) {
    Tensor r = hook(g);
    if (r.defined()) g = r;
  }
  if (!meta.grad.defined()) {
    // Steal the incoming gradient when nothing else can see it; otherwise copy, so that an
    // in-place change of one leaf's grad cannot show up in another's.
    const bool unshared = g.impl_ptr().use_count() <= 2 && g.storage().use_count() == 1 && g.is_contiguous();
    meta.grad = unshared ? g.detach() : g.detach().clone();
  } else if (!GradMode::is_enabled() && meta.grad.impl_ptr().use_count() == 1 &&
             meta.grad.storage().use_count() == 1 && meta.grad.dtype() == g.dtype() &&
             meta.grad.shape() == g.shape()) {
    // Nothing else can see the current grad: accumulate in place (no new buffer per backward).
    add_(meta.grad, g);
  } else {
    meta.grad = add(meta.grad, g);  // out of place: earlier references to .grad() stay valid
  }
  return {};
}

// ---- recording ----
bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const TensorList& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs) {
  node.sequence_nr = next_sequence_nr();
  node.next_edges.reserve(inputs.size());
  for (const Tensor* t : inputs) node.next_edges.push_back(t && t->defined() ? gradient_edge(*t) : Edge{});
}

void connect_inputs(Node& node, const TensorList& inputs) {
  node.sequence_nr = next_sequence_nr();
  node.next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node.next_edges.push_back(t.defined() ? gradient_edge(t) : Edge{});
}

void set_history(const Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr) {
  auto& meta = autograd_meta(out);
  meta.requires_grad = true;
  meta.grad_fn = node;
  meta.output_nr = output_nr;
  if (node->outputs.size() <= output_nr) node->outputs.resize(output_nr + 1);
  node->outputs[output_nr] = {out.shape(), out.dtype(), out.device()};
}

void set_history(const TensorList& outs, const std::shared_ptr<Node>& node) {
  for (size_t i = 0; i < outs.size(); ++i)
    if (outs[i].defined()) set_history(outs[i], node, static_cast<uint32_t>(i));
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (!grad.defined() || grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - shape.ndim();
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < grad.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
    } else if (shape[i - lead] == 1 && grad.size(i) != 1) {
      dims.push_back(i);
    }
  }
  Tensor r = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return r.reshape(shape);
}

void check_inplace(const char* op, const Tensor& t) {
  const auto* meta = t.impl().autograd.get();
  if (!meta || !meta->requires_grad) return;
  if (!meta->grad_fn) {
    STRATA_CHECK(!GradMode::is_enabled(), AutogradError,
                 "{}: a leaf tensor of shape {} that requires grad is used in an in-place operation; "
                 "wrap the update in NoGradGuard or detach() first",
                 op, t.shape());
    return;
  }
  STRATA_CHECK(!GradMode::is_enabled(), AutogradError,
               "{}: in-place operations on tensors that are part of the autograd graph (shape {}, "
               "produced by {}) are not supported; use the out-of-place op",
               op, t.shape(), meta->grad_fn->name());
}

}  // namespace strata::autograd
