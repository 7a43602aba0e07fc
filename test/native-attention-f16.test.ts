// Native tests, emulated CUDA attention kernels in float16 against the fp64
// reference and the CPU backend (one family per file, so tap runs them in parallel).
import t from 'tap';
import { runFamily } from './native-run';

t.test('native tests under the SIMT emulator: attention float16', async (t) => runFamily(t, ['--filter', 'attention float16 '], 80));
