#pragma once
// Per-element math of the LSTM cell, shared by the CPU kernels (kernels/cpu/rnn.cpp) and a later
// CUDA kernel: one definition of the gate formulas and of their derivatives. Gate order is
// PyTorch's: input (i), forget (f), cell candidate (g), output (o).
//
//   forward   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
//             c' = f * c + i * g          h' = o * tanh(c')
//   backward  (given dh' and dc' reaching c' from later steps; t = tanh(c'))
//             dc  = dc' + dh' * o * (1 - t^2)
//             da_i = dc * g * i (1 - i)    da_f = dc * c * f (1 - f)
//             da_g = dc * i * (1 - g^2)    da_o = dh' * t * o (1 - o)
//             dc_prev = dc * f
// The backward works from the activated gates (what the forward keeps), so no pre-activation is
// stored. sigmoid and tanh are written on exp_value, which the CPU computes with the vectorizable
// f32 exp (kernels/fast_exp.h): the loops over a row of gates then run 8 or 16 wide.
#include <cmath>
#include <type_traits>

#include "kernels/functors.h"
#include "tensor/macros.h"

namespace strata::kernels {

// 1 / (1 + exp(-x)): exp overflows to inf for very negative x and the result is 0, as it should.
template <class T>
STRATA_HD_INLINE T lstm_sigmoid(T x) {
  return T(1) / (T(1) + exp_value(-x));
}

// tanh; f32 as 1 - 2 / (exp(2x) + 1) (absolute error a few 1e-8, branch-free), f64 exactly.
template <class T>
STRATA_HD_INLINE T lstm_tanh(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return T(1) - T(2) / (exp_value(T(2) * x) + T(1));
  } else {
    return std::tanh(x);
  }
}

template <class T>
struct LstmGates {
  T i, f, g, o;
};

struct LstmCellForwardF {
  // gates: pre-activations in, activations out; returns c' and h' through c and h.
  template <class T>
  STRATA_HD_INLINE void operator()(LstmGates<T>& gates, T c_prev, T& c, T& h) const {
    gates.i = lstm_sigmoid(gates.i);
    gates.f = lstm_sigmoid(gates.f);
    gates.g = lstm_tanh(gates.g);
    gates.o = lstm_sigmoid(gates.o);
    c = gates.f * c_prev + gates.i * gates.g;
    h = gates.o * lstm_tanh(c);
  }
};

struct LstmCellBackwardF {
  // gates: the activations kept by the forward; c_prev and c: the cell state before and after the
  // step; dh and dc: the gradients reaching h' and c'. Writes the pre-activation gradients and
  // the gradient of c_prev.
  template <class T>
  STRATA_HD_INLINE void operator()(const LstmGates<T>& gates, T c_prev, T c, T dh, T dc, LstmGates<T>& dpre,
                                   T& dc_prev) const {
    const T t = lstm_tanh(c);
    const T dc_total = dc + dh * gates.o * (T(1) - t * t);
    dpre.i = dc_total * gates.g * gates.i * (T(1) - gates.i);
    dpre.f = dc_total * c_prev * gates.f * (T(1) - gates.f);
    dpre.g = dc_total * gates.i * (T(1) - gates.g * gates.g);
    dpre.o = dh * t * gates.o * (T(1) - gates.o);
    dc_prev = dc_total * gates.f;
  }
};

}  // namespace strata::kernels
