import { describe, expect, it } from '@jest/globals';
import type { Plan } from '../../src/plan/types.js';

describe('types', () => {
  it('compiles', () => {
    const p: Partial<Plan> = { push: false };
    expect(p.push).toBe(false);
  });
});
