import { describe, expect, it } from 'vitest';
import { createBodyBudget } from '../../src/server/body-budget.js';
import { declaredLength } from '../../src/server/webhook-body.js';

describe('the webhook body budget', () => {
  it('gives a share only while the total stays within the limit, and takes each back once', () => {
    const budget = createBodyBudget(100);
    const a = budget.hold();
    const b = budget.hold();
    expect(a.take(60)).toBe(true);
    expect(b.take(50)).toBe(false);
    expect(b.take(40)).toBe(true);
    expect(budget.inUse()).toBe(100);
    a.release();
    a.release();
    expect(budget.inUse()).toBe(40);
    expect(a.take(1)).toBe(false);
    b.release();
    expect(budget.inUse()).toBe(0);
  });

  it.each([
    [{ 'content-length': '123' }, 123],
    [{ 'content-length': ' 0 ' }, 0],
    [{ 'content-length': '12x' }, undefined],
    [{ 'content-length': '-1' }, undefined],
    [{ 'transfer-encoding': 'chunked' }, undefined],
    [{}, undefined],
  ])('reads the declared length from %o as %s', (headers, expected) => {
    expect(declaredLength(new Headers(headers))).toBe(expected);
  });
});
