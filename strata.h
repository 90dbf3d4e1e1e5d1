#pragma once
// Strata: the umbrella header of the low level (tensor, ops, autograd).
#include "autograd/gradcheck.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "kernels/cpu/parallel.h"
#include "tensor/device.h"
#include "tensor/dispatch.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/semantic.h"
#include "tensor/tensor.h"
