/**
 * A small real filesystem for tests that need a disk that fills up: a tmpfs mounted in a fresh
 * directory. Mounting needs root (as on CI); tests skip with canMountTmpfs() elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this process may mount a tmpfs (root, with `mount` installed). */
export function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
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
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', path]);
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
