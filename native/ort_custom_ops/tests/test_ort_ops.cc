// Runs com.accelsdk.Convolution2DTransposeBias inside a real ONNX Runtime session (the NuGet package's library)
// and compares it with ORT's own ConvTranspose on the same data (NCHW, IOHW weights, explicit pads), plus a
// hand-computed case and the error paths.
#include <onnxruntime_cxx_api.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "accelsdk_ort_ops.h"
#include "onnx_writer.h"

namespace {

int failures = 0;
int checks = 0;

#define CHECK(condition)                                                                  \
    do {                                                                                  \
        checks++;                                                                         \
        if (!(condition)) {                                                               \
            failures++;                                                                   \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
        }                                                                                 \
    } while (0)

struct Case {
    int64_t n, h, w, cin, cout, kh, kw, sh, sw;
    const char* padding;
};

using onnx_writer::Attribute;

Ort::SessionOptions OptionsWithOps()
{
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(1);
    options.RegisterCustomOpsLibrary(ACCELSDK_ORT_OPS_LIBRARY);
    return options;
}

std::vector<float> Run(Ort::Env& env, const std::string& model, Ort::SessionOptions& options, const std::vector<float>& x,
                       const std::vector<int64_t>& x_shape, std::vector<int64_t>& y_shape)
{
    Ort::Session session(env, model.data(), model.size(), options);
    auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    auto input = Ort::Value::CreateTensor<float>(memory, const_cast<float*>(x.data()), x.size(), x_shape.data(), x_shape.size());
    const char* input_names[] = {"X"};
    const char* output_names[] = {"Y"};
    auto outputs = session.Run(Ort::RunOptions{nullptr}, input_names, &input, 1, output_names, 1);
    y_shape = outputs[0].GetTensorTypeAndShapeInfo().GetShape();
    const float* y = outputs[0].GetTensorData<float>();
    return std::vector<float>(y, y + outputs[0].GetTensorTypeAndShapeInfo().GetElementCount());
}

std::string CustomModel(const Case& c, const std::vector<float>& weights, const std::vector<float>& bias, const char* node_name,
                        int64_t weight_cin)
{
    onnx_writer::Node node{"Convolution2DTransposeBias", ACCELSDK_ORT_OPS_DOMAIN, node_name, {"X", "W", "B"}, {"Y"},
                           {Attribute{"padding", Attribute::String, 0, c.padding, {}},
                            Attribute{"strides", Attribute::Ints, 0, "", {c.sh, c.sw}}}};
    return onnx_writer::WriteModel({{"", 17}, {ACCELSDK_ORT_OPS_DOMAIN, 1}}, {node},
                                   {{"W", {c.cout, c.kh, c.kw, weight_cin}, weights}, {"B", {c.cout}, bias}},
                                   {{"X", {c.n, c.h, c.w, c.cin}}}, {{"Y", {}}});
}

void CompareWithConvTranspose(Ort::Env& env, const Case& c, std::mt19937& random)
{
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> x_nhwc(static_cast<size_t>(c.n * c.h * c.w * c.cin));
    std::vector<float> w_ohwi(static_cast<size_t>(c.cout * c.kh * c.kw * c.cin));
    std::vector<float> bias(static_cast<size_t>(c.cout));
    for (auto& v : x_nhwc) v = uniform(random);
    for (auto& v : w_ohwi) v = uniform(random);
    for (auto& v : bias) v = uniform(random);

    auto options = OptionsWithOps();
    std::vector<int64_t> custom_shape;
    auto custom = Run(env, CustomModel(c, w_ohwi, bias, "upsample", c.cin), options, x_nhwc, {c.n, c.h, c.w, c.cin}, custom_shape);

    // The same arithmetic through ORT's ConvTranspose: NCHW data, [Cin, Cout, KH, KW] weights, the op's padding.
    std::vector<float> x_nchw(x_nhwc.size()), w_iohw(w_ohwi.size());
    for (int64_t n = 0; n < c.n; n++)
        for (int64_t y = 0; y < c.h; y++)
            for (int64_t x = 0; x < c.w; x++)
                for (int64_t ch = 0; ch < c.cin; ch++)
                    x_nchw[static_cast<size_t>(((n * c.cin + ch) * c.h + y) * c.w + x)] = x_nhwc[static_cast<size_t>(((n * c.h + y) * c.w + x) * c.cin + ch)];
    for (int64_t o = 0; o < c.cout; o++)
        for (int64_t ky = 0; ky < c.kh; ky++)
            for (int64_t kx = 0; kx < c.kw; kx++)
                for (int64_t i = 0; i < c.cin; i++)
                    w_iohw[static_cast<size_t>(((i * c.cout + o) * c.kh + ky) * c.kw + kx)] = w_ohwi[static_cast<size_t>(((o * c.kh + ky) * c.kw + kx) * c.cin + i)];
    const bool same = std::string(c.padding) == "SAME";
    const int64_t pad_h = same ? std::max<int64_t>(0, c.kh - (c.h - 1) % c.sh - 1) : 0;
    const int64_t pad_w = same ? std::max<int64_t>(0, c.kw - (c.w - 1) % c.sw - 1) : 0;
    onnx_writer::Node conv{"ConvTranspose", "", "reference", {"X", "W", "B"}, {"Y"},
                           {Attribute{"strides", Attribute::Ints, 0, "", {c.sh, c.sw}},
                            Attribute{"pads", Attribute::Ints, 0, "", {pad_h / 2, pad_w / 2, pad_h - pad_h / 2, pad_w - pad_w / 2}}}};
    auto reference_model = onnx_writer::WriteModel({{"", 17}}, {conv},
                                                   {{"W", {c.cin, c.cout, c.kh, c.kw}, w_iohw}, {"B", {c.cout}, bias}},
                                                   {{"X", {c.n, c.cin, c.h, c.w}}}, {{"Y", {}}});
    Ort::SessionOptions plain;
    plain.SetIntraOpNumThreads(1);
    std::vector<int64_t> reference_shape;
    auto reference = Run(env, reference_model, plain, x_nchw, {c.n, c.cin, c.h, c.w}, reference_shape);

    CHECK(custom_shape.size() == 4 && reference_shape.size() == 4);
    if (custom_shape.size() != 4 || reference_shape.size() != 4) return;
    CHECK(custom_shape[0] == reference_shape[0] && custom_shape[3] == reference_shape[1]);
    CHECK(custom_shape[1] == reference_shape[2] && custom_shape[2] == reference_shape[3]);
    const int64_t oh = custom_shape[1], ow = custom_shape[2];
    double max_error = 0;
    int mismatches = 0;
    for (int64_t n = 0; n < c.n; n++)
        for (int64_t y = 0; y < oh; y++)
            for (int64_t x = 0; x < ow; x++)
                for (int64_t o = 0; o < c.cout; o++) {
                    const float got = custom[static_cast<size_t>(((n * oh + y) * ow + x) * c.cout + o)];
                    const float want = reference[static_cast<size_t>(((n * c.cout + o) * oh + y) * ow + x)];
                    const double error = std::fabs(static_cast<double>(got) - want);
                    max_error = std::max(max_error, error);
                    // float32 sums of up to KH*KW*Cin products in different orders: atol 1e-5 + rtol 1e-4.
                    if (error > 1e-5 + 1e-4 * std::fabs(static_cast<double>(want))) mismatches++;
                }
    std::printf("case N%lld H%lld W%lld Cin%lld Cout%lld K%lldx%lld S%lldx%lld %s -> [%lld,%lld,%lld,%lld] max |diff| %.3g\n",
                (long long)c.n, (long long)c.h, (long long)c.w, (long long)c.cin, (long long)c.cout, (long long)c.kh,
                (long long)c.kw, (long long)c.sh, (long long)c.sw, c.padding, (long long)custom_shape[0], (long long)oh,
                (long long)ow, (long long)custom_shape[3], max_error);
    CHECK(mismatches == 0);
}

// 2x2 input, 2x2 kernel of ones, stride 2, VALID: each input pixel becomes a 2x2 block of (value + bias).
void HandComputed(Ort::Env& env)
{
    Case c{1, 2, 2, 1, 1, 2, 2, 2, 2, "VALID"};
    auto options = OptionsWithOps();
    std::vector<int64_t> shape;
    auto y = Run(env, CustomModel(c, {1, 1, 1, 1}, {0.5f}, "blocks", 1), options, {1, 2, 3, 4}, {1, 2, 2, 1}, shape);
    const std::vector<float> expected{1.5f, 1.5f, 2.5f, 2.5f, 1.5f, 1.5f, 2.5f, 2.5f, 3.5f, 3.5f, 4.5f, 4.5f, 3.5f, 3.5f, 4.5f, 4.5f};
    CHECK((shape == std::vector<int64_t>{1, 4, 4, 1}));
    CHECK(y == expected);
}

void ErrorsNameTheNode(Ort::Env& env)
{
    Case c{1, 3, 3, 2, 4, 2, 2, 2, 2, "SAME"};
    std::vector<float> x(18, 1.0f), weights(4 * 2 * 2 * 3, 1.0f), bias(4, 0.0f);
    try {
        auto options = OptionsWithOps();
        std::vector<int64_t> shape;
        Run(env, CustomModel(c, weights, bias, "mismatched_node", 3), options, x, {1, 3, 3, 2}, shape);
        CHECK(!"a channel mismatch must fail");
    } catch (const Ort::Exception& e) {
        std::printf("expected error: %s\n", e.what());
        CHECK(std::string(e.what()).find("mismatched_node") != std::string::npos);
        CHECK(std::string(e.what()).find("input channels 2") != std::string::npos);
    }

    Case bad_padding = c;
    bad_padding.padding = "FULL";
    try {
        auto options = OptionsWithOps();
        std::vector<int64_t> shape;
        Run(env, CustomModel(bad_padding, std::vector<float>(4 * 2 * 2 * 2, 1.0f), bias, "padded_node", 2), options, x, {1, 3, 3, 2}, shape);
        CHECK(!"padding FULL must fail");
    } catch (const Ort::Exception& e) {
        std::printf("expected error: %s\n", e.what());
        CHECK(std::string(e.what()).find("padded_node") != std::string::npos);
        CHECK(std::string(e.what()).find("FULL") != std::string::npos);
    }

    // Without the library ORT has no kernel for the op: proves the results above came from it.
    try {
        Ort::SessionOptions plain;
        std::vector<int64_t> shape;
        Run(env, CustomModel(c, std::vector<float>(4 * 2 * 2 * 2, 1.0f), bias, "unregistered", 2), plain, x, {1, 3, 3, 2}, shape);
        CHECK(!"an unregistered custom op must fail");
    } catch (const Ort::Exception& e) {
        std::printf("expected error without the library: %.160s\n", e.what());
    }
}

}  // namespace

