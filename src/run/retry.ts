// Retries for registry operations: transient answers (HTTP 429 and 5xx, connection errors) are
// tried again with exponential backoff, a bounded number of times; anything else fails at once.
import * as core from '@actions/core';
import { lastLines } from './runner.js';

const TRANSIENT = [
  /\b(429|500|502|503|504)\b/,
  /too many requests/i,
  /service unavailable/i,
  /internal server error/i,
  /bad gateway/i,
  /gateway time-?out/i,
  /connection (refused|reset)/i,
  /i\/o timeout/i,
  /TLS handshake timeout/i,
  /\bEOF\b/
];

/** Pure: whether a failed command's output looks like a fault worth another try. */
export function isTransient(output: string): boolean {
  return TRANSIENT.some((re) => re.test(output));
}

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 2000 };

export async function withRetry<T>(what: string, fn: () => Promise<T>, o: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const msg = (e as Error).message;
      if (attempt >= o.attempts || !isTransient(msg)) {
        // The registry's answer goes on the first line (the one the job summary shows), the whole
        // output of the last try after it.
        if (attempt > 1) {
          (e as Error).message =
            `${what} failed after ${attempt} tries: ${lastLines(msg, 1)}${msg.trim().includes('\n') ? `\n${msg}` : ''}`;
        }
        throw e;
      }
      const delay = o.baseDelayMs * 2 ** (attempt - 1);
      core.warning(`${what} failed (try ${attempt} of ${o.attempts}), trying again in ${delay / 1000} s: ${lastLines(msg, 1)}`);
      await sleep(delay);
    }
  }
}
