/**
 * The embedded database's data directory is locked while a process has it
 * open: a second open (another `serve`, `socketscope migrate`) fails with a
 * message naming the holder instead of opening PGlite on the same files, which
 * corrupts the database. A lock left by a process that is gone is taken over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE } from '../../../src/analytics/storage/data-dir-lock.ts';
import { openDatabase } from '../../../src/analytics/storage/database.ts';
import { REPO_ROOT } from '../../../src/stack/index.ts';
import { run } from '../../helpers/exec.ts';

const dir = mkdtempSync(join(tmpdir(), 'socketscope-lock-'));
const lockFile = join(dir, LOCK_FILE);
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const lockedMessage = (pid: number) =>
  `the embedded database in ${dir} is in use by process ${pid} (lock file ${lockFile}); stop that process first, or set DATABASE_URL to use a PostgreSQL server`;

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const exited = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => exited.once('exit', resolve));
  return exited.pid!;
}

describe('embedded database lock', () => {
  it('refuses a second open while the first is open, opens after it closed, and takes over a stale lock', async () => {
    const first = await openDatabase({ dataDir: dir });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    const second = await openDatabase({ dataDir: dir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(second).toBeInstanceOf(DataDirLockedError);
    expect((second as Error).message).toBe(lockedMessage(process.pid));
    // The first one is unharmed.
    expect((await first.pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    await first.close();
    expect(existsSync(lockFile)).toBe(false);

    const again = await openDatabase({ dataDir: dir });
    expect((await again.pool.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
    await again.close();

    // A process that died with the lock (SIGKILL, a crash) left it behind.
    writeFileSync(lockFile, `${await deadPid()}\n`);
    const afterCrash = await openDatabase({ dataDir: dir });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    await afterCrash.close();
    expect(existsSync(lockFile)).toBe(false);
  }, 120_000); // creating a PGlite data directory takes 3–20 s depending on load

  it('`socketscope migrate` fails naming the process that has the database open, and runs once that one is gone', async () => {
    const script = `import { openDatabase } from ${JSON.stringify(join(REPO_ROOT, 'src/analytics/storage/database.ts'))};
      await openDatabase({ dataDir: ${JSON.stringify(dir)} });
      console.log('open');
      setInterval(() => undefined, 60_000);`;
    child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
      child!.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const migrate = () => run(process.execPath, [join(REPO_ROOT, 'bin', 'socketscope.js'), 'migrate', '--json', '--data-dir', dir], { env, timeoutMs: 120_000 });

    expect(await migrate()).toEqual({ code: 1, stdout: '', stderr: `socketscope: ${lockedMessage(child.pid!)}\n` });

    // Killed: it cannot release the lock, which is stale from then on.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(readFileSync(lockFile, 'utf8')).toBe(`${child.pid}\n`);
    const result = await migrate();
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({ database: 'embedded', direction: 'up' });
    expect(existsSync(lockFile)).toBe(false);
  }, 180_000);
});
