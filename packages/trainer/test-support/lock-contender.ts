// A child process for the run-lock tests. Over IPC: {lock: dir} → acquireRunLock(dir), answers
// {won: true} or {error: name, message}; 'release' releases every lock it holds; {hold: dir}
// acquires and answers, then keeps the lock until killed.
import { acquireRunLock, type RunLock } from '../src/run/lock.js';

const held: RunLock[] = [];
process.on('message', (m: { lock?: string; hold?: string } | 'release' | 'exit') => {
  if (m === 'release') {
    for (const l of held.splice(0)) l.release();
    process.send?.({ released: true });
    return;
  }
  if (m === 'exit') process.exit(0);
  const dir = typeof m === 'object' ? (m.lock ?? m.hold) : undefined;
  if (dir === undefined) return;
  try {
    held.push(acquireRunLock(dir));
    process.send?.({ won: true, pid: process.pid });
  } catch (err) {
    const e = err as Error;
    process.send?.({ error: e.name, message: e.message, pid: process.pid });
  }
});
process.send?.({ ready: true, pid: process.pid });
