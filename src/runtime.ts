// Entry point of dist/horn-runtime.js, the one file NodeManagers run: `node horn-runtime.js <role>`.
const role = process.argv[2];
const roles: Record<string, () => Promise<void>> = {};

async function run(): Promise<void> {
  const start = role ? roles[role] : undefined;
  if (!start) {
    process.stderr.write(`horn-runtime: unknown role ${JSON.stringify(role)}; expected one of ${Object.keys(roles).join(', ') || '(none yet)'}\n`);
    process.exit(2);
  }
  await start();
}
void run();
