// Atomic file replacement: readers (and a process restarted after a crash) see either the
// whole old file or the whole new one, never a torn mix.
//
//   1. write the data to a temp file in the target's directory (rename is atomic only within
//      one file system, so the temp file must live beside the target);
//   2. fsync it, so its bytes are on disk before any name points at them;
//   3. rename it over the target (POSIX rename replaces atomically);
//   4. fsync the directory, so the rename itself survives a power loss.
//
// On any failure before the rename the temp file is removed and the target is untouched.
// A SIGKILL between steps 1 and 3 can leave a stale temp file (named .<target>.<pid>.<hex>.tmp)
// but never a damaged target.

import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { randomBytes } from 'crypto';

export interface AtomicWriteOptions {
  /** File mode of the written file (default 0o644, before the umask); it replaces the old mode. */
  mode?: number;
  /**
   * Called with the temp file's path once its data is durable and before it replaces the
   * target, e.g. to read it back and check it. Throwing (or rejecting) aborts the write:
   * the temp file is removed and the target keeps its previous contents.
   */
  verify?: (tempPath: string) => void | Promise<void>;
}

/** Also matches the temp files of a writer that died, for cleanup by the caller. */
export function tempFilePattern(target: string): RegExp {
  const base = path.basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${base}\\.\\d+\\.[0-9a-f]+\\.tmp$`);
}

function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`writeFileAtomic: data must be a Uint8Array or a string, got ${Object.prototype.toString.call(data)}`);
}

// Some platforms (Windows) cannot open or fsync a directory; durability of the rename is then
// up to the file system, and the write itself has still succeeded.
function isUnsupportedDirectorySync(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'ENOTSUP' || code === 'EACCES';
}

/** Replaces the file at `target` with `data` atomically and durably. */
export async function writeFileAtomic(target: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const bytes = toBytes(data);
  const tempPath = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    // 'wx': create exclusively, so two writers can never share a temp file.
    handle = await fsp.open(tempPath, 'wx', options.mode ?? 0o644);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.verify !== undefined) await options.verify(tempPath);
    await fsp.rename(tempPath, target);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.unlink(tempPath).catch(() => undefined);
    throw err;
  }
  let dir: fsp.FileHandle | undefined;
  try {
    dir = await fsp.open(path.dirname(target), 'r');
    await dir.sync();
  } catch (err) {
    if (!isUnsupportedDirectorySync(err)) throw err;
  } finally {
    await dir?.close().catch(() => undefined);
  }
}

/** The synchronous twin of writeFileAtomic (same steps, same guarantees). */
export function writeFileAtomicSync(target: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const bytes = toBytes(data);
  const tempPath = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tempPath, 'wx', options.mode ?? 0o644);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    if (options.verify !== undefined) {
      const result = options.verify(tempPath);
      if (result instanceof Promise) {
        result.catch(() => undefined); // its outcome is moot now; do not leave it unhandled
        throw new TypeError('writeFileAtomicSync: verify must be synchronous; use writeFileAtomic for an async check');
      }
    }
    fs.renameSync(tempPath, target);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing; keep the first error */ }
    }
    try { fs.unlinkSync(tempPath); } catch { /* it may never have been created */ }
    throw err;
  }
  let dirFd: number | undefined;
  try {
    dirFd = fs.openSync(path.dirname(target), 'r');
    fs.fsyncSync(dirFd);
  } catch (err) {
    if (!isUnsupportedDirectorySync(err)) throw err;
  } finally {
    if (dirFd !== undefined) fs.closeSync(dirFd);
  }
}
