// The backward engine. Two passes over the graph reachable from the roots:
//   1. number the reachable nodes and count, for every node, how many edges lead into it (its
//      dependencies);
//   2. run nodes whose dependencies are all satisfied, latest-created first, summing the
//      gradients that arrive for each of a node's outputs in an input buffer.
// Backward formulas run with grad mode off unless create_graph asks for a differentiable
// backward. Single-threaded: the kernels themselves are parallel.
//
// A backward through a few dozen tiny ops must cost microseconds, so the bookkeeping is flat:
// nodes are numbered through a small open-addressing table, dependency counts and input buffers
// are arrays indexed by that number, the ready set is a binary heap in a vector, and all of it
// lives in scratch space that a thread reuses from one backward to the next (a backward started
// from inside another, e.g. by a hook, takes fresh scratch).
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

// Checks the shape of a gradient against the tensor it flows into and converts it to that
// tensor's dtype (a formula may compute in a promoted dtype, e.g. where(cond, f32, f64)).
Tensor fit_gradient(const Node& producer, size_t i, const Tensor& g, const Node& consumer, uint32_t nr) {
  if (!g.defined() || nr >= consumer.outputs.size()) return g;
  const auto& want = consumer.outputs[nr];
  STRATA_CHECK(g.shape() == want.shape, AutogradError,
               "{} returned a gradient of shape {} for input {}, but that input has shape {}",
               producer.name(), g.shape(), i, want.shape);
  return g.dtype() == want.dtype ? g : g.to(want.dtype);
}

// Node* -> dense index, open addressing with linear probing; capacity is a power of two kept at
// least twice the number of keys.
class NodeIndex {
 public:
  void clear() {
    if (keys_.size() > 4096) {  // after a big graph: do not pay for its table in every backward
      keys_.clear();
      vals_.clear();
    } else {
      std::fill(keys_.begin(), keys_.end(), nullptr);
    }
    size_ = 0;
  }
  // The index of `n`, inserting it with index size() when absent; `inserted` says which.
  uint32_t insert(Node* n, bool& inserted) {
    if (2 * (size_ + 1) > keys_.size()) rehash(std::max<size_t>(64, keys_.size() * 2));
    size_t i = slot(n);
    while (keys_[i] && keys_[i] != n) i = (i + 1) & (keys_.size() - 1);
    inserted = keys_[i] == nullptr;
    if (inserted) {
      keys_[i] = n;
      vals_[i] = static_cast<uint32_t>(size_++);
    }
    return vals_[i];
  }
  // The index of a node known to be present.
  uint32_t at(Node* n) const {
    size_t i = slot(n);
    while (keys_[i] != n) i = (i + 1) & (keys_.size() - 1);
    return vals_[i];
  }
 private:
  size_t slot(Node* n) const {
    auto h = reinterpret_cast<uintptr_t>(n) >> 4;
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h >> 20) & (keys_.size() - 1);
  }
  void rehash(size_t cap) {
    std::vector<Node*> old_keys(cap, nullptr);
    std::vector<uint32_t> old_vals(cap, 0);
    old_keys.swap(keys_);
    old_vals.swap(vals_);
    for (size_t j = 0; j < old_keys.size(); ++j) {
      if (!old_keys[j]) continue;
      size_t i = slot(old_keys[j]);
      while (keys_[i]) i = (i + 1) & (keys_.size() - 1);
      keys_[i] = old_keys[j];
      vals_[i] = old_vals[j];
    }
  }
  std::vector<Node*> keys_;
  std::vector<uint32_t> vals_;
  size_t size_ = 0;
};

// Per-backward bookkeeping, reused by the next backward on the same thread.
struct Scratch {
  NodeIndex index;
  std::vector<Node*> nodes;        // by index
  std::vector<int32_t> deps;       // by index: edges still to deliver; -1 once queued
  std::vector<uint32_t> width;     // by index: input buffer slots (outputs, and any edge's input_nr)
  std::vector<uint32_t> first;     // by index: first slot of the node's input buffer
  std::vector<Tensor> buffer;      // input buffers, node after node
  std::vector<Node*> stack;        // pass 1
  std::vector<std::pair<uint64_t, uint32_t>> ready;  // heap of (sequence_nr, index)
  TensorList grads;                // the running node's incoming gradients (capacity reused)

  void clear() {
    index.clear();
    nodes.clear();
    deps.clear();
    width.clear();
    first.clear();
    buffer.clear();  // drops any gradient a failed backward left behind
    stack.clear();
    ready.clear();
    grads.clear();
  }
};

