// Native tests outside the attention and state-space families: the merge kernel, the
// SIMT emulator itself, the PTX wrappers, the decode plan (whatever the family files
// leave out runs here, so no case is skipped).
import t from 'tap';
import { runFamily } from './native-run';

const families = ['attention float32 ', 'attention float16 ', 'attention bfloat16 ', 'ssm '];
t.test('native tests under the SIMT emulator: the rest', async (t) =>
  runFamily(t, families.flatMap((f) => ['--exclude', f]), 40));
