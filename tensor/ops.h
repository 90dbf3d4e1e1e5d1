#pragma once
// All tensor ops. Each family has its own header in tensor/ops/.
#include "tensor/ops/conv.h"
#include "tensor/ops/dropout.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/embedding.h"
#include "tensor/ops/index.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/norm.h"
#include "tensor/ops/pool.h"
#include "tensor/ops/random.h"
#include "tensor/ops/reduce.h"
#include "tensor/tensor.h"
