// What every op wrapper shares: options checked and their tensors converted
// (named for errors), and native results wrapped as Tensors.
import type { NativeTensor } from '../native';
import { Tensor, fromNative, type TensorLike } from '../tensor';
import { typeError } from '../errors';

/** A copy of `options` with the listed tensor-valued keys converted to Tensors. */
export function opOptions<O extends object>(options: O | undefined, tensorKeys: readonly string[] = ['out']): O | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw typeError(`options must be an object, got ${options === null ? 'null' : typeof options}`);
  const o = { ...options } as Record<string, unknown>;
  for (const k of tensorKeys)
    if (o[k] !== undefined && o[k] !== null) o[k] = Tensor.from(o[k] as TensorLike, `options.${k}`);
  return o as O;
}

/** A native result (or the caller's own `out`, returned as is) as a Tensor. */
export const asTensor = (t: NativeTensor | Tensor): Tensor => (t instanceof Tensor ? t : fromNative(t));

/** `out` alone, or `{out, [second]}` when the op returned a second tensor. */
export function outAnd(r: unknown, second: string): unknown {
  const o = r as NativeTensor | Record<string, NativeTensor>;
  if (second in o) {
    const pair = o as Record<string, NativeTensor>;
    return { out: asTensor(pair.out), [second]: fromNative(pair[second]) };
  }
  return asTensor(o as NativeTensor);
}
