#!/usr/bin/env python3
"""Compares the output_N.pb ONNX TensorProto files of two `accelsdk run --output-dir` folders (float32 only).

Usage: compare-tensors.py EXPECTED_DIR ACTUAL_DIR [RTOL] [ATOL] [SCALED_ATOL]. Passes when every element satisfies
|actual - expected| <= RTOL * |expected| + max(ATOL, SCALED_ATOL * max|expected| of that output) (defaults 1e-4, 1e-5
and 0); prints the worst relative difference. SCALED_ATOL lets values near zero of an output whose other values are
large differ by summation order (another CPU's kernels) without loosening the relative bound elsewhere.
A tiny TensorProto reader (dims, data_type, float_data, raw_data), so that no onnx package is needed."""
import glob, os, struct, sys


def varint(buf, pos):
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def read_tensor(path):
    buf = open(path, "rb").read()
    pos, dims, dtype, floats, raw = 0, [], 1, [], None
    while pos < len(buf):
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
            if field == 1: dims.append(value)
            elif field == 2: dtype = value
        elif wire == 2:
            length, pos = varint(buf, pos)
            chunk, pos = buf[pos:pos + length], pos + length
            if field == 1:
                p = 0
                while p < len(chunk):
                    d, p = varint(chunk, p)
                    dims.append(d)
            elif field == 4: floats.extend(struct.unpack(f"<{len(chunk) // 4}f", chunk))
            elif field == 9: raw = chunk
        elif wire == 5: pos += 4
        elif wire == 1: pos += 8
        else: raise ValueError(f"{path}: unexpected wire type {wire}")
    if dtype != 1: raise ValueError(f"{path}: data_type {dtype} is not float32")
    values = list(struct.unpack(f"<{len(raw) // 4}f", raw)) if raw is not None else floats
    return dims, values


def main():
    expected_dir, actual_dir = sys.argv[1], sys.argv[2]
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    atol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-5
    scaled_atol = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    files = sorted(glob.glob(os.path.join(expected_dir, "output_*.pb")))
    if not files:
        print(f"no output_*.pb in {expected_dir}"); return 1
    ok = True
    for expected_path in files:
        name = os.path.basename(expected_path)
        actual_path = os.path.join(actual_dir, name)
        if not os.path.exists(actual_path):
            print(f"FAIL {name}: missing in {actual_dir}"); ok = False; continue
        (edims, e), (adims, a) = read_tensor(expected_path), read_tensor(actual_path)
        if edims != adims or len(e) != len(a):
            print(f"FAIL {name}: shape {adims} != {edims}"); ok = False; continue
        output_atol = max(atol, scaled_atol * max((abs(y) for y in e), default=0.0))
        worst = max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, e)), default=0.0)
        bad = sum(1 for x, y in zip(a, e) if abs(x - y) > rtol * abs(y) + output_atol)
        print(f"{'ok  ' if bad == 0 else 'FAIL'} {name}: {len(e)} values {edims}, {bad} outside rtol {rtol} + atol {output_atol:.3g}, worst relative diff {worst:.3g}")
        ok = ok and bad == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
