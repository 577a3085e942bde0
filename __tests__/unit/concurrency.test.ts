// Images side by side: how many at once for the runner's cores, and the bounded pool (order of
// results, no new start after a failure, every started one settled before it returns).
import { describe, expect, it } from '@jest/globals';
import { eachBounded, imageParallelism } from '../../src/run/concurrency.js';

describe('images side by side', () => {
  it.each([
    [1, 2, 1],
    [3, 2, 1],
    [3, 4, 2],
    [2, 16, 2],
    [8, 16, 4],
    [5, 1, 1]
  ])('%i images on %i cores: %i at once', (images, cores, want) => {
    expect(imageParallelism(images, cores)).toBe(want);
  });

  it('runs at most `limit` at once, results in the items’ order', async () => {
    let running = 0;
    let most = 0;
    const out = await eachBounded([30, 10, 20, 5], 2, async (ms, i) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return i;
    });
    expect([out, most]).toEqual([[0, 1, 2, 3], 2]);
  });

  it('after a failure starts nothing new, waits for what is under way, and throws the failure', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const run = eachBounded([0, 1, 2, 3], 2, async (_x, i) => {
      started.push(i);
      await new Promise((r) => setTimeout(r, i === 0 ? 5 : 20));
      ended.push(i);
      if (i === 0) throw new Error('image 0 failed');
      return i;
    });
    await expect(run).rejects.toThrow('image 0 failed');
    expect([started, ended.sort()]).toEqual([
      [0, 1],
      [0, 1]
    ]);
  });
});
