import type { Command } from 'commander';

/** `socketscope migrate`: applies (or reverts) the analytics schema migrations, nothing else. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations of the analytics service (same database settings as serve)')
    .option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL; absent: embedded database in --data-dir)')
    .option('--data-dir <dir>', 'embedded database directory (env SOCKETSCOPE_DATA_DIR, default ./.data)')
    .option('--down', 'revert instead of apply')
    .option('--count <n>', 'how many migrations to revert with --down', '1')
    .option('--json', 'machine-readable output')
    .action(async (flags: { databaseUrl?: string; dataDir?: string; down?: boolean; count: string; json?: boolean }) => {
      const [{ loadConfig }, { openDatabase }, { migrate }] = await Promise.all([
        import('../config.ts'),
        import('../analytics/storage/database.ts'),
        import('../analytics/storage/migrate.ts'),
      ]);
      const config = loadConfig(process.env, { databaseUrl: flags.databaseUrl, dataDir: flags.dataDir });
      const count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${flags.count}`);
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const ran = await migrate(database.pool, { direction: flags.down ? 'down' : 'up', count: flags.down ? count : undefined });
        if (flags.json) process.stdout.write(`${JSON.stringify({ database: database.kind, direction: flags.down ? 'down' : 'up', migrations: ran })}\n`);
        else if (ran.length === 0) console.log(`migrate: ${database.kind} database is up to date`);
        else console.log(`migrate: ${flags.down ? 'reverted' : 'applied'} ${ran.join(', ')}`);
      } finally {
        await database.close();
      }
    });
}
