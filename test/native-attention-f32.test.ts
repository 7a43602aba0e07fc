// Native tests, emulated CUDA attention kernels in float32 against the fp64
// reference and the CPU backend (one family per file, so tap runs them in parallel).
import t from 'tap';
import { runFamily } from './native-run';

t.test('native tests under the SIMT emulator: attention float32', async (t) => runFamily(t, ['--filter', 'attention float32 '], 80));
