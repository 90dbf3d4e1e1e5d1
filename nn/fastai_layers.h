#pragma once
// fastai's layers (fastai/layers.py) in one include: ConvLayer and norm types, SequentialEx /
// MergeLayer / ProdLayer, AdaptiveConcatPool2d, LinBnDrop, SelfAttention / SimpleSelfAttention,
// PixelShuffle_ICNR, ResBlock / SEModule. Each topic has its own header.
#include "nn/conv_layer.h"
#include "nn/merge.h"
#include "nn/pixel_shuffle.h"
#include "nn/res_block.h"
#include "nn/self_attention.h"
