// Entry point of dist/horn-runtime.js, the one file NodeManagers run: `node horn-runtime.js <role>`.
import { runApplicationMaster } from './appmaster/am';
import { runWorker } from './container/worker';

const roles: Record<string, () => Promise<number>> = {
  am: runApplicationMaster,
  worker: runWorker,
};

async function run(): Promise<void> {
  const role = process.argv[2] ?? '';
  const start = roles[role];
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
