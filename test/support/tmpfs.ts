/**
 * A small real filesystem for tests that need a disk that fills up: a tmpfs mounted in a fresh
 * directory. Mounting needs root (as on CI); tests skip with canMountTmpfs() elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let mountable: boolean | undefined;

/**
 * Whether this process may mount a tmpfs: tried once for real (root is not enough, e.g. in a
 * container without CAP_SYS_ADMIN).
 */
export function canMountTmpfs(): boolean {
  if (mountable !== undefined) return mountable;
  mountable = false;
  if (process.getuid?.() !== 0) return mountable;
  try {
    mountTmpfs(1, 'cm-tmpfs-probe-').remove();
    mountable = true;
  } catch {
    // not allowed here: the tests that need it are skipped
  }
  return mountable;
}

export interface Tmpfs {
  readonly path: string;
  /** Grows or shrinks the filesystem (remount). */
  resize(sizeMiB: number): void;
  /** Bytes still free. */
  freeBytes(): number;
  /** Unmounts (lazily: files still open are released when closed) and removes the directory. */
  remove(): void;
}

export function mountTmpfs(sizeMiB: number, prefix = 'cm-tmpfs-'): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmdirSync(path);
    throw error;
  }
  return {
    path,
    resize: (size) => execFileSync('mount', ['-o', `remount,size=${size}m`, path]),
    freeBytes: () => Number(execFileSync('df', ['--output=avail', '-B1', path]).toString().split('\n')[1]),
    remove: () => {
      execFileSync('umount', ['--lazy', path]);
      rmdirSync(path);
    },
  };
}
