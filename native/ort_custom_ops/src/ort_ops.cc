// ONNX Runtime glue: registers AccelSdk's custom operators in domain com.accelsdk through ORT's C API (via its
// header-only C++ wrapper). Errors become OrtStatus values naming the node, never exceptions across the C ABI.
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "accelsdk_ort_ops.h"
#include "conv2d_transpose_bias.h"

#define ACCELSDK_ORT_OPS_STR2(x) #x
#define ACCELSDK_ORT_OPS_STR(x) ACCELSDK_ORT_OPS_STR2(x)

namespace {

constexpr const char* kTransposeConvName = "Convolution2DTransposeBias";

OrtStatusPtr Fail(const std::string& node, const std::string& message, OrtErrorCode code = ORT_INVALID_ARGUMENT)
{
    const std::string text = std::string(ACCELSDK_ORT_OPS_DOMAIN) + "." + kTransposeConvName + " node '" + node + "': " + message;
    return Ort::GetApi().CreateStatus(code, text.c_str());
}

struct TransposeConvKernel {
    std::string node_name;
    accelsdk::Padding padding = accelsdk::Padding::Same;
    int64_t stride_h = 1;
    int64_t stride_w = 1;

    OrtStatusPtr ComputeV2(OrtKernelContext* raw_context)
    {
        try {
            Ort::KernelContext context(raw_context);
            if (context.GetInputCount() != 3) return Fail(node_name, "expects 3 inputs (X, W, B), got " + std::to_string(context.GetInputCount()));
            auto x = context.GetInput(0);
            auto w = context.GetInput(1);
            auto b = context.GetInput(2);
            auto x_shape = x.GetTensorTypeAndShapeInfo().GetShape();
            auto w_shape = w.GetTensorTypeAndShapeInfo().GetShape();
            auto b_shape = b.GetTensorTypeAndShapeInfo().GetShape();
            if (x_shape.size() != 4) return Fail(node_name, "input X must be rank 4 (NHWC), got rank " + std::to_string(x_shape.size()));
            if (w_shape.size() != 4) return Fail(node_name, "weights W must be rank 4 (OHWI), got rank " + std::to_string(w_shape.size()));
            if (b_shape.size() != 1) return Fail(node_name, "bias B must be rank 1, got rank " + std::to_string(b_shape.size()));

            accelsdk::TransposeConvShape plan;
            std::string error;
            if (!accelsdk::PlanTransposeConv(x_shape.data(), w_shape.data(), b_shape[0], padding, stride_h, stride_w, plan, error))
                return Fail(node_name, error);

            const std::vector<int64_t> y_shape{plan.batch, plan.out_h, plan.out_w, plan.out_c};
            auto y = context.GetOutput(0, y_shape.data(), y_shape.size());
            accelsdk::TransposeConvBias(plan, x.GetTensorData<float>(), w.GetTensorData<float>(), b.GetTensorData<float>(),
                                        y.GetTensorMutableData<float>());
            return nullptr;
        } catch (const Ort::Exception& e) {
            return Fail(node_name, e.what(), e.GetOrtErrorCode());
        } catch (const std::exception& e) {
            return Fail(node_name, e.what(), ORT_RUNTIME_EXCEPTION);
        }
    }
};

struct TransposeConvOp : Ort::CustomOpBase<TransposeConvOp, TransposeConvKernel, true> {
    OrtStatusPtr CreateKernelV2(const OrtApi& /*api*/, const OrtKernelInfo* raw_info, void** op_kernel) const
    {
        *op_kernel = nullptr;
        std::string node = "?";
        try {
            Ort::ConstKernelInfo info(raw_info);
            node = info.GetNodeName();
            auto kernel = std::make_unique<TransposeConvKernel>();
            kernel->node_name = node;

            std::string padding = "SAME";
            try {
                padding = info.GetAttribute<std::string>("padding");
            } catch (const Ort::Exception&) {
                // absent: MediaPipe's converter always writes it, default to SAME like TFLite's converter
            }
            if (padding == "SAME") kernel->padding = accelsdk::Padding::Same;
            else if (padding == "VALID") kernel->padding = accelsdk::Padding::Valid;
            else return Fail(node, "attribute padding must be \"SAME\" or \"VALID\", got \"" + padding + "\"");

            std::vector<int64_t> strides{1, 1};
            try {
                strides = info.GetAttributes<int64_t>("strides");
            } catch (const Ort::Exception&) {
                // absent: unit strides
            }
            if (strides.size() != 2 || strides[0] <= 0 || strides[1] <= 0)
                return Fail(node, "attribute strides must be two positive ints [stride_h, stride_w]");
            kernel->stride_h = strides[0];
            kernel->stride_w = strides[1];
            *op_kernel = kernel.release();
            return nullptr;
        } catch (const std::exception& e) {
            return Fail(node, e.what(), ORT_RUNTIME_EXCEPTION);
        }
    }

    const char* GetName() const { return kTransposeConvName; }
    size_t GetInputTypeCount() const { return 3; }
    ONNXTensorElementDataType GetInputType(size_t /*index*/) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
    size_t GetOutputTypeCount() const { return 1; }
    ONNXTensorElementDataType GetOutputType(size_t /*index*/) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

// The op objects and the domain live as long as the process: sessions keep pointers to them.
const TransposeConvOp kTransposeConvOp;
std::mutex registration_lock;
std::vector<Ort::CustomOpDomain>* domains = nullptr;

}  // namespace

extern "C" {

ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_abi_version(void) { return ACCELSDK_ORT_OPS_ABI_VERSION; }

ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_ort_api_version(void) { return ORT_API_VERSION; }

ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_count(void) { return 1; }

ACCELSDK_ORT_OPS_API const char* accelsdk_ort_ops_name(int32_t index) { return index == 0 ? kTransposeConvName : nullptr; }

// ORT's entry point, found by name when SessionOptions.RegisterCustomOpLibrary loads this library.
__attribute__((visibility("default"))) OrtStatus* ORT_API_CALL RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base)
{
    const OrtApi* api = api_base->GetApi(ORT_API_VERSION);
    if (api == nullptr) {
        // An ORT older than the headers this library was built with: no API table to report through.
        return api_base->GetApi(1)->CreateStatus(ORT_FAIL, "libaccelsdk_ort_ops needs a newer ONNX Runtime (built against ORT_API_VERSION " ACCELSDK_ORT_OPS_STR(ORT_API_VERSION) ")");
    }
    std::lock_guard<std::mutex> guard(registration_lock);
    try {
        Ort::InitApi(api);
        if (domains == nullptr) domains = new std::vector<Ort::CustomOpDomain>();
        // One domain object per session options: ORT takes the domain by pointer and each session holds it.
        domains->emplace_back(ACCELSDK_ORT_OPS_DOMAIN);
        domains->back().Add(&kTransposeConvOp);
        Ort::UnownedSessionOptions(options).Add(domains->back());
        return nullptr;
    } catch (const std::exception& e) {
        return api->CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
    }
}

}  // extern "C"
