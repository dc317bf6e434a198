import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface StartOptions {
  /** Short name used in logs and errors, e.g. `prometheus`. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr of the process are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Optional uid/gid (e.g. to run PostgreSQL tools as `postgres` when we are root). */
  uid?: number;
  gid?: number;
  /** The signal that asks this program to shut down cleanly (PostgreSQL: SIGINT, "fast"). */
  stopSignal?: NodeJS.Signals;
}

const live = new Set<ManagedProcess>();

/**
 * A child process in its own process group, so stopping it also stops anything
 * it forked. Every live one is killed when this Node process exits, whatever
 * the reason (test failure, uncaught error, SIGINT/SIGTERM).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly logFile: string;
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly stopSignal: NodeJS.Signals;

  constructor(options: StartOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    this.stopSignal = options.stopSignal ?? 'SIGTERM';
    const log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
    });
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        log.write(`\n[socketscope] spawn failed: ${error.message}\n`);
        this.exitCode = null;
        live.delete(this);
        resolve(null);
      });
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        live.delete(this);
        resolve(this.exitCode);
      });
    });
    this.exited.then(() => log.end()).catch(() => undefined);
    live.add(this);
    installExitHooks();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the exit code once the process has exited. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  /** The tail of the process's log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The stop signal to the whole group, SIGKILL after `graceMs`; resolves once exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    signalGroup(this, this.stopSignal);
    const timer = setTimeout(() => signalGroup(this, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children of the group leader (e.g. forked helpers) may outlive it.
    signalGroup(this, 'SIGKILL');
  }
}

function signalGroup(proc: ManagedProcess, signal: NodeJS.Signals): void {
  const pid = proc.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Kills every live managed process group at once; safe inside an 'exit' handler. */
export function killAllManaged(): void {
  for (const proc of live) signalGroup(proc, 'SIGKILL');
  live.clear();
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllManaged);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // An application that handles the signal itself (the demo's graceful
      // shutdown) stops its stack; the 'exit' hook still catches the rest.
      if (process.listenerCount(signal) > 0) return;
      killAllManaged();
      process.kill(process.pid, signal);
    });
  }
}
