// Native tests, emulated CUDA attention kernels in bfloat16 against the fp64
// reference and the CPU backend (one family per file, so tap runs them in parallel).
import t from 'tap';
import { runFamily } from './native-run';

t.test('native tests under the SIMT emulator: attention bfloat16', async (t) => runFamily(t, ['--filter', 'attention bfloat16 '], 80));
