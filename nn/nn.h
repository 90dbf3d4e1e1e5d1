#pragma once
// Everything in strata::nn: the Module core, the layer library, losses, init and summary.
#include "nn/activation.h"
#include "nn/basic.h"
#include "nn/conv.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/norm.h"
#include "nn/sequential.h"
#include "nn/summary.h"
