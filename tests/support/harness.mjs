// End-to-end harness for Project Sync: what the e2e and browser tests (and the benchmark)
// import, gathered from one module per concern:
//   processes.mjs  the environment, ports, process trees;    runtime.mjs  one wrangler dev;
//   world.mjs      emulator + state + runtime (+ worldTest);  client.mjs   HTTP and user clients;
//   sse.mjs        the event-stream reader and its checks;    expect.mjs   git -> contract;
//   gitfixture.mjs real git repositories;                     github-emulator.mjs  GitHub.

export * from './gitfixture.mjs';
export { PROJECT_DIR, sleep, wranglerEnv } from './processes.mjs';
export { TERMINAL, STATUS_ORDER, SYNC_TIMEOUT_MS, request, assertError, userClient } from './client.mjs';
export { readEvents, assertEventStream } from './sse.mjs';
export { startWorld, worldTest } from './world.mjs';
export * from './expect.mjs';
