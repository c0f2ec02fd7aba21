// The cron benchmark: a no-op tick over N tracked projects. One real project is created
// and synced, one tick records its head ETag, then N - 1 copies of its row are written
// straight into the local D1 (the runtime stopped; creating 10,000 projects through the
// API would ask GitHub about each). The measured tick must make N conditional requests,
// all answered 304, and write no sync row.

import { startWorld, createRepo, sleep } from '../tests/support/harness.mjs';
import { runWrangler } from '../tests/support/processes.mjs';

const COLUMNS = 'user_id, name, repository, branch, tracked, current_sync_id, current_seq, current_commit_sha, head_etag, head_checked_at, head_sha, created_at, updated_at';

async function d1(world, sql, json = false) {
  const args = ['d1', 'execute', 'DB', '--local', '--persist-to', world.state, '--command', sql];
  const out = await runWrangler(json ? [...args, '--json'] : args, { logFile: world.logFile, timeoutMs: 600_000 });
  return json ? JSON.parse(out.slice(out.indexOf('['))) : out;
}

async function headChecks(world, n, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const checks = world.emulator.stats().log.filter((e) => e.route === 'ref');
    if (checks.length >= n) return checks;
    if (Date.now() > until) throw new Error(`only ${checks.length} of ${n} head checks within ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function cronNoOpTick(n) {
  const world = await startWorld();
  try {
    const repo = createRepo(world.root, 'bench', 'tracked');
    repo.write('README.md', '# tracked\n');
    repo.commit('c1');
    const user = await world.createUser('bench');
    const template = await user.createProject({ name: 'tracked', repository: 'bench/tracked', tracked: true });
    await user.syncAndWait(template.id);
    world.emulator.resetStats();
    await world.triggerScheduled();
    await headChecks(world, 1, 60_000);
    await sleep(1_000);

    process.stderr.write(`[bench] copying the tracked project ${n - 1} times...\n`);
    const port = Number(new URL(world.base).port);
    await world.runtime.stop();
    await d1(world, `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n - 1})
      INSERT INTO projects (id, ${COLUMNS})
      SELECT printf('%08x-0000-4000-8000-%012x', i, i), ${COLUMNS} FROM k, projects WHERE projects.id = '${template.id}'`);
    await world.runtime.launch(port);

    process.stderr.write(`[bench] a cron tick over ${n} tracked projects...\n`);
    world.emulator.resetStats();
    const t0 = Date.now();
    await world.triggerScheduled();
    const checks = await headChecks(world, n, 30 * 60_000);
    const wallMs = Date.now() - t0;
    await sleep(3_000);
    const after = world.emulator.stats().log.filter((e) => e.route === 'ref');
    await world.runtime.stop();
    const [{ results }] = await d1(world, "SELECT count(*) AS n FROM syncs WHERE trigger = 'cron'", true);
    return {
      projects: n,
      checks: after.length,
      notModified: after.filter((e) => e.status === 304).length,
      // The template's own first cron sync is not one: it was started by the API.
      syncRows: results[0].n,
      wallMs,
      firstChecks: checks.length,
    };
  } finally {
    await world.stop();
  }
}
