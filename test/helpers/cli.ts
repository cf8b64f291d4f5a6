// Shared by the CLI tests (test/70, test/71): running `native-rnn` as a child process and
// reading its JSON-lines output.
import { spawn } from 'child_process';
import * as path from 'path';
import type { FloatArray } from '../../lib/backend/types';

export const MAIN = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.js');
// Small enough that every run takes well under a second of training.
export const SMALL = ['--hidden', '16', '--batch', '4', '--seq-length', '8', '--sample-every', '0'];

export interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export type Json = Record<string, unknown>;

/** Runs the CLI with args to its end. */
export function cli(args: string[], cwd?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Runs the CLI with args (which must print JSON step events: --json --log-every 1) and sends
 * it SIGINT once its first step event is out; resolves with its exit code and output.
 */
export function cliInterruptedAtFirstStep(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '', signalled = false;
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!signalled && /"event":"step"/.test(stdout)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  return exit.then((code) => ({ code, stdout, stderr }));
}

/** The JSON objects of the non-empty lines of a text. */
export function jsonLines(text: string): Json[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json);
}

/** The bytes of a float array's view (for bitwise comparisons). */
export function bytesOf(a: FloatArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
