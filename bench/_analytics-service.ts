/** Starts `socketscope serve` as a child process (its own event loop, as in production) and returns its URL. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/stack/index.ts';

export interface ServeProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  // BENCH_SERVE_NODE_ARGS: extra Node flags for the service, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under load.
  const nodeArgs = process.env.BENCH_SERVE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'bin', 'socketscope.js'), 'serve', '--port', '0'], {
    // LOG_LEVEL stays info: the "listening" line is how we learn the URL.
    env: { ...process.env, ANOMALY_INTERVAL_SECONDS: '0', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // A bench that dies (an exception, Ctrl-C) must not leave the service running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        // Not a log line (e.g. V8's --trace-gc output): pass it on.
        if (!line.startsWith('{')) {
          process.stderr.write(`${line}\n`);
          continue;
        }
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'socketscope analytics listening' && entry.url) resolve(entry.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('serve did not start within 120 s'));
    }, 120_000).unref();
  });
  // The listener above keeps draining stdout, so the child never blocks on a full pipe.
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
