// Compiled (not run) by tests/web/client.test.mjs with `tsc --noEmit --strict`: the client's
// declarations type real uses, and refuse wrong ones.
import { createClient, ProjectSyncError, type Project, type Sync, type FilePage, type SyncEvent } from '../../web/client/project-sync.js';

const ps = createClient({ baseUrl: 'https://sync.example.com', token: () => 'psk_x' });
export async function uses(): Promise<void> {
  const project: Project = await ps.createProject({ name: 'n', repository: 'o/r', exclude: ['vendor/'] });
  const started = await ps.startSync(project.id, { dryRun: true });
  const sync: Sync = started.sync;
  const page: FilePage = await ps.listFiles(project.id, { prefix: 'src/', limit: 10 });
  const content: Response = await ps.getFileContent(project.id, { path: page.items[0]?.path ?? 'README.md', ifNoneMatch: '"abc"' });
  const last: SyncEvent = await ps.watchSync(sync.id, { onEvent: (e) => void e.data.progress, onConnection: (state) => void state.toUpperCase() });
  await ps.deleteHook(project.id, 'h-1');
  for await (const f of ps.paginate<{ path: string }>('listFiles', project.id)) void f.path;
  void content.status;
  void last.event;
  try {
    await ps.getSync('missing');
  } catch (e) {
    if (e instanceof ProjectSyncError) void e.code;
  }
  // @ts-expect-error a project id is required
  await ps.getProject();
  // @ts-expect-error an unknown option
  await ps.listFiles(project.id, { folder: 'src/' });
  // @ts-expect-error the path is required
  await ps.getFileContent(project.id, {});
}
