#include "conv2d_transpose_bias.h"

#include <algorithm>
#include <sstream>

namespace accelsdk {

namespace {
std::string ShapeText(const int64_t shape[4])
{
    std::ostringstream text;
    text << '[' << shape[0] << ',' << shape[1] << ',' << shape[2] << ',' << shape[3] << ']';
    return text.str();
}
}  // namespace

bool PlanTransposeConv(const int64_t input_shape[4], const int64_t weight_shape[4], int64_t bias_length,
                       Padding padding, int64_t stride_h, int64_t stride_w, TransposeConvShape& plan, std::string& error)
{
    for (int i = 0; i < 4; i++) {
        if (input_shape[i] <= 0 || weight_shape[i] <= 0) {
            error = "empty or dynamic dimension: input " + ShapeText(input_shape) + ", weights " + ShapeText(weight_shape);
            return false;
        }
    }
    if (stride_h <= 0 || stride_w <= 0) {
        error = "strides must be positive, got [" + std::to_string(stride_h) + "," + std::to_string(stride_w) + "]";
        return false;
    }
    if (input_shape[3] != weight_shape[3]) {
        error = "input channels " + std::to_string(input_shape[3]) + " (input NHWC " + ShapeText(input_shape) +
                ") differ from the weights' " + std::to_string(weight_shape[3]) + " (OHWI " + ShapeText(weight_shape) + ")";
        return false;
    }
    if (bias_length != weight_shape[0]) {
        error = "bias has " + std::to_string(bias_length) + " values but the weights have " +
                std::to_string(weight_shape[0]) + " output channels";
        return false;
    }
    plan.batch = input_shape[0];
    plan.in_h = input_shape[1];
    plan.in_w = input_shape[2];
    plan.in_c = input_shape[3];
    plan.out_c = weight_shape[0];
    plan.kernel_h = weight_shape[1];
    plan.kernel_w = weight_shape[2];
    plan.stride_h = stride_h;
    plan.stride_w = stride_w;
    // SAME trims the overhang that the last stride leaves beyond the input; half of it (rounded down) comes off the
    // top/left edge. VALID keeps the full transposed extent.
    int64_t pad_h = 0, pad_w = 0;
    if (padding == Padding::Same) {
        pad_h = std::max<int64_t>(0, plan.kernel_h - (plan.in_h - 1) % stride_h - 1);
        pad_w = std::max<int64_t>(0, plan.kernel_w - (plan.in_w - 1) % stride_w - 1);
    }
    plan.pad_top = pad_h / 2;
    plan.pad_left = pad_w / 2;
    plan.out_h = stride_h * (plan.in_h - 1) + plan.kernel_h - pad_h;
    plan.out_w = stride_w * (plan.in_w - 1) + plan.kernel_w - pad_w;
    return true;
}

void TransposeConvBias(const TransposeConvShape& p, const float* input, const float* weights, const float* bias,
                       float* output)
{
    const int64_t out_plane = p.out_h * p.out_w * p.out_c;
    for (int64_t n = 0; n < p.batch; n++) {
        float* out = output + n * out_plane;
        for (int64_t i = 0; i < p.out_h * p.out_w; i++)
            std::copy(bias, bias + p.out_c, out + i * p.out_c);
        const float* in = input + n * p.in_h * p.in_w * p.in_c;
        // Scatter: every input pixel adds kernel-weighted contributions to a KHxKW window of the output.
        for (int64_t iy = 0; iy < p.in_h; iy++) {
            for (int64_t ix = 0; ix < p.in_w; ix++) {
                const float* pixel = in + (iy * p.in_w + ix) * p.in_c;
                for (int64_t ky = 0; ky < p.kernel_h; ky++) {
                    const int64_t oy = iy * p.stride_h - p.pad_top + ky;
                    if (oy < 0 || oy >= p.out_h) continue;
                    for (int64_t kx = 0; kx < p.kernel_w; kx++) {
                        const int64_t ox = ix * p.stride_w - p.pad_left + kx;
                        if (ox < 0 || ox >= p.out_w) continue;
                        float* target = out + (oy * p.out_w + ox) * p.out_c;
                        for (int64_t oc = 0; oc < p.out_c; oc++) {
                            const float* w = weights + ((oc * p.kernel_h + ky) * p.kernel_w + kx) * p.in_c;
                            float sum = 0.0f;
                            for (int64_t ic = 0; ic < p.in_c; ic++) sum += pixel[ic] * w[ic];
                            target[oc] += sum;
                        }
                    }
                }
            }
        }
    }
}

}  // namespace accelsdk
