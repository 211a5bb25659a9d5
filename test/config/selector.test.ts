import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionalSelectorMatches, selectorMatches } from '../../src/config/selector.js';
import type { LabelSelector, LabelSelectorRequirement } from '../../src/config/selector.js';

const sel = (matchLabels: Record<string, string>, matchExpressions: LabelSelectorRequirement[] = []): LabelSelector => ({
  matchLabels,
  matchExpressions,
});
const expr = (key: string, operator: LabelSelectorRequirement['operator'], values: string[] = []): LabelSelectorRequirement => ({
  key,
  operator,
  values,
});

// Rows: selector, labels, expected: the semantics of k8s.io/apimachinery labels.Selector.
const ROWS: [string, LabelSelector, Record<string, string>, boolean][] = [
  ['empty selector selects everything', sel({}), {}, true],
  ['empty selector selects labelled objects', sel({}), { a: '1' }, true],
  ['matchLabels equal', sel({ rack: 'r0' }), { rack: 'r0', x: 'y' }, true],
  ['matchLabels different value', sel({ rack: 'r0' }), { rack: 'r1' }, false],
  ['matchLabels missing key', sel({ rack: 'r0' }), {}, false],
  ['matchLabels are ANDed', sel({ a: '1', b: '2' }), { a: '1' }, false],
  ['matchLabels empty value matches empty label', sel({ role: '' }), { role: '' }, true],
  ['In: value in set', sel({}, [expr('env', 'In', ['prod', 'stage'])]), { env: 'stage' }, true],
  ['In: value not in set', sel({}, [expr('env', 'In', ['prod'])]), { env: 'dev' }, false],
  ['In: key missing', sel({}, [expr('env', 'In', ['prod'])]), {}, false],
  ['NotIn: value not in set', sel({}, [expr('env', 'NotIn', ['prod'])]), { env: 'dev' }, true],
  ['NotIn: value in set', sel({}, [expr('env', 'NotIn', ['prod'])]), { env: 'prod' }, false],
  ['NotIn: key missing matches (Cilium "select all" idiom)', sel({}, [expr('somekey', 'NotIn', ['never-used-value'])]), {}, true],
  ['Exists: present with empty value', sel({}, [expr('gpu', 'Exists')]), { gpu: '' }, true],
  ['Exists: absent', sel({}, [expr('gpu', 'Exists')]), { cpu: '' }, false],
  ['DoesNotExist: absent', sel({}, [expr('gpu', 'DoesNotExist')]), {}, true],
  ['DoesNotExist: present', sel({}, [expr('gpu', 'DoesNotExist')]), { gpu: 'x' }, false],
  ['labels and expressions are ANDed (both hold)', sel({ a: '1' }, [expr('b', 'Exists')]), { a: '1', b: '' }, true],
  ['labels and expressions are ANDed (one fails)', sel({ a: '1' }, [expr('b', 'Exists')]), { a: '1' }, false],
  ['expressions are ANDed', sel({}, [expr('a', 'In', ['1']), expr('a', 'NotIn', ['1'])]), { a: '1' }, false],
  ['keys are case sensitive', sel({ Rack: 'r0' }), { rack: 'r0' }, false],
  ['inherited object properties are not labels', sel({}, [expr('toString', 'Exists')]), {}, false],
];

for (const [name, selector, labels, expected] of ROWS) {
  test(`selector: ${name}`, () => assert.equal(selectorMatches(selector, labels), expected));
}

test('absent selector: the field decides (nodeSelector = all, serviceSelector = none)', () => {
  assert.equal(optionalSelectorMatches(undefined, { a: '1' }, true), true);
  assert.equal(optionalSelectorMatches(undefined, { a: '1' }, false), false);
  assert.equal(optionalSelectorMatches(sel({}), { a: '1' }, false), true);
});