// A thread's spare scratch objects: a backward takes one and gives it back when done.
class ScratchLease {
 public:
  ScratchLease() {
    auto& pool = spares();
    if (pool.empty()) {
      s_ = std::make_unique<Scratch>();
    } else {
      s_ = std::move(pool.back());
      pool.pop_back();
    }
  }
  ~ScratchLease() {
    s_->clear();
    auto& pool = spares();
    if (pool.size() < 4) pool.push_back(std::move(s_));
  }
  Scratch& operator*() { return *s_; }

 private:
  static std::vector<std::unique_ptr<Scratch>>& spares() {
    static thread_local std::vector<std::unique_ptr<Scratch>> pool;
    return pool;
  }
  std::unique_ptr<Scratch> s_;
};

struct GraphTask {
  bool retain_graph = false;
  bool accumulate = true;  // false for autograd::grad: leaves' .grad() is not touched
  // captured gradients for autograd::grad: (node, output_nr, slot in `captured`)
  struct Capture {
    const Node* node;
    uint32_t output_nr;
    size_t slot;
  };
  std::vector<Capture> captures;
  TensorList captured;

  void run(const std::vector<Edge>& roots, const TensorList& seeds) {
    ScratchLease lease;
    Scratch& s = *lease;

    // Pass 1: number the nodes, count dependencies.
    auto visit = [&](Node* n) {
      bool inserted;
      const uint32_t i = s.index.insert(n, inserted);
      if (inserted) {
        s.nodes.push_back(n);
        s.deps.push_back(0);
        s.width.push_back(static_cast<uint32_t>(n->outputs.size()));
        s.stack.push_back(n);
      }
      return i;
    };
    auto widen = [&](uint32_t i, uint32_t nr) { s.width[i] = std::max(s.width[i], nr + 1); };
    for (const auto& e : roots)
      if (e.node) widen(visit(e.node.get()), e.input_nr);
    while (!s.stack.empty()) {
      Node* n = s.stack.back();
      s.stack.pop_back();
      for (const auto& e : n->next_edges) {
        if (!e.node) continue;
        const uint32_t j = visit(e.node.get());
        ++s.deps[j];
        widen(j, e.input_nr);
      }
    }
    const size_t count = s.nodes.size();
    s.first.resize(count + 1);
    uint32_t slots = 0;
    for (size_t i = 0; i < count; ++i) {
      s.first[i] = slots;
      slots += s.width[i];
    }
    s.first[count] = slots;
    s.buffer.resize(slots);

    // Pass 2: execution.
    auto add_grad = [&](uint32_t i, uint32_t nr, const Tensor& g) {
      if (!g.defined()) return;
      Tensor& slot = s.buffer[s.first[i] + nr];
      slot = slot.defined() ? add(slot, g) : g;
    };
    auto push_ready = [&](uint32_t i) {
      s.deps[i] = -1;  // queued
      s.ready.emplace_back(s.nodes[i]->sequence_nr, i);
      std::push_heap(s.ready.begin(), s.ready.end());
    };
    for (size_t r = 0; r < roots.size(); ++r) {
      if (!roots[r].node) continue;
      add_grad(s.index.at(roots[r].node.get()), roots[r].input_nr, seeds[r]);
    }
    for (const auto& e : roots) {
      if (!e.node) continue;
      const uint32_t i = s.index.at(e.node.get());
      if (s.deps[i] == 0) push_ready(i);
    }

    while (!s.ready.empty()) {
      std::pop_heap(s.ready.begin(), s.ready.end());
      const uint32_t index = s.ready.back().second;
      s.ready.pop_back();
      Node* node = s.nodes[index];
      // apply() takes the list by rvalue reference; when it leaves the vector in place its
      // capacity serves the next node.
      TensorList& grads = s.grads;
      grads.clear();
      for (uint32_t k = s.first[index]; k < s.first[index + 1]; ++k) grads.push_back(std::move(s.buffer[k]));
      if (grads.size() < node->outputs.size()) grads.resize(node->outputs.size());

      // Tensor hooks of non-leaf outputs (retain_grad's last, so it sees the final gradient),
      // then captures for autograd::grad.
      for (auto* hooks : {&node->tensor_pre_hooks, &node->retain_grad_hooks}) {
        for (auto& [nr, hook] : *hooks) {
          if (nr < grads.size() && grads[nr].defined()) {
            Tensor r = hook(grads[nr]);
            if (r.defined()) grads[nr] = r;
          }
        }
      }
      for (const Capture& c : captures)
        if (c.node == node && c.output_nr < grads.size()) captured[c.slot] = grads[c.output_nr];

      TensorList outs;
      const bool is_leaf_acc = node->is_accumulator();
      bool any = false;
      for (const auto& g : grads) any = any || g.defined();
      if (any && !(is_leaf_acc && !accumulate)) {
        STRATA_CHECK(!node->released, AutogradError,
                     "{}: trying to backward through the graph a second time; pass "
                     "retain_graph=true to the first backward",
                     node->name());
        // Missing gradients of multi-output nodes become zeros.
        for (size_t i = 0; i < grads.size(); ++i) {
          if (!grads[i].defined() && i < node->outputs.size()) {
            const auto& m = node->outputs[i];
            grads[i] = zeros(m.shape, {.dtype = m.dtype, .device = m.device});
          }
        }
        outs = node->apply(std::move(grads));
        grads.clear();  // free the incoming gradients now (the capacity stays)
        // Leaf accumulators hold nothing and are shared by every graph that uses the leaf.
        if (!retain_graph && !is_leaf_acc) {
          node->release_saved();
          node->released = true;
        }
      }

      for (size_t i = 0; i < node->next_edges.size(); ++i) {
        const Edge& e = node->next_edges[i];
        if (!e.node) continue;
        Node* next = e.node.get();
        const uint32_t j = s.index.at(next);
        if (i < outs.size() && outs[i].defined()) {
          add_grad(j, e.input_nr, fit_gradient(*node, i, outs[i], *next, e.input_nr));
        }
        if (--s.deps[j] == 0) push_ready(j);
      }
    }
  }
};

