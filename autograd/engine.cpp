// The backward engine. Two passes over the graph reachable from the roots:
//   1. count, for every node, how many edges lead into it (its dependencies);
//   2. run nodes whose dependencies are all satisfied, latest-created first, summing the
//      gradients that arrive for each of a node's outputs in an input buffer.
// Backward formulas run with grad mode off unless create_graph asks for a differentiable
// backward. Single-threaded: the kernels themselves are parallel.
#include <optional>
#include <queue>
#include <unordered_map>

#include "autograd/record.h"
#include "tensor/ops.h"

namespace strata::autograd {
namespace {

struct ReadyOrder {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

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

struct GraphTask {
  bool retain_graph = false;
  bool accumulate = true;  // false for autograd::grad: leaves' .grad() is not touched
  // captured gradients for autograd::grad: (node, output_nr) -> slot in `captured`
  std::unordered_map<const Node*, std::vector<std::pair<uint32_t, size_t>>> captures;
  TensorList captured;

  void run(const std::vector<Edge>& roots, const TensorList& seeds) {
    // Pass 1: dependencies.
    std::unordered_map<Node*, int> deps;
    std::vector<Node*> stack;
    std::unordered_map<Node*, bool> seen;
    for (const auto& e : roots) {
      if (e.node && !seen[e.node.get()]) {
        seen[e.node.get()] = true;
        stack.push_back(e.node.get());
      }
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const auto& e : n->next_edges) {
        if (!e.node) continue;
        ++deps[e.node.get()];
        if (!seen[e.node.get()]) {
          seen[e.node.get()] = true;
          stack.push_back(e.node.get());
        }
      }
    }

    // Pass 2: execution.
    std::unordered_map<Node*, TensorList> buffers;
    std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
    auto add_grad = [&](Node* n, uint32_t nr, const Tensor& g) {
      auto& buf = buffers[n];
      if (buf.size() < std::max<size_t>(n->outputs.size(), nr + 1)) buf.resize(std::max<size_t>(n->outputs.size(), nr + 1));
      if (!g.defined()) return;
      buf[nr] = buf[nr].defined() ? add(buf[nr], g) : g;
    };
    for (size_t i = 0; i < roots.size(); ++i) {
      if (!roots[i].node) continue;
      add_grad(roots[i].node.get(), roots[i].input_nr, seeds[i]);
    }
    for (const auto& e : roots) {
      Node* n = e.node.get();
      if (n && deps[n] == 0) {
        deps[n] = -1;  // queued
        ready.push(n);
      }
    }

    while (!ready.empty()) {
      Node* node = ready.top();
      ready.pop();
      TensorList grads = std::move(buffers[node]);
      buffers.erase(node);
      grads.resize(std::max(grads.size(), node->outputs.size()));

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
      if (auto it = captures.find(node); it != captures.end()) {
        for (auto [nr, slot] : it->second)
          if (nr < grads.size()) captured[slot] = grads[nr];
      }

      TensorList outs;
      const bool is_leaf_acc = dynamic_cast<AccumulateGrad*>(node) != nullptr;
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
        // A leaf's accumulator saves nothing and is shared by every graph that uses the leaf:
        // it must stay usable for the next graph even while this one is still referenced.
        if (!retain_graph && !is_leaf_acc) {
          node->release_saved();
          node->released = true;
        }
      }

      for (size_t i = 0; i < node->next_edges.size(); ++i) {
        const Edge& e = node->next_edges[i];
        if (!e.node) continue;
        Node* next = e.node.get();
        if (i < outs.size() && outs[i].defined()) add_grad(next, e.input_nr, fit_gradient(*node, i, outs[i], *next, e.input_nr));
        if (--deps[next] == 0) {
          deps[next] = -1;
          ready.push(next);
        }
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
    task.captures[e.node.get()].push_back({e.input_nr, i});
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
