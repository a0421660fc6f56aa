// Whether a process still runs: how lock files and in-progress part files tell a live writer from a killed one.

/** True if `pid` runs (signal 0 probes without signalling; EPERM means it runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