Tensor seed_for(const Tensor& root, const Tensor& g) {
  if (g.defined()) {
    STRATA_CHECK(g.shape() == root.shape(), ShapeError,
                 "backward: gradient has shape {} but the tensor has shape {}", g.shape(), root.shape());
    return g;
  }
  STRATA_CHECK(root.numel() == 1, AutogradError,
               "backward: a gradient must be given for a non-scalar tensor of shape {} (implicit "
               "gradients exist only for one-element outputs)",
               root.shape());
  return ones(root.shape(), {.dtype = root.dtype(), .device = root.device()});
}

}  // namespace

void run_backward(const TensorList& roots, const TensorList& grads, bool retain_graph) {
  std::vector<Edge> edges;
  TensorList seeds;
  edges.reserve(roots.size());
  seeds.reserve(roots.size());
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    STRATA_CHECK(r.requires_grad(), AutogradError,
                 "backward: tensor of shape {} does not require grad and has no grad_fn", r.shape());
    edges.push_back(gradient_edge(r));
    seeds.push_back(seed_for(r, i < grads.size() ? grads[i] : Tensor()));
  }
  NoGradGuard no_grad;
  GraphTask task;
  task.retain_graph = retain_graph;
  task.run(edges, seeds);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  std::vector<Edge> edges;
  TensorList seeds;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& r = outputs[i];
    STRATA_CHECK(r.requires_grad(), AutogradError,
                 "grad: output {} (shape {}) does not require grad", i, r.shape());
    edges.push_back(gradient_edge(r));
    seeds.push_back(seed_for(r, i < grad_outputs.size() ? grad_outputs[i] : Tensor()));
  }
  GraphTask task;
  task.retain_graph = retain_graph || create_graph;
  task.accumulate = false;
  task.captured.resize(inputs.size());
  std::vector<Edge> input_edges;  // keeps leaf accumulators alive while captures point at them
  for (size_t i = 0; i < inputs.size(); ++i) {
    STRATA_CHECK(inputs[i].requires_grad(), AutogradError,
                 "grad: input {} (shape {}) does not require grad", i, inputs[i].shape());
    Edge e = gradient_edge(inputs[i]);
    input_edges.push_back(e);
    task.captures.push_back({e.node.get(), e.input_nr, i});
  }
  {
    std::optional<NoGradGuard> no_grad;
    if (!create_graph) no_grad.emplace();
    task.run(edges, seeds);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    STRATA_CHECK(task.captured[i].defined() || allow_unused, AutogradError,
                 "grad: input {} (shape {}) was not used to compute the outputs; pass allow_unused=true",
                 i, inputs[i].shape());
  }
  return task.captured;
}

}  // namespace strata::autograd
