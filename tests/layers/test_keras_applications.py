"""Specs of keras.applications networks, written as a Keras user would, against Keras.

Each spec is the network of ``keras.applications.<Net>(weights=None)`` written in
the spec language (Keras's layer and parameter names, blocks, repeat, named
graphs). The built model must have Keras's parameter count and the same weight
shapes in the same order (so Keras's weights copy in with ``set_weights``); for
EfficientNet-B0 and MobileNetV2 the copied weights must give Keras's outputs.
They use what a port of Keras's sources needs: `repeat: 0` for optional layers,
`and` and list values in expressions, `noise_shape` (stochastic depth), Keras's
serialised initialisers, `depthwise_initializer`, `- ReLU: 6`, and multiply of a
(None, 1, 1, C) gate. Larger networks are marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest

from compiler.api import build_model, load_spec

MOBILENET_SPEC = '''\
nncompile: 1
name: mobilenet_1.00_224
description: keras.applications.MobileNet (v1), alpha 1.0, 224x224.
vars:
  alpha: 1.0
  depth_multiplier: 1
  classes: 1000
blocks:
  dw_block:      # _depthwise_conv_block, stride 1
    params: {filters: null, id: null}
    layers:
      - DepthwiseConv2D: {kernel_size: [3, 3], padding: same, depth_multiplier: $depth_multiplier,
                          use_bias: false, name: "conv_dw_${id}"}
      - BatchNormalization: {name: "conv_dw_${id}_bn"}
      - ReLU: {max_value: 6, name: "conv_dw_${id}_relu"}
      - Conv2D: {filters: int($filters * $alpha), kernel_size: [1, 1], padding: same,
                 use_bias: false, strides: [1, 1], name: "conv_pw_${id}"}
      - BatchNormalization: {name: "conv_pw_${id}_bn"}
      - ReLU: {max_value: 6, name: "conv_pw_${id}_relu"}
  dw_block_s2:   # _depthwise_conv_block, stride 2
    params: {filters: null, id: null}
    layers:
      - ZeroPadding2D: {padding: [[0, 1], [0, 1]], name: "conv_pad_${id}"}
      - DepthwiseConv2D: {kernel_size: [3, 3], strides: [2, 2], padding: valid,
                          depth_multiplier: $depth_multiplier, use_bias: false,
                          name: "conv_dw_${id}"}
      - BatchNormalization: {name: "conv_dw_${id}_bn"}
      - ReLU: {max_value: 6, name: "conv_dw_${id}_relu"}
      - Conv2D: {filters: int($filters * $alpha), kernel_size: [1, 1], padding: same,
                 use_bias: false, name: "conv_pw_${id}"}
      - BatchNormalization: {name: "conv_pw_${id}_bn"}
      - ReLU: {max_value: 6, name: "conv_pw_${id}_relu"}
inputs:
  input_layer: [224, 224, 3]
layers:
  - Conv2D: {filters: int(32 * $alpha), kernel_size: [3, 3], padding: same, use_bias: false,
             strides: [2, 2], name: conv1}
  - BatchNormalization: {axis: -1, name: conv1_bn}
  - ReLU: 6.0
  - dw_block: {filters: 64, id: 1}
  - dw_block_s2: {filters: 128, id: 2}
  - dw_block: {filters: 128, id: 3}
  - dw_block_s2: {filters: 256, id: 4}
  - dw_block: {filters: 256, id: 5}
  - dw_block_s2: {filters: 512, id: 6}
  - dw_block: {filters: 512, id: 7}
  - dw_block: {filters: 512, id: 8}
  - dw_block: {filters: 512, id: 9}
  - dw_block: {filters: 512, id: 10}
  - dw_block: {filters: 512, id: 11}
  - dw_block_s2: {filters: 1024, id: 12}
  - dw_block: {filters: 1024, id: 13}
  - GlobalAveragePooling2D: {keepdims: true}
  - Dropout: {rate: 1e-3, name: dropout}
  - Conv2D: {filters: $classes, kernel_size: [1, 1], padding: same, name: conv_preds}
  - Reshape: {target_shape: [$classes], name: reshape_2}
  - Activation: {activation: softmax, name: predictions}
outputs: [predictions]
'''

MOBILENETV2_SPEC = '''\
nncompile: 1
name: mobilenetv2_1.00_224
description: keras.applications.MobileNetV2, alpha 1.0, 224x224, block by block as Keras's
  _inverted_res_block.
vars:
  alpha: 1.0
blocks:
  # expand (1x1, not in block 0) → pad (stride 2) → depthwise 3x3 → project (1x1) → add (same shape)
  inverted_res_block:
    params: {in_channels: null, filters: null, stride: 1, expansion: 6, block_id: null}
    layers:
      - Conv2D: {filters: $expansion * $in_channels, kernel_size: 1, padding: same, use_bias: false,
                 name: expand, repeat: "1 if $block_id else 0"}
      - BatchNormalization: {epsilon: 1e-3, momentum: 0.999, name: expand_BN,
                             repeat: "1 if $block_id else 0"}
      - ReLU: {max_value: 6, name: expand_relu, repeat: "1 if $block_id else 0"}
      - ZeroPadding2D: {padding: [[0, 1], [0, 1]], name: pad, repeat: "1 if $stride == 2 else 0"}
      - DepthwiseConv2D: {kernel_size: 3, strides: $stride, use_bias: false,
                          padding: "'same' if $stride == 1 else 'valid'", name: depthwise}
      - BatchNormalization: {epsilon: 1e-3, momentum: 0.999, name: depthwise_BN}
      - ReLU: 6
      - Conv2D: {filters: "max(8, int(int($filters * $alpha) + 4) // 8 * 8)", kernel_size: 1,
                 padding: same, use_bias: false, name: project}
      - BatchNormalization: {epsilon: 1e-3, momentum: 0.999, name: project_BN}
      - Add: {inputs: [in, project_BN], name: add,
              repeat: "1 if $in_channels == $filters * $alpha and $stride == 1 else 0"}
inputs:
  input_layer: [224, 224, 3]
layers:
  - Conv2D: {filters: 32, kernel_size: 3, strides: [2, 2], padding: same, use_bias: false,
             name: Conv1}
  - BatchNormalization: {epsilon: 1e-3, momentum: 0.999, name: bn_Conv1}
  - ReLU: {max_value: 6.0, name: Conv1_relu}
  - inverted_res_block: {in_channels: 32,  filters: 16,  expansion: 1, block_id: 0,
                         name: expanded_conv}
  - inverted_res_block: {in_channels: 16,  filters: 24,  stride: 2, block_id: 1, name: block_1}
  - inverted_res_block: {in_channels: 24,  filters: 24,  block_id: 2,  name: block_2}
  - inverted_res_block: {in_channels: 24,  filters: 32,  stride: 2, block_id: 3, name: block_3}
  - inverted_res_block: {in_channels: 32,  filters: 32,  block_id: 4,  name: block_4}
  - inverted_res_block: {in_channels: 32,  filters: 32,  block_id: 5,  name: block_5}
  - inverted_res_block: {in_channels: 32,  filters: 64,  stride: 2, block_id: 6, name: block_6}
  - inverted_res_block: {in_channels: 64,  filters: 64,  block_id: 7,  name: block_7}
  - inverted_res_block: {in_channels: 64,  filters: 64,  block_id: 8,  name: block_8}
  - inverted_res_block: {in_channels: 64,  filters: 64,  block_id: 9,  name: block_9}
  - inverted_res_block: {in_channels: 64,  filters: 96,  block_id: 10, name: block_10}
  - inverted_res_block: {in_channels: 96,  filters: 96,  block_id: 11, name: block_11}
  - inverted_res_block: {in_channels: 96,  filters: 96,  block_id: 12, name: block_12}
  - inverted_res_block: {in_channels: 96,  filters: 160, stride: 2, block_id: 13, name: block_13}
  - inverted_res_block: {in_channels: 160, filters: 160, block_id: 14, name: block_14}
  - inverted_res_block: {in_channels: 160, filters: 160, block_id: 15, name: block_15}
  - inverted_res_block: {in_channels: 160, filters: 320, block_id: 16, name: block_16}
  - Conv2D: {filters: 1280, kernel_size: 1, use_bias: false, name: Conv_1}
  - BatchNormalization: {epsilon: 1e-3, momentum: 0.999, name: Conv_1_bn}
  - ReLU: {max_value: 6.0, name: out_relu}
  - GlobalAveragePooling2D
  - Dense: {units: 1000, activation: softmax, name: predictions}
outputs: [predictions]
expect:
  params: 3538984
'''

EFFICIENTNETB0_SPEC = '''\
nncompile: 1
name: efficientnetb0
description: >
  keras.applications.EfficientNetB0 (weights=None), 224x224: the stem, seven
  stages of MBConv blocks (the table DEFAULT_BLOCKS_ARGS of Keras's source),
  squeeze-and-excitation, stochastic depth, and the top.
vars:
  act: swish
  drop_connect: 0.2
  nblocks: 16          # blocks in all stages, for the stochastic depth rate
  conv_init: {class_name: VarianceScaling, config: {scale: 2.0, mode: fan_out,
                                                    distribution: truncated_normal}}
  dense_init: {class_name: VarianceScaling, config: {scale: 0.3333333333333333, mode: fan_out,
                                                     distribution: uniform}}
blocks:
  # Keras's block(): (expand) → depthwise → squeeze-excite → project (→ drop → add)
  mbconv:
    params: {fin: null, fout: null, kernel: 3, strides: 1, expand: 6, se_ratio: 0.25, b: null}
    layers:
      - Conv2D: {filters: $fin * $expand, kernel_size: 1, padding: same, use_bias: false,
                 kernel_initializer: $conv_init, name: expand_conv,
                 repeat: "0 if $expand == 1 else 1"}
      - BatchNormalization: {axis: 3, name: expand_bn, repeat: "0 if $expand == 1 else 1"}
      - Activation: {activation: $act, name: expand_activation, repeat: "0 if $expand == 1 else 1"}
      - ZeroPadding2D: {padding:
                          "[[$kernel // 2 - 1, $kernel // 2], [$kernel // 2 - 1, $kernel // 2]]",
                        name: dwconv_pad, repeat: "1 if $strides == 2 else 0"}
      - DepthwiseConv2D: {kernel_size: $kernel, strides: $strides,
                          padding: "'valid' if $strides == 2 else 'same'",
                          use_bias: false, depthwise_initializer: $conv_init, name: dwconv}
      - BatchNormalization: {axis: 3, name: bn}
      - Activation: {activation: $act, name: activation}
      - GlobalAveragePooling2D: {name: se_squeeze}
      - Reshape: {target_shape: [1, 1, $fin * $expand], name: se_reshape}
      - Conv2D: {filters: "max(1, int($fin * $se_ratio))", kernel_size: 1, padding: same,
                 activation: $act, kernel_initializer: $conv_init, name: se_reduce}
      - Conv2D: {filters: $fin * $expand, kernel_size: 1, padding: same, activation: sigmoid,
                 kernel_initializer: $conv_init, name: se_expand}
      - multiply: {inputs: [activation, se_expand], name: se_excite}
      - Conv2D: {filters: $fout, kernel_size: 1, padding: same, use_bias: false,
                 kernel_initializer: $conv_init, name: project_conv}
      - BatchNormalization: {axis: 3, name: project_bn}
      # identity skip when the shape is kept, with stochastic depth
      - Dropout: {rate: $drop_connect * $b / $nblocks, noise_shape: [null, 1, 1, 1], name: drop,
                  repeat: "1 if $strides == 1 and $fin == $fout and $b > 0 else 0"}
      - add: {inputs: [drop, in], name: add, repeat: "1 if $strides == 1 and $fin == $fout else 0"}
  # a stage: the first block changes size and width, the others repeat it
  mbconv_rest:
    params: {filters: null, kernel: null, expand: null, b0: null}
    layers:
      - mbconv: {fin: $filters, fout: $filters, kernel: $kernel, expand: $expand, b: $b0 + $index}
  stage:
    params: {fin: null, fout: null, kernel: null, strides: null, expand: 6, repeats: null, b0: null}
    layers:
      - mbconv: {fin: $fin, fout: $fout, kernel: $kernel, strides: $strides, expand: $expand,
                 b: $b0, name: a}
      - mbconv_rest: {filters: $fout, kernel: $kernel, expand: $expand, b0: $b0 + 1,
                      repeat: $repeats - 1, name: b}
inputs:
  input_layer: [224, 224, 3]
layers:
  - Rescaling: {scale: "${1 / 255}"}
  - Normalization: {axis: -1}
  - ZeroPadding2D: {padding: [[0, 1], [0, 1]], name: stem_conv_pad}
  - Conv2D: {filters: 32, kernel_size: 3, strides: 2, padding: valid, use_bias: false,
             kernel_initializer: $conv_init, name: stem_conv}
  - BatchNormalization: {axis: 3, name: stem_bn}
  - Activation: {activation: $act, name: stem_activation}
  #                                                                    blocks before
  - stage: {fin: 32,  fout: 16,  kernel: 3, strides: 1, expand: 1, repeats: 1, b0: 0,  name: block1}
  - stage: {fin: 16,  fout: 24,  kernel: 3, strides: 2, repeats: 2, b0: 1,  name: block2}
  - stage: {fin: 24,  fout: 40,  kernel: 5, strides: 2, repeats: 2, b0: 3,  name: block3}
  - stage: {fin: 40,  fout: 80,  kernel: 3, strides: 2, repeats: 3, b0: 5,  name: block4}
  - stage: {fin: 80,  fout: 112, kernel: 5, strides: 1, repeats: 3, b0: 8,  name: block5}
  - stage: {fin: 112, fout: 192, kernel: 5, strides: 2, repeats: 4, b0: 11, name: block6}
  - stage: {fin: 192, fout: 320, kernel: 3, strides: 1, repeats: 1, b0: 15, name: block7}
  - Conv2D: {filters: 1280, kernel_size: 1, padding: same, use_bias: false,
             kernel_initializer: $conv_init, name: top_conv}
  - BatchNormalization: {axis: 3, name: top_bn}
  - Activation: {activation: $act, name: top_activation}
  - GlobalAveragePooling2D: {name: avg_pool}
  - Dropout: {rate: 0.2, name: top_dropout}
  - Dense: {units: 1000, activation: softmax, kernel_initializer: $dense_init, name: predictions}
outputs: [predictions]
expect:
  params: 5330571
  output_shapes: {predictions: [null, 1000]}
'''

RESNET50V2_SPEC = '''\
nncompile: 1
name: resnet50v2
description: keras.applications.ResNet50V2 (pre-activation bottlenecks).
vars:
  eps: 1.001e-5
blocks:
  body:   # the part every v2 block shares, from `preact` on
    inputs: [preact]
    params: {filters: null, stride: 1}
    layers:
      - conv2d: {filters: $filters, kernel: 1, use_bias: false, name: 1_conv}
      - batch_normalization: {epsilon: $eps, name: 1_bn}
      - activation: {activation: relu, name: 1_relu}
      - zero_padding2d: {padding: [[1, 1], [1, 1]], name: 2_pad}
      - conv2d: {filters: $filters, kernel: 3, strides: $stride, use_bias: false, name: 2_conv}
      - batch_normalization: {epsilon: $eps, name: 2_bn}
      - activation: {activation: relu, name: 2_relu}
      - conv2d: {filters: 4 * $filters, kernel: 1, name: 3_conv}
  block_conv:       # conv_shortcut=True
    params: {filters: null}
    layers:
      - batch_normalization: {epsilon: $eps, name: preact_bn}
      - activation: {activation: relu, name: preact_relu}
      - conv2d: {filters: 4 * $filters, kernel: 1, name: 0_conv}
      - body: {filters: $filters, inputs: preact_relu, name: res}
      - add: {inputs: [0_conv, res], name: out}
  block_id:         # identity shortcut, subsampled by a 1x1 max pool when stride > 1
    params: {filters: null, stride: 1}
    layers:
      - batch_normalization: {epsilon: $eps, name: preact_bn}
      - activation: {activation: relu, name: preact_relu}
      - max_pool2d: {pool: 1, strides: $stride, inputs: in, name: shortcut,
                     repeat: "1 if $stride > 1 else 0"}
      - body: {filters: $filters, stride: $stride, inputs: preact_relu, name: res}
      - add: {inputs: [shortcut, res], name: out}
  stack:
    params: {filters: null, blocks: null, stride1: 2}
    layers:
      - block_conv: {filters: $filters, name: block1}
      - block_id: {filters: $filters, repeat: $blocks - 2, name: block}
      - block_id: {filters: $filters, stride: $stride1, name: block_last}
inputs:
  image: [224, 224, 3]
layers:
  - zero_padding2d: {padding: 3, name: conv1_pad}
  - conv2d: {filters: 64, kernel: 7, strides: 2, name: conv1_conv}
  - zero_padding2d: {padding: 1, name: pool1_pad}
  - max_pooling2d: {pool_size: 3, strides: 2, name: pool1_pool}
  - stack: {filters: 64, blocks: 3, name: conv2}
  - stack: {filters: 128, blocks: 4, name: conv3}
  - stack: {filters: 256, blocks: 6, name: conv4}
  - stack: {filters: 512, blocks: 3, stride1: 1, name: conv5}
  - batch_normalization: {epsilon: $eps, name: post_bn}
  - activation: {activation: relu, name: post_relu}
  - global_average_pooling2d: {name: avg_pool}
  - dense: {units: 1000, activation: softmax, name: predictions}
outputs: [predictions]
'''

DENSENET121_SPEC = '''\
nncompile: 1
name: densenet121
description: keras.applications.DenseNet121 (blocks 6-12-24-16, growth rate 32).
vars:
  eps: 1.001e-5
  growth: 32
blocks:
  conv_block:     # x ++ conv3x3(conv1x1(x))
    layers:
      - BatchNormalization: {axis: 3, epsilon: $eps, name: 0_bn}
      - Activation: {activation: relu, name: 0_relu}
      - Conv2D: {filters: 4 * $growth, kernel_size: 1, use_bias: false, name: 1_conv}
      - BatchNormalization: {axis: 3, epsilon: $eps, name: 1_bn}
      - Activation: {activation: relu, name: 1_relu}
      - Conv2D: {filters: $growth, kernel_size: 3, padding: same, use_bias: false, name: 2_conv}
      - Concatenate: {axis: 3, inputs: [in, 2_conv], name: concat}
  transition:
    params: {channels: null, reduction: 0.5}
    layers:
      - BatchNormalization: {axis: 3, epsilon: $eps, name: bn}
      - Activation: {activation: relu, name: relu}
      - Conv2D: {filters: int($channels * $reduction), kernel_size: 1, use_bias: false, name: conv}
      - AveragePooling2D: {pool_size: 2, strides: 2, name: pool}
inputs:
  input_layer: [224, 224, 3]
layers:
  - ZeroPadding2D: {padding: [[3, 3], [3, 3]]}
  - Conv2D: {filters: 64, kernel_size: 7, strides: 2, use_bias: false, name: conv1_conv}
  - BatchNormalization: {axis: 3, epsilon: $eps, name: conv1_bn}
  - Activation: {activation: relu, name: conv1_relu}
  - ZeroPadding2D: {padding: [[1, 1], [1, 1]]}
  - MaxPooling2D: {pool_size: 3, strides: 2, name: pool1}
  - conv_block: {repeat: 6, name: conv2_block}
  - transition: {channels: 64 + 6 * $growth, name: pool2}
  - conv_block: {repeat: 12, name: conv3_block}
  - transition: {channels: 128 + 12 * $growth, name: pool3}
  - conv_block: {repeat: 24, name: conv4_block}
  - transition: {channels: 256 + 24 * $growth, name: pool4}
  - conv_block: {repeat: 16, name: conv5_block}
  - BatchNormalization: {axis: 3, epsilon: $eps, name: bn}
  - Activation: {activation: relu, name: relu}
  - GlobalAveragePooling2D: {name: avg_pool}
  - Dense: {units: 1000, activation: softmax, name: predictions}
outputs: [predictions]
'''

INCEPTIONV3_SPEC = '''\
nncompile: 1
name: inception_v3
description: keras.applications.InceptionV3 at 299x299.
blocks:
  cbr:   # conv2d_bn
    params: {filters: null, kernel: [1, 1], strides: [1, 1], padding: same}
    layers:
      - Conv2D: {filters: $filters, kernel_size: $kernel, strides: $strides, padding: $padding,
                 use_bias: false, name: conv}
      - BatchNormalization: {axis: 3, scale: false, name: bn}
      - Activation: {activation: relu, name: relu}
  module_a:   # mixed 0-2, 35x35
    params: {pool_filters: null}
    layers:
      - cbr: {filters: 64, inputs: in, name: b1x1}
      - cbr: {filters: 48, inputs: in, name: b5x5_1}
      - cbr: {filters: 64, kernel: [5, 5], name: b5x5_2}
      - cbr: {filters: 64, inputs: in, name: b3x3dbl_1}
      - cbr: {filters: 96, kernel: [3, 3], name: b3x3dbl_2}
      - cbr: {filters: 96, kernel: [3, 3], name: b3x3dbl_3}
      - AveragePooling2D: {pool_size: [3, 3], strides: [1, 1], padding: same, inputs: in,
                           name: pool}
      - cbr: {filters: $pool_filters, name: bpool}
      - concatenate: {axis: 3, inputs: [b1x1, b5x5_2, b3x3dbl_3, bpool], name: mixed}
  module_c:   # mixed 4-7, 17x17
    params: {c7: null}
    layers:
      - cbr: {filters: 192, inputs: in, name: b1x1}
      - cbr: {filters: $c7, inputs: in, name: b7x7_1}
      - cbr: {filters: $c7, kernel: [1, 7], name: b7x7_2}
      - cbr: {filters: 192, kernel: [7, 1], name: b7x7_3}
      - cbr: {filters: $c7, inputs: in, name: b7x7dbl_1}
      - cbr: {filters: $c7, kernel: [7, 1], name: b7x7dbl_2}
      - cbr: {filters: $c7, kernel: [1, 7], name: b7x7dbl_3}
      - cbr: {filters: $c7, kernel: [7, 1], name: b7x7dbl_4}
      - cbr: {filters: 192, kernel: [1, 7], name: b7x7dbl_5}
      - AveragePooling2D: {pool_size: [3, 3], strides: [1, 1], padding: same, inputs: in,
                           name: pool}
      - cbr: {filters: 192, name: bpool}
      - concatenate: {axis: 3, inputs: [b1x1, b7x7_3, b7x7dbl_5, bpool], name: mixed}
  module_e:   # mixed 9-10, 8x8
    layers:
      - cbr: {filters: 320, inputs: in, name: b1x1}
      - cbr: {filters: 384, inputs: in, name: b3x3}
      - cbr: {filters: 384, kernel: [1, 3], inputs: b3x3, name: b3x3_1}
      - cbr: {filters: 384, kernel: [3, 1], inputs: b3x3, name: b3x3_2}
      - concatenate: {axis: 3, inputs: [b3x3_1, b3x3_2], name: b3x3_cat}
      - cbr: {filters: 448, inputs: in, name: b3x3dbl}
      - cbr: {filters: 384, kernel: [3, 3], name: b3x3dbl_0}
      - cbr: {filters: 384, kernel: [1, 3], inputs: b3x3dbl_0, name: b3x3dbl_1}
      - cbr: {filters: 384, kernel: [3, 1], inputs: b3x3dbl_0, name: b3x3dbl_2}
      - concatenate: {axis: 3, inputs: [b3x3dbl_1, b3x3dbl_2], name: b3x3dbl_cat}
      - AveragePooling2D: {pool_size: [3, 3], strides: [1, 1], padding: same, inputs: in,
                           name: pool}
      - cbr: {filters: 192, name: bpool}
      - concatenate: {axis: 3, inputs: [b1x1, b3x3_cat, b3x3dbl_cat, bpool], name: mixed}
inputs:
  input_layer: [299, 299, 3]
layers:
  - cbr: {filters: 32, kernel: [3, 3], strides: [2, 2], padding: valid}
  - cbr: {filters: 32, kernel: [3, 3], padding: valid}
  - cbr: {filters: 64, kernel: [3, 3]}
  - MaxPooling2D: {pool_size: [3, 3], strides: [2, 2]}
  - cbr: {filters: 80, padding: valid}
  - cbr: {filters: 192, kernel: [3, 3], padding: valid}
  - MaxPooling2D: {pool_size: [3, 3], strides: [2, 2], name: pool2}
  - module_a: {pool_filters: 32, name: mixed0}
  - module_a: {pool_filters: 64, repeat: 2, name: mixed1}
  # mixed 3 (reduction to 17x17)
  - cbr: {filters: 384, kernel: [3, 3], strides: [2, 2], padding: valid, inputs: mixed1_2,
          name: m3_b3x3}
  - cbr: {filters: 64, inputs: mixed1_2, name: m3_dbl_1}
  - cbr: {filters: 96, kernel: [3, 3], name: m3_dbl_2}
  - cbr: {filters: 96, kernel: [3, 3], strides: [2, 2], padding: valid, name: m3_dbl_3}
  - MaxPooling2D: {pool_size: [3, 3], strides: [2, 2], inputs: mixed1_2, name: m3_pool}
  - concatenate: {axis: 3, inputs: [m3_b3x3, m3_dbl_3, m3_pool], name: mixed3}
  - module_c: {c7: 128, name: mixed4}
  - module_c: {c7: 160, repeat: 2, name: mixed5}
  - module_c: {c7: 192, name: mixed7}
  # mixed 8 (reduction to 8x8)
  - cbr: {filters: 192, inputs: mixed7, name: m8_b3x3_1}
  - cbr: {filters: 320, kernel: [3, 3], strides: [2, 2], padding: valid, name: m8_b3x3_2}
  - cbr: {filters: 192, inputs: mixed7, name: m8_b7_1}
  - cbr: {filters: 192, kernel: [1, 7], name: m8_b7_2}
  - cbr: {filters: 192, kernel: [7, 1], name: m8_b7_3}
  - cbr: {filters: 192, kernel: [3, 3], strides: [2, 2], padding: valid, name: m8_b7_4}
  - MaxPooling2D: {pool_size: [3, 3], strides: [2, 2], inputs: mixed7, name: m8_pool}
  - concatenate: {axis: 3, inputs: [m8_b3x3_2, m8_b7_4, m8_pool], name: mixed8}
  - module_e: {repeat: 2, name: mixed9}
  - GlobalAveragePooling2D: {name: avg_pool}
  - Dense: {units: 1000, activation: softmax, name: predictions}
outputs: [predictions]
'''

XCEPTION_SPEC = '''\
nncompile: 1
name: xception
description: keras.applications.Xception at 299x299.
blocks:
  sep_bn:       # (relu) → separable 3x3 → batch norm
    params: {filters: null, act: true}
    layers:
      - Activation: {activation: relu, name: act, repeat: "1 if $act else 0"}
      - SeparableConv2D: {filters: $filters, kernel_size: [3, 3], padding: same, use_bias: false,
                          name: sepconv}
      - BatchNormalization: {axis: -1, name: bn}
  down:         # entry/exit flow block: two separable convs, max pool, strided 1x1 shortcut
    params: {f1: null, f2: null, first_act: true}
    layers:
      - Conv2D: {filters: $f2, kernel_size: [1, 1], strides: [2, 2], padding: same, use_bias: false,
                 inputs: in, name: res_conv}
      - BatchNormalization: {axis: -1, name: res_bn}
      - sep_bn: {filters: $f1, act: $first_act, inputs: in, name: sep1}
      - sep_bn: {filters: $f2, name: sep2}
      - MaxPooling2D: {pool_size: [3, 3], strides: [2, 2], padding: same, name: pool}
      - add: {inputs: [pool, res_bn], name: add}
  middle:       # x + 3 × (relu → separable → bn)
    layers:
      - sep_bn: {filters: 728, repeat: 3, name: sep}
      - add: {inputs: [sep_3, in], name: add}
inputs:
  input_layer: [299, 299, 3]
layers:
  - Conv2D: {filters: 32, kernel_size: [3, 3], strides: [2, 2], use_bias: false, name: block1_conv1}
  - BatchNormalization: {axis: -1, name: block1_conv1_bn}
  - Activation: {activation: relu, name: block1_conv1_act}
  - Conv2D: {filters: 64, kernel_size: [3, 3], use_bias: false, name: block1_conv2}
  - BatchNormalization: {axis: -1, name: block1_conv2_bn}
  - Activation: {activation: relu, name: block1_conv2_act}
  - down: {f1: 128, f2: 128, first_act: false, name: block2}
  - down: {f1: 256, f2: 256, name: block3}
  - down: {f1: 728, f2: 728, name: block4}
  - middle: {repeat: 8, name: block_mid}
  - down: {f1: 728, f2: 1024, name: block13}
  - SeparableConv2D: {filters: 1536, kernel_size: [3, 3], padding: same, use_bias: false,
                      name: block14_sepconv1}
  - BatchNormalization: {axis: -1, name: block14_sepconv1_bn}
  - Activation: {activation: relu, name: block14_sepconv1_act}
  - SeparableConv2D: {filters: 2048, kernel_size: [3, 3], padding: same, use_bias: false,
                      name: block14_sepconv2}
  - BatchNormalization: {axis: -1, name: block14_sepconv2_bn}
  - Activation: {activation: relu, name: block14_sepconv2_act}
  - GlobalAveragePooling2D: {name: avg_pool}
  - Dense: {units: 1000, activation: softmax, name: predictions}
outputs: [predictions]
'''


FAST = {"MobileNet": (MOBILENET_SPEC, 4_253_864), "MobileNetV2": (MOBILENETV2_SPEC, 3_538_984),
        "EfficientNetB0": (EFFICIENTNETB0_SPEC, 5_330_571)}
SLOW = {"ResNet50V2": (RESNET50V2_SPEC, 25_613_800), "DenseNet121": (DENSENET121_SPEC, 8_062_504),
        "InceptionV3": (INCEPTIONV3_SPEC, 23_851_784), "Xception": (XCEPTION_SPEC, 22_910_480)}


def _pair(tmp_path, app, text):
    import keras

    path = tmp_path / f"{app.lower()}.yaml"
    path.write_text(text, encoding="utf-8")
    model = build_model(load_spec(path))
    reference = getattr(keras.applications, app)(weights=None)
    return model, reference


def _same_weights_as_keras(model, reference, app, params):
    assert reference.count_params() == params
    assert model.count_params() == params, app
    ours = [tuple(w.shape) for w in model.weights]
    theirs = [tuple(w.shape) for w in reference.weights]
    assert len(ours) == len(theirs), app
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b, (f"{app}: weight {index} is {model.weights[index].path} {a}, "
                        f"Keras has {reference.weights[index].path} {b}")
    assert ([tuple(w.shape) for w in model.non_trainable_weights]
            == [tuple(w.shape) for w in reference.non_trainable_weights]), app
    # Layer for layer the same kinds of Keras layers (the input layer included).
    assert (sorted(type(layer).__name__ for layer in model.layers)
            == sorted(type(layer).__name__ for layer in reference.layers)), app


def _random_weights(reference, rng):
    weights = []
    for variable in reference.weights:
        shape, path = tuple(variable.shape), variable.path
        if len(shape) > 1:  # kernels: He scaling on the fan-in
            fan_in = int(np.prod(shape[:2] if "depthwise" in path else shape[:-1]))
            w = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif path.endswith(("moving_variance", "gamma", "variance")):
            w = rng.uniform(0.5, 1.5, shape)
        elif path.endswith("count"):
            w = np.zeros(shape)
        else:  # biases, beta, moving means
            w = rng.normal(0.0, 0.05, shape)
        weights.append(np.asarray(w, dtype=variable.dtype))
    return weights


@pytest.fixture(scope="module")
def efficientnet(tmp_path_factory):
    """EfficientNetB0's spec model and Keras's, built once for the two tests below (the
    first sets random weights; the second reads only dropout and initialiser settings)."""
    return _pair(tmp_path_factory.mktemp("efficientnet"), "EfficientNetB0", EFFICIENTNETB0_SPEC)


@pytest.mark.parametrize("app", sorted(FAST))
def test_spec_has_the_weights_of_the_keras_application(tmp_path, app, request):
    import keras

    text, params = FAST[app]
    if app == "EfficientNetB0":
        model, reference = request.getfixturevalue("efficientnet")
    else:
        model, reference = _pair(tmp_path, app, text)
    _same_weights_as_keras(model, reference, app, params)
    if app == "MobileNet":
        return
    # Keras's weights copied in give Keras's function (features before the softmax).
    rng = np.random.default_rng(0)
    reference.set_weights(_random_weights(reference, rng))
    model.set_weights(reference.get_weights())
    x = (rng.random((1, 224, 224, 3)) * 255).astype("float32")
    theirs = keras.Model(reference.input, reference.layers[-2].output)(x, training=False)
    ours = keras.Model(model.input, model.layers[-2].output)(x, training=False)
    theirs, ours = np.asarray(theirs), np.asarray(ours)
    assert theirs.shape == ours.shape == (1, 1280) and np.std(theirs) > 1e-3
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(theirs))))
    keras.backend.clear_session()


def test_efficientnet_stochastic_depth_and_initialisers_are_keras_s(efficientnet):
    import keras

    model, reference = efficientnet

    def drops(m):
        return [(round(layer.rate, 6), layer.noise_shape) for layer in m.layers
                if isinstance(layer, keras.layers.Dropout)]

    def initialisers(m):
        return [getattr(layer, attr).get_config() for layer in m.layers
                for attr in ("kernel_initializer", "depthwise_initializer") if hasattr(layer, attr)]

    assert drops(model) == drops(reference)
    assert drops(model)[0] == (0.025, (None, 1, 1, 1)) and len(drops(model)) == 10
    assert initialisers(model) == initialisers(reference)
    keras.backend.clear_session()


@pytest.mark.slow
@pytest.mark.parametrize("app", sorted(SLOW))
def test_larger_spec_has_the_weights_of_the_keras_application(tmp_path, app):
    import keras

    text, params = SLOW[app]
    model, reference = _pair(tmp_path, app, text)
    _same_weights_as_keras(model, reference, app, params)
    keras.backend.clear_session()


# --------------------------------------------------------------------------- what the ports need


def test_repeat_zero_leaves_a_layer_out_and_passes_its_input_on(write_spec):
    """`repeat: 0` writes Keras's `if ...:` around a layer, and `range(n - 1)` with n = 1."""
    path = write_spec("""
        name: t
        inputs: {x: [8, 8, 4]}
        blocks:
          res:       # expand only if `expand`, add only if the shape is kept
            params: {fin: null, fout: null, expand: 1, stride: 1}
            layers:
              - conv2d: {filters: $fin * $expand, kernel: 1, name: expand,
                         repeat: "0 if $expand == 1 else 1"}
              - max_pool2d: {pool: 1, strides: $stride, inputs: in, name: shortcut,
                             repeat: "1 if $stride > 1 else 0"}
              - conv2d: {filters: $fout, kernel: 3, strides: $stride, padding: same,
                         inputs: expand, name: project}
              - add: {inputs: [shortcut, project], name: add,
                      repeat: "1 if $fin == $fout else 0"}
        layers:
          - res: {fin: 4, fout: 4, name: a}                 # conv, add: 148
          - res: {fin: 4, fout: 4, expand: 2, name: b}      # expand 40, conv 292, add
          - res: {fin: 4, fout: 4, stride: 2, name: c}      # pool, conv 148, add
          - res: {fin: 4, fout: 4, repeat: 0, name: d}      # nothing: `d` is c's output
          - dense: {units: 2, repeat: 0, name: none}        # nothing: `none` is d
          - global_avg_pool2d: {name: pool}                 # takes `none`
          - dense: {units: 3, inputs: d, repeat: 0}         # not made either
        outputs: [pool]
    """)
    model = build_model(load_spec(path))
    names = [layer.name for layer in model.layers]
    assert sorted(names) == ["a_add", "a_project", "b_add", "b_expand", "b_project", "c_add",
                             "c_project", "c_shortcut", "pool", "x"]
    assert model.count_params() == 148 + 40 + 292 + 148
    assert model.get_layer("b_project").input.shape == (None, 8, 8, 8)
    assert model.get_layer("c_add").output.shape == (None, 4, 4, 4)
    assert model.output_shape == (None, 4)


def test_expressions_take_lists_and_or_not_and_chained_comparisons(write_spec):
    spec = load_spec(write_spec("""
        name: t
        vars: {k: 5, s: 2, fin: 16, fout: 16}
        inputs: {x: [9, 9, 3]}
        layers:
          - zero_padding2d: {padding:
              "[[$k // 2 - 1, $k // 2], [$k // 2 - 1, $k // 2]] if $s == 2 else 0"}
          - conv2d: {filters: "4 if $s == 1 and $fin == $fout else 8", kernel: 3}
          - conv2d: {filters: "4 if not $s == 2 or 0 < $k <= 3 else 2", kernel: 3}
    """))
    layers = [layer for _, layer in spec.entries]
    assert layers[0].padding == ((1, 2), (1, 2))
    assert (layers[1].filters, layers[2].filters) == (8, 2)
