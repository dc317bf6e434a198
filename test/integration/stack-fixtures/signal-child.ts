/**
 * A process holding a stack with Prometheus and Chromium, for
 * stack-signals.test.ts: prints `{ runDir, processes }` as one JSON line once
 * everything runs, then waits to be signalled. With `--app-handles-shutdown`
 * it declares (leaveShutdownToApp) that it stops its stack itself on SIGTERM,
 * as the demo does, and exits 0 once stopped; with `--stuck-shutdown` it
 * declares the same but its handler only prints `stopping` and never stops;
 * with `--stack-owns-shutdown` it declares the stack owns shutdown although it
 * has a SIGTERM listener of its own, which prints `listener ran`.
 */
import { Stack, leaveShutdownToApp } from '../../../src/stack/index.ts';

const stack = new Stack('signal-child');
await stack.prometheus({ config: 'global:\n  scrape_interval: 15s\n' });
await stack.chromium();
if (process.argv.includes('--app-handles-shutdown')) {
  leaveShutdownToApp();
  process.once('SIGTERM', () => {
    void stack.stop({ keepRunDir: true }).then(() => process.exit(0));
  });
}
if (process.argv.includes('--stack-owns-shutdown')) {
  leaveShutdownToApp(false);
  process.on('SIGTERM', () => process.stdout.write('listener ran\n'));
}
if (process.argv.includes('--stuck-shutdown')) {
  leaveShutdownToApp();
  process.once('SIGTERM', () => process.stdout.write('stopping\n'));
}
process.stdout.write(`${JSON.stringify({ runDir: stack.runDir, processes: stack.processes() })}\n`);
setInterval(() => undefined, 1 << 30);
