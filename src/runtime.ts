// Entry point of dist/horn-runtime.js, the one file NodeManagers run: `node horn-runtime.js <role>`.
import { runApplicationMaster } from './appmaster/am';
import { runServer } from './container/server';
import { runWorker } from './container/worker';
import type { Role } from './protocol';

const roles: Record<Role, () => Promise<number>> = {
  am: runApplicationMaster,
  worker: runWorker,
  server: runServer,
};

async function run(): Promise<void> {
  const role = process.argv[2] ?? '';
  const start = roles[role as Role];
  if (!start) {
    process.stderr.write(`horn-runtime: unknown role ${JSON.stringify(role)}; expected one of ${Object.keys(roles).join(', ')}\n`);
    process.exit(2);
  }
  try {
    process.exit(await start());
  } catch (err) {
    process.stderr.write(`horn-runtime ${role}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  }
}
void run();
