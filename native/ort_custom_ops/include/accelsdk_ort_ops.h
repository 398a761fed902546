/*
 * AccelSdk's ONNX Runtime custom-operator library (libaccelsdk_ort_ops.so): operators that imported models need
 * and ONNX lacks, so such models run inside one ORT session with no partition break. ORT loads it with
 * SessionOptions.RegisterCustomOpLibrary and calls its RegisterCustomOps entry point (declared by ORT, not here).
 *
 * Operators, all in domain ACCELSDK_ORT_OPS_DOMAIN, opset version 1:
 *   Convolution2DTransposeBias (MediaPipe's TFLite custom op): transposed 2-D convolution plus bias, NHWC.
 *     inputs:  X float [N, H, W, Cin], W float [Cout, KH, KW, Cin] (OHWI), B float [Cout]
 *     attrs:   padding: string "SAME" | "VALID" (default "SAME"); strides: ints [stride_h, stride_w] (default [1, 1])
 *     output:  Y float [N, OH, OW, Cout], OH = stride_h*(H-1) + KH - pad_h where pad_h = SAME ?
 *              max(0, KH - (H-1) % stride_h - 1) : 0 and the top/left crop is pad/2 (likewise for W).
 *
 * The C# declarations are generated from this header by tools/AccelSdk.BindingGen.
 */
#ifndef ACCELSDK_ORT_OPS_H
#define ACCELSDK_ORT_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ACCELSDK_ORT_OPS_BUILD)
#define ACCELSDK_ORT_OPS_API __attribute__((visibility("default")))
#else
#define ACCELSDK_ORT_OPS_API
#endif

#define ACCELSDK_ORT_OPS_ABI_VERSION 1
#define ACCELSDK_ORT_OPS_DOMAIN "com.accelsdk"

/* The ACCELSDK_ORT_OPS_ABI_VERSION the library was built with. */
ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_abi_version(void);

/* The ORT API version (ORT_API_VERSION) the library was compiled against; ORT must be at least this new. */
ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_ort_api_version(void);

/* The number of operators the library registers. */
ACCELSDK_ORT_OPS_API int32_t accelsdk_ort_ops_count(void);

/* The op_type of operator `index` (0 <= index < count), or NULL. Static string. */
ACCELSDK_ORT_OPS_API const char* accelsdk_ort_ops_name(int32_t index);

#ifdef __cplusplus
}
#endif

#endif
