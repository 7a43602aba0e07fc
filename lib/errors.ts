// Errors of the package. Argument problems are the built-in TypeError and
// RangeError (thrown by validation, naming the argument); every error the package
// throws carries one of these stable codes as `code`, whether it comes from the
// TypeScript layer or from the addon (csrc/napi/marshal.cpp sets the same names).

export const ErrorCodes = {
  /** A bad argument that is not about shapes or dtypes (TypeError or RangeError). */
  ARG: 'ERR_SUBQ_ARG',
  /** Shapes, strides or extents that do not fit the op or the buffer (RangeError). */
  SHAPE: 'ERR_SUBQ_SHAPE',
  /** A dtype the op does not take, or data that does not match it (TypeError). */
  DTYPE: 'ERR_SUBQ_DTYPE',
  /** Memory for an output or an async call's copy could not be allocated (RangeError). */
  OOM: 'ERR_SUBQ_OOM',
  /** The CUDA runtime failed, or this build or machine has no usable device (Error). */
  DEVICE: 'ERR_SUBQ_DEVICE',
  /**
   * A kernel fault (illegal address, trap, ...) lost the CUDA context of the device
   * (Error): its tensors are gone, and every later call on that device fails fast
   * with this code. Only a new process can use the device again.
   */
  DEVICE_LOST: 'ERR_SUBQ_DEVICE_LOST',
  /** The environment (process or worker) was shutting down, so the call did not run (Error). */
  CANCELLED: 'ERR_SUBQ_CANCELLED',
  /** An unexpected failure inside the addon (Error); please report it. */
  INTERNAL: 'ERR_SUBQ_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** `e` with `code` set (an own property, as Node's errors have it). */
export function withCode<E extends Error>(e: E, code: ErrorCode): E & { code: ErrorCode } {
  Object.defineProperty(e, 'code', { value: code, writable: true, enumerable: true, configurable: true });
  return e as E & { code: ErrorCode };
}

/** A TypeError / RangeError carrying `code` (ERR_SUBQ_ARG unless told). */
export const typeError = (message: string, code: ErrorCode = ErrorCodes.ARG) => withCode(new TypeError(message), code);
export const rangeError = (message: string, code: ErrorCode = ErrorCodes.ARG) => withCode(new RangeError(message), code);

/** The native addon could not be loaded; `attempts` says what was tried. */
export class NativeLoadError extends Error {
  readonly attempts: string[];
  readonly code = 'ERR_SUBQ_NATIVE_LOAD';
  constructor(message: string, attempts: string[]) {
    super(message);
    this.name = 'NativeLoadError';
    this.attempts = attempts;
  }
}
