// onnxruntime-node as a peer: its CPU MultiHeadAttention (com.microsoft) on the
// same shapes. The ONNX model is encoded here directly (a few protobuf fields),
// so the bench needs no model files and no onnx tooling.

type Ort = typeof import('onnxruntime-node');

let ort: Ort | null | undefined;
/** onnxruntime-node when installed (an optional dev dependency), else null. */
export function loadOrt(): Ort | null {
  if (ort === undefined) {
    try {
      // A run-time require: the package may be absent.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ort = require('onnxruntime-node') as Ort;
    } catch {
      ort = null;
    }
  }
  return ort;
}

// Protobuf wire format: tag = field << 3 | wire type (0 varint, 2 length-delimited).
function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const int = (field: number, v: number) => [...varint(field << 3), ...varint(v)];
const bytes = (field: number, b: number[]) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

const FLOAT = 1;
function valueInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));  // TensorShapeProto.dim.dim_value
  const tensorType = [...int(1, FLOAT), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

/** A model with one MultiHeadAttention node: q [B, Nq, H*D], k/v [B, Nk, H*D] -> out. */
export function mhaModel(B: number, H: number, Nq: number, Nk: number, D: number, causal: boolean): Uint8Array {
  const attr = (name: string, v: number) => [...str(1, name), ...int(3, v), ...int(20, 2)];  // type INT
  const node = [
    ...str(1, 'q'), ...str(1, 'k'), ...str(1, 'v'), ...str(2, 'out'),
    ...str(3, 'mha'), ...str(4, 'MultiHeadAttention'), ...str(7, 'com.microsoft'),
    ...bytes(5, attr('num_heads', H)),
    ...(causal ? bytes(5, attr('unidirectional', 1)) : []),
  ];
  const graph = [
    ...bytes(1, node), ...str(2, 'attention'),
    ...bytes(11, valueInfo('q', [B, Nq, H * D])),
    ...bytes(11, valueInfo('k', [B, Nk, H * D])),
    ...bytes(11, valueInfo('v', [B, Nk, H * D])),
    ...bytes(12, valueInfo('out', [B, Nq, H * D])),
  ];
  const model = [
    ...int(1, 8),  // ir_version
    ...bytes(8, [...str(1, ''), ...int(2, 17)]),
    ...bytes(8, [...str(1, 'com.microsoft'), ...int(2, 1)]),
    ...bytes(7, graph),
  ];
  return Uint8Array.from(model);
}
