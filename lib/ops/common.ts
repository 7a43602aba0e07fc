// What every op wrapper shares: the `out` option, options checked and their tensors
// converted (named for errors), native results wrapped as Tensors, and the result type of
// an op whose options can ask for a second output.
import type { NativeOptions, NativeOut, NativeResult } from '../native';
import { Tensor, fromNative, type TensorLike } from '../tensor';
import { typeError } from '../errors';

/** The option every op takes. */
export interface OutOption {
  /** Write the output here instead of allocating it (the dtype, shape and device of the result); the op returns it. */
  out?: TensorLike;
}

/**
 * What an op returns for options of type O when `Flag` asks for a second output: `Pair`
 * when O sets it to true, the output alone when O sets it to false or leaves it out, and
 * either when O holds a boolean known only at run time.
 */
export type OpResult<O, Flag extends PropertyKey, Pair> = O extends unknown
  ? Flag extends keyof O
    ? O[Flag] extends true
      ? Pair
      : O[Flag] extends false | undefined
        ? Tensor
        : Tensor | Pair
    : Tensor
  : never;

/** A copy of `options` with the listed tensor-valued keys converted to Tensors. */
export function opOptions<O extends object>(options: O | undefined, tensorKeys: readonly string[] = ['out']): NativeOptions<O> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw typeError(`options must be an object, got ${options === null ? 'null' : typeof options}`);
  const o = { ...options } as Record<string, unknown>;
  for (const k of tensorKeys)
    if (o[k] !== undefined && o[k] !== null) o[k] = Tensor.from(o[k] as TensorLike, `options.${k}`);
  return o as NativeOptions<O>;
}

/** A native result (or the caller's own `out`, returned as is) as a Tensor. */
export const asTensor = (t: NativeOut): Tensor => (t instanceof Tensor ? t : fromNative(t));

/** `out` alone, or `{out, [second]}` when the op returned a second tensor. */
export function outAnd<S extends string>(r: NativeResult<S>, second: S): Tensor | ({ out: Tensor } & { [K in S]: Tensor }) {
  if (r instanceof Tensor || !(second in r)) return asTensor(r as NativeOut);
  const pair = r as { out: NativeOut } & { [K in S]: NativeOut };
  return { out: asTensor(pair.out), [second]: asTensor(pair[second]) } as { out: Tensor } & { [K in S]: Tensor };
}
