#pragma once
// What an op front end calls to put its result on the autograd graph:
//
//   if (autograd::needs_grad({&a, &b})) {
//     auto node = autograd::make_node<MulBackward>({&a, &b});
//     node->a.save(a); node->b.save(b);
//     autograd::set_history(out, node);
//   }
#include <initializer_list>
#include <memory>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace strata::autograd {

// True when recording is on and at least one input requires grad.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const TensorList& inputs);

uint64_t next_sequence_nr();

void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs);
void connect_inputs(Node& node, const TensorList& inputs);

// Nodes come from the small-object pool (tensor/small_alloc.h): a tiny op's node is a few
// instructions to allocate and free.
template <class N, class... Args>
std::shared_ptr<N> make_node(std::initializer_list<const Tensor*> inputs, Args&&... args) {
  auto node = std::allocate_shared<N>(PoolAllocator<N>(), std::forward<Args>(args)...);
  connect_inputs(*node, inputs);
  return node;
}
template <class N, class... Args>
std::shared_ptr<N> make_node_list(const TensorList& inputs, Args&&... args) {
  auto node = std::allocate_shared<N>(PoolAllocator<N>(), std::forward<Args>(args)...);
  connect_inputs(*node, inputs);
  return node;
}

// Makes `out` output number `output_nr` of `node` (out then requires grad).
void set_history(const Tensor& out, const std::shared_ptr<Node>& node, uint32_t output_nr = 0);
void set_history(const TensorList& outs, const std::shared_ptr<Node>& node);

// Reduces a gradient of a broadcast result back to an input's shape (sums the broadcast dims).
Tensor sum_to(const Tensor& grad, const Shape& shape);

// Raises AutogradError when an in-place op would modify a tensor autograd needs unchanged:
// a leaf that requires grad, or (with grad mode on) any tensor that requires grad.
void check_inplace(const char* op, const Tensor& t);

}  // namespace strata::autograd
