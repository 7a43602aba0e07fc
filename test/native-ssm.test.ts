// Native tests, emulated CUDA state-space kernels against the fp64 reference and the
// CPU backend (one family per file, so tap runs them in parallel).
import t from 'tap';
import { runFamily } from './native-run';

t.test('native tests under the SIMT emulator: ssm', async (t) => runFamily(t, ['--filter', 'ssm '], 90));
