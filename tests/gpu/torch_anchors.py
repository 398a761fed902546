#!/usr/bin/env python3
"""PyTorch side of the GPU check (issue 14), run by tests/gpu/run-on-gpu.sh on the GPU machine.

1. Exports torchvision's ResNet18 (seeded random weights, eval mode, batch 1) to ONNX, so the same file feeds
   AccelSdk's check runner and the PyTorch timing below.
2. Anchors on the same GPU: fp32 matmul GFLOP/s through cuBLAS at the given sizes (TF32 off, so it is the fp32 rate
   the ILGPU kernels are compared with) and ResNet18's forward latency (batch 1, median), both timed with CUDA events.

Writes the ONNX file and a JSON file of figures; prints what it did. Exit 0 also without CUDA (export only, the JSON
says why the anchors are missing); exit 1 when the export fails.
"""
import argparse
import inspect
import json
import statistics
import sys
import time


def export_resnet18(torch, torchvision, path, opset):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    example = torch.randn(1, 3, 224, 224)
    has_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters
    attempts = []
    # The TorchScript exporter writes the opset asked for with plain Conv/Gemm/Flatten nodes; newer PyTorch may have
    # only the dynamo exporter (opset >= 18), which is tried second.
    for dynamo in ((False, True) if has_dynamo else (False,)):
        kwargs = dict(input_names=["input"], output_names=["logits"], opset_version=max(opset, 18) if dynamo else opset)
        if dynamo:
            kwargs.update(dynamo=True, external_data=False)
        else:
            kwargs.update(do_constant_folding=True)
            if has_dynamo:
                kwargs["dynamo"] = False
        try:
            with torch.no_grad():
                torch.onnx.export(model, (example,), path, **kwargs)
            return model, {"exporter": "dynamo" if dynamo else "torchscript", "opset": kwargs["opset_version"], "tries": attempts}
        except Exception as e:  # noqa: BLE001 - every exporter failure is reported, then the other exporter is tried
            attempts.append(f"{'dynamo' if dynamo else 'torchscript'}: {type(e).__name__}: {e}"[:500])
    raise RuntimeError("ResNet18 export failed: " + " | ".join(attempts))


def cuda_median_ms(torch, fn, warmups, runs):
    for _ in range(warmups):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def anchors(torch, model, sizes, runs):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    props = torch.cuda.get_device_properties(0)
    result = {
        "device_name": props.name,
        "sm_count": props.multi_processor_count,
        "memory_mib": props.total_memory // (1024 * 1024),
        "compute_capability": f"{props.major}.{props.minor}",
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "matmul_gflops": {},
        "matmul_ms": {},
    }
    for n in sizes:
        g = torch.Generator(device="cuda").manual_seed(n)
        a = torch.rand(n, n, device="cuda", generator=g) * 2 - 1
        b = torch.rand(n, n, device="cuda", generator=g) * 2 - 1
        ms = cuda_median_ms(torch, lambda: torch.matmul(a, b), warmups=3, runs=runs)
        result["matmul_ms"][str(n)] = ms
        result["matmul_gflops"][str(n)] = 2.0 * n ** 3 / (ms * 1e-3) / 1e9
        print(f"torch_anchors: matmul {n}: {ms:.3f} ms, {result['matmul_gflops'][str(n)]:.1f} GFLOP/s (fp32, TF32 off)", flush=True)
    gpu_model = model.to("cuda")
    x = torch.randn(1, 3, 224, 224, device="cuda")
    with torch.no_grad():
        result["resnet18_ms"] = cuda_median_ms(torch, lambda: gpu_model(x), warmups=10, runs=max(runs, 50))
    result["resnet18_note"] = "eager PyTorch, fp32, batch 1, cudnn.benchmark off, input already on the GPU, median of CUDA-event times"
    print(f"torch_anchors: ResNet18 forward: {result['resnet18_ms']:.3f} ms (median)", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resnet18", required=True, help="where to write ResNet18.onnx")
    parser.add_argument("--json", required=True, help="where to write the figures")
    parser.add_argument("--sizes", default="1024,2048,4096")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    started = time.time()
    import torch
    import torchvision

    figures = {"torch": torch.__version__, "torchvision": torchvision.__version__, "cuda": torch.version.cuda}
    try:
        model, export = export_resnet18(torch, torchvision, args.resnet18, args.opset)
    except RuntimeError as e:
        figures["export_error"] = str(e)
        json.dump(figures, open(args.json, "w"), indent=2)
        print(f"torch_anchors: error: {e}", file=sys.stderr)
        return 1
    figures["resnet18_export"] = export
    print(f"torch_anchors: ResNet18 exported to {args.resnet18} ({export['exporter']}, opset {export['opset']})", flush=True)
    if torch.cuda.is_available():
        figures.update(anchors(torch, model, [int(s) for s in args.sizes.split(",")], args.runs))
    else:
        figures["anchors_missing"] = "torch.cuda.is_available() is False"
        print("torch_anchors: no CUDA device: anchors not measured", flush=True)
    figures["seconds"] = round(time.time() - started, 1)
    with open(args.json, "w") as f:
        json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