int main()
{
    CHECK(accelsdk_ort_ops_abi_version() == ACCELSDK_ORT_OPS_ABI_VERSION);
    CHECK(accelsdk_ort_ops_count() == 1);
    CHECK(std::string(accelsdk_ort_ops_name(0)) == "Convolution2DTransposeBias");
    CHECK(accelsdk_ort_ops_name(1) == nullptr);
    CHECK(accelsdk_ort_ops_ort_api_version() <= ORT_API_VERSION);

    Ort::Env env(ORT_LOGGING_LEVEL_FATAL, "accelsdk-ort-ops-test");
    HandComputed(env);
    std::mt19937 random(20261128);
    const Case cases[] = {
        {1, 16, 16, 8, 4, 2, 2, 2, 2, "SAME"},   // MediaPipe selfie segmentation's 2x upsampling: 16 -> 32
        {2, 5, 7, 3, 5, 4, 4, 2, 2, "SAME"},     // odd sizes, kernel larger than stride, batch 2
        {1, 5, 6, 3, 2, 3, 3, 2, 2, "VALID"},
        {1, 6, 4, 4, 3, 3, 2, 1, 1, "SAME"},     // unit stride: plain padding
        {1, 4, 5, 2, 3, 3, 3, 3, 2, "SAME"},     // unequal strides
    };
    for (const auto& c : cases) CompareWithConvTranspose(env, c, random);
    ErrorsNameTheNode(env);
    std::printf("ort_ops: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
