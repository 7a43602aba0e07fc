// Compiled (never run) by test/types.test.ts: the device surface (sync, the error
// codes, the addon's copy and sync exports).
import { ErrorCodes, sync, syncSync, type ErrorCode } from '../../lib';
import { native } from '../../lib/native';

declare function expectType<T>(value: T): void;
declare const u8: Uint8Array;

expectType<Promise<void>>(sync());
expectType<Promise<void>>(sync('cuda'));
expectType<Promise<void>>(sync('cuda:1'));
expectType<Promise<void>>(sync('cpu'));
// @ts-expect-error not a device name
void sync('gpu');
// @ts-expect-error a device is named, not numbered
void sync(0);
expectType<void>(syncSync());
expectType<void>(syncSync('cuda:0'));
// @ts-expect-error returns nothing
expectType<number>(syncSync());

expectType<'ERR_SUBQ_DEVICE_LOST'>(ErrorCodes.DEVICE_LOST);
export const lost: ErrorCode = 'ERR_SUBQ_DEVICE_LOST';
// @ts-expect-error not a code of the package
export const bad: ErrorCode = 'ERR_SUBQ_GONE';

expectType<Promise<void>>(native().cudaSync(0));
expectType<void>(native().cudaSyncSync(0));
// @ts-expect-error the addon takes the device index
void native().cudaSync('cuda:0');
expectType<Promise<void>>(native().copyToHost(new (native().DeviceBuffer)(0, 4), u8));
// @ts-expect-error a TypedArray, not a plain array
void native().copyToDevice(new (native().DeviceBuffer)(0, 4), [1, 2, 3, 4]);
