import { describe, expect, it } from 'vitest';
import { groupInOrder } from '../../shared/util/concurrency.js';

describe('groupInOrder', () => {
  it('groups items by key, each group in input order, groups in the order of their first item', () => {
    const items = ['b1', 'a1', 'b2', 'c1', 'a2', 'b3'];

    expect(groupInOrder(items, (item) => item[0] ?? '')).toEqual([['b1', 'b2', 'b3'], ['a1', 'a2'], ['c1']]);
  });

  it('passes each item its index, so a key of its own gives every item a group', () => {
    expect(groupInOrder(['x', 'x', 'y'], (_, index) => String(index))).toEqual([['x'], ['x'], ['y']]);
  });
});
