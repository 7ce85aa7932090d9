import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorLevel } from '../../../src/cli/color.js';
import { asksForJson } from '../../../src/cli/main.js';
import { fitColumns, renderTable } from '../../../src/views/common.js';
import { integerTicks } from '../../../src/views/report.js';

describe('colour level', () => {
  it('--no-color wins over everything; --color forces it on', () => {
    assert.equal(colorLevel(false, { FORCE_COLOR: '3' }, true), 0);
    assert.ok(colorLevel(true, { NO_COLOR: '1' }, false) >= 1);
  });
  it('FORCE_COLOR turns it on (0 or false off), before NO_COLOR', () => {
    assert.ok(colorLevel(undefined, { FORCE_COLOR: '1' }, false) >= 1);
    assert.equal(colorLevel(undefined, { FORCE_COLOR: '2', NO_COLOR: '1' }, false), 2);
    assert.equal(colorLevel(undefined, { FORCE_COLOR: '0' }, true), 0);
    assert.equal(colorLevel(undefined, { FORCE_COLOR: 'false' }, true), 0);
  });
  it('NO_COLOR with any non-empty value turns it off on a terminal; empty does not', () => {
    assert.equal(colorLevel(undefined, { NO_COLOR: '1' }, true), 0);
    assert.equal(colorLevel(undefined, { NO_COLOR: 'yes' }, true), 0);
    assert.ok(colorLevel(undefined, { NO_COLOR: '' }, true) >= 1);
  });
  it('by default: colour on a terminal only, and not on a dumb one', () => {
    assert.ok(colorLevel(undefined, {}, true) >= 1);
    assert.equal(colorLevel(undefined, {}, false), 0);
    assert.equal(colorLevel(undefined, { TERM: 'dumb' }, true), 0);
  });
});

describe('--format json among the arguments', () => {
  it('recognises every spelling, and nothing else', () => {
    for (const argv of [
      ['diff', '--format', 'json'],
      ['diff', '--format=json'],
      ['diff', '-f', 'json'],
      ['diff', '-fjson'],
    ])
      assert.ok(asksForJson(argv), argv.join(' '));
    for (const argv of [['diff'], ['diff', '--format', 'csv'], ['diff', '--sku', 'json']]) assert.ok(!asksForJson(argv), argv.join(' '));
  });
});

describe('tables that fit the terminal', () => {
  it('leaves a table that fits alone', () => {
    assert.equal(fitColumns([10, 10], 30), undefined);
  });
  it('shrinks the widest columns first, to the exact width', () => {
    const fit = fitColumns([10, 12, 60], 60);
    assert.ok(fit);
    assert.equal(fit.keep, 3);
    assert.deepEqual(fit.widths.slice(0, 2), [10, 12]);
    assert.equal(fit.widths.reduce((a, b) => a + b, 0) + 4, 60);
  });
  it('drops the last columns when even narrow ones do not fit', () => {
    const fit = fitColumns([20, 20, 20, 20, 20], 30);
    assert.ok(fit);
    assert.ok(fit.keep < 5);
    assert.ok(fit.widths.reduce((a, b) => a + b, 0) + fit.keep + 1 <= 30);
  });
  it('renders wrapped cells within the width, long words broken, not cut, and says which columns it left out', () => {
    const text = renderTable(['sku', 'reason'], [['TEE-RED-M', 'on_hand 15 − reserved 2 − safety 0 (safetyStock.default) = 13']], [], 30);
    for (const line of text.trimEnd().split('\n')) assert.ok([...line].length <= 30, line);
    assert.match(text.replace(/[│\s]+/g, ''), /safetyStock\.default/);
    const narrow = renderTable(['a', 'b', 'c', 'd'], [['aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc', 'dddddddddddd']], [], 24);
    assert.match(narrow, /left out to fit the terminal: .*d/);
  });
  it('prints numbers one way: 3,000', () => {
    assert.match(renderTable(['n'], [[3000]]), /3,000/);
  });
});

describe('report axis ticks', () => {
  it('are whole numbers whatever the maximum', () => {
    for (const max of [0, 1, 2, 3, 5, 7, 9, 13, 99, 101, 2500, 123456]) {
      const { step, top } = integerTicks(max);
      assert.ok(Number.isInteger(step) && step >= 1, `step ${step} for ${max}`);
      assert.ok(top >= max && top % step === 0, `top ${top} for ${max}`);
      assert.ok(top / step <= 5, `${top / step} ticks for ${max}`);
    }
  });
});
