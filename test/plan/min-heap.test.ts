import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/plan/min-heap.js';

describe('MinHeap', () => {
  it('pops what it holds smallest first, with pushes and pops interleaved', () => {
    const op = fc.oneof(fc.nat({ max: 1000 }), fc.constant('pop' as const));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new MinHeap();
        const model: number[] = [];
        for (const o of ops) {
          if (o === 'pop') {
            if (model.length === 0) continue;
            model.sort((a, b) => a - b);
            expect(heap.pop()).toBe(model.shift());
          } else {
            heap.push(o);
            model.push(o);
          }
          expect(heap.size).toBe(model.length);
        }
        const rest: number[] = [];
        while (heap.size > 0) rest.push(heap.pop());
        expect(rest).toEqual(model.sort((a, b) => a - b));
      }),
    );
  });
});
