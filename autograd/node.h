#pragma once
// The autograd graph: every tensor produced by a differentiable op from inputs that require grad
// points (grad_fn) at a Node. A Node holds what its backward formula needs (SavedTensor) and
// Edges to the nodes of its inputs. Leaves accumulate into .grad() through an AccumulateGrad node.
//
// A backward formula is a Node subclass with a name and an apply() written in tensor ops, so it
// runs on any device:
//
//   struct MulBackward final : Node {
//     SavedTensor a, b;
//     std::string name() const override { return "MulBackward"; }
//     TensorList apply(TensorList&& g) override { return {g[0] * b.get(this), g[0] * a.get(this)}; }
//   };
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/small_alloc.h"
#include "tensor/tensor.h"

namespace strata::autograd {

using TensorList = std::vector<Tensor>;

struct Node;
struct Edge;
// A node's edges (one per forward input), from the small-object pool (tensor/small_alloc.h).
using EdgeList = std::vector<Edge, PoolAllocator<Edge>>;

struct Edge {
  std::shared_ptr<Node> node;  // null: the input needs no gradient
  uint32_t input_nr = 0;       // which of node's outputs this edge feeds
  bool valid() const { return node != nullptr; }
};

// A tensor saved for backward, with the version it had when saved.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t, bool is_output = false) { save(t, is_output); }
  // Outputs of the op being recorded are saved without their history (is_output), which would
  // otherwise make a reference cycle output -> node -> output.
  void save(const Tensor& t, bool is_output = false);
  // The saved tensor; throws AutogradError naming `node` if it was modified in place since, or
  // if the graph was already freed by a backward without retain_graph.
  Tensor get(const Node* node) const;
  void reset() {
    tensor_ = Tensor();
    released_ = true;
  }
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;
  uint32_t version_ = 0;
  bool released_ = false;
};

struct Node : std::enable_shared_from_this<Node> {
  // Releases the chain of nodes behind this one iteratively: a graph tens of thousands of ops
  // deep would otherwise be destroyed by recursion through next_edges and overflow the stack.
  virtual ~Node();
  // One gradient per output of the forward op in, one per input of the forward op out
  // (undefined where an input needs no gradient).
  virtual TensorList apply(TensorList&& grads) = 0;
  virtual std::string name() const = 0;
  // Frees saved tensors after a backward without retain_graph, and before a node is destroyed
  // (see ~Node): an override must reset every SavedTensor the node holds.
  virtual void release_saved() {}

  // Every op on a tensor that requires grad makes a node: its lists come from the small-object
  // pool (tensor/small_alloc.h), like the node itself (make_node).
  EdgeList next_edges;  // one per forward input
  uint64_t sequence_nr = 0;      // creation order: later nodes run first when both are ready
  // Shapes/dtypes/devices of the forward outputs: an undefined incoming gradient is replaced by
  // zeros of this metadata when another output of the same node has one.
  struct OutputMeta {
    Shape shape;
    DType dtype;
    Device device;
  };
  std::vector<OutputMeta, PoolAllocator<OutputMeta>> outputs;
  // Hooks of non-leaf tensors: run on the gradient of output `first` before apply().
  std::vector<std::pair<uint32_t, std::function<Tensor(const Tensor&)>>> tensor_pre_hooks;
  // retain_grad() hooks: run after tensor_pre_hooks, so .grad() holds the final gradient.
  std::vector<std::pair<uint32_t, std::function<Tensor(const Tensor&)>>> retain_grad_hooks;
  bool released = false;  // saved tensors freed by a backward without retain_graph
  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].valid(); }
  // True for AccumulateGrad: the engine keeps such nodes usable across graphs.
  virtual bool is_accumulator() const { return false; }
};

// Accumulates incoming gradients into a leaf tensor's .grad().
struct AccumulateGrad final : Node {
  std::weak_ptr<TensorImpl> leaf;
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& t) : leaf(t) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  bool is_accumulator() const override { return true; }
};

struct AutogradMeta {
  // Every result of a recorded op gets one: from the small-object pool.
  static void* operator new(size_t n) { return detail::small_alloc(n); }
  static void operator delete(void* p, size_t n) noexcept { detail::small_free(p, n); }

  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;            // null for leaves
  uint32_t output_nr = 0;                   // which output of grad_fn this tensor is
  std::weak_ptr<AccumulateGrad> accumulator;  // leaves: created on first use
  std::vector<std::function<Tensor(const Tensor&)>> hooks;
};

AutogradMeta& autograd_meta(const Tensor& t);        // creates it when missing
const AutogradMeta* autograd_meta_or_null(const Tensor& t);

// The edge a gradient for `t` must flow into: its grad_fn, or its leaf accumulator, or nothing.
Edge gradient_edge(const Tensor& t);

// Runs reverse mode from `roots` with seed gradients `grads` (tensor/... backward() calls this).
void run_backward(const TensorList& roots, const TensorList& grads, bool retain_graph);

// Computes and returns d(outputs)/d(inputs) without touching .grad() (used by gradcheck and for
// higher-level utilities). `create_graph` records the backward itself for double backward.
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs = {},
                bool retain_graph = false, bool create_graph = false, bool allow_unused = false);

}  // namespace strata::autograd
