#!/usr/bin/env python3
"""Dynamic int8 quantization of an ONNX model with only the onnx + numpy packages (no onnxruntime).

Usage: quantize_onnx_dynamic.py [--per-channel] [--reduce-range] IN.onnx OUT.onnx

Reproduces the "integer ops" pattern that onnxruntime.quantization.quantize_dynamic emits for MatMul
(QUInt8 activations, QInt8 weights, per tensor by default): every MatMul whose second input is a 2-D float initializer W becomes

    DynamicQuantizeLinear(x)                  -> x_q (uint8), x_scale, x_zp
    MatMulInteger(x_q, W_q, x_zp, W_zp)       -> int32          (W_q int8, symmetric: scale = max|W|/127, zp = 0)
    Cast(to=float)
    Mul(x_scale, W_scale)                     -> combined scale
    Mul(cast, combined scale)                 -> original MatMul output

ORT's ORT_ENABLE_ALL optimizer fuses this into its MatMulIntegerToFloat / DynamicQuantizeMatMul contrib ops.
Graph inputs, outputs and every other node are kept as they are.

--per-channel is quantize_dynamic(per_channel=True): one scale (and zero point 0) per output column of W, shape [N].
all-MiniLM-L6-v2 needs it: its FFN output weights have single outliers (max|W| 7.9 where the rest is ~0.1), so
per-tensor int8 loses ~40% of those matrices (relative Frobenius error) and the sentence vectors drift to cosine ~0.9.

--reduce-range is quantize_dynamic(reduce_range=True): 7-bit weights (symmetric [-64, 64], scale = max|W|/64). ORT's
docs advise it on x86-64 without VNNI, where MLAS's u8s8 kernel (VPMADDUBSW) saturates the int16 pair sums of full
8-bit weights and loses accuracy badly.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize(model: onnx.ModelProto, reduce_range: bool = False, per_channel: bool = False) -> int:
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    used = set()
    names = {n for node in graph.node for n in list(node.input) + list(node.output)} | set(inits)

    def fresh(base: str) -> str:
        name, i = base, 0
        while name in names:
            i += 1
            name = f"{base}_{i}"
        names.add(name)
        return name

    quantized_weights = {}  # W name -> (W_q name, W_scale name, W_zp name)
    new_nodes = []
    count = 0
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or len(w.dims) != 2 or w.data_type != TensorProto.FLOAT:
            new_nodes.append(node)
            continue
        count += 1
        if w.name not in quantized_weights:
            arr = numpy_helper.to_array(w).astype(np.float32)
            qmax = 64 if reduce_range else 127
            if per_channel:
                scale = (np.max(np.abs(arr), axis=0) / qmax).astype(np.float32)  # [N]
                scale[scale == 0] = 1.0
            else:
                scale = np.array(float(np.max(np.abs(arr))) / qmax or 1.0, dtype=np.float32)
            q = np.clip(np.rint(arr / scale), -qmax, qmax).astype(np.int8)
            wq, ws, wz = fresh(w.name + "_quantized"), fresh(w.name + "_scale"), fresh(w.name + "_zero_point")
            graph.initializer.extend([
                numpy_helper.from_array(q, wq),
                numpy_helper.from_array(scale, ws),
                numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), wz),
            ])
            quantized_weights[w.name] = (wq, ws, wz)
        wq, ws, wz = quantized_weights[w.name]
        x, y = node.input[0], node.output[0]
        base = node.name or y
        xq, xs, xz = fresh(x + "_quantized"), fresh(x + "_scale"), fresh(x + "_zero_point")
        mm, cast, scale = fresh(y + "_output_quantized"), fresh(y + "_output_cast"), fresh(y + "_scale_mul")
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [xq, xs, xz], name=fresh(base + "_QuantizeLinear")),
            helper.make_node("MatMulInteger", [xq, wq, xz, wz], [mm], name=fresh(base + "_quant")),
            helper.make_node("Cast", [mm], [cast], to=TensorProto.FLOAT, name=fresh(base + "_output_cast")),
            helper.make_node("Mul", [xs, ws], [scale], name=fresh(base + "_scale_mul")),
            helper.make_node("Mul", [cast, scale], [y], name=fresh(base + "_output_scale_mul")),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)

    # Drop float weights no node (or graph output) reads any more.
    for node in graph.node:
        used.update(node.input)
    used.update(o.name for o in graph.output)
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    init_names = {t.name for t in kept}
    stale_inputs = [i for i in graph.input if i.name in inits and i.name not in init_names]
    for i in stale_inputs:
        graph.input.remove(i)

    # DynamicQuantizeLinear needs opset 11 of the default domain.
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 11:
            opset.version = 11
    return count


def main() -> int:
    args = sys.argv[1:]
    reduce_range, per_channel = "--reduce-range" in args, "--per-channel" in args
    args = [a for a in args if a not in ("--reduce-range", "--per-channel")]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model = onnx.load(args[0])
    count = quantize(model, reduce_range, per_channel)
    onnx.checker.check_model(model)
    onnx.save(model, args[1])
    bits = "7-bit weights (reduce_range)" if reduce_range else "8-bit weights"
    print(f"quantized {count} MatMul nodes ({bits}, {'per output channel' if per_channel else 'per tensor'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
