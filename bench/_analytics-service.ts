/** Starts `socketscope serve` as a child process (its own event loop, as in production) and returns its URL. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/stack/index.ts';

export interface ServeProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'socketscope.js'), 'serve', '--port', '0'], {
    // LOG_LEVEL stays info: the "listening" line is how we learn the URL.
    env: { ...process.env, ANOMALY_INTERVAL_SECONDS: '0', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
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
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout?.resume();
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
