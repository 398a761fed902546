// MediaPipe's Convolution2DTransposeBias as a plain function: NHWC input, OHWI weights, per-channel bias.
#pragma once

#include <cstdint>
#include <string>

namespace accelsdk {

enum class Padding { Same, Valid };

struct TransposeConvShape {
    int64_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
    int64_t out_c = 0, kernel_h = 0, kernel_w = 0;
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_top = 0, pad_left = 0;
    int64_t out_h = 0, out_w = 0;
};

// Checks the shapes and derives the output geometry; on failure returns false and says why in `error`.
bool PlanTransposeConv(const int64_t input_shape[4], const int64_t weight_shape[4], int64_t bias_length,
                       Padding padding, int64_t stride_h, int64_t stride_w, TransposeConvShape& plan, std::string& error);

// output must hold batch*out_h*out_w*out_c floats.
void TransposeConvBias(const TransposeConvShape& plan, const float* input, const float* weights, const float* bias,
                       float* output);

}  // namespace accelsdk
