// The embedded engine's thread (see `startDynalite`): dynalite in memory on a loopback port, which
// it reports to the thread that started it. Plain JavaScript: a worker thread starts without the
// TypeScript loader of its parent when that parent is a test runner.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite(workerData);
server.once('error', (error) => parentPort?.postMessage({ error: String(error) }));
server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: server.address().port }));
parentPort?.on('message', (message) => {
  if (message !== 'close') return;
  server.closeAllConnections();
  server.close(() => parentPort?.postMessage({ closed: true }));
});
