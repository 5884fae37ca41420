// The one CSV splitter (`--mount`, `--output`, `--secret`) against Go encoding/csv's rules, table-driven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvSyntaxError, splitCsvRecord } from '../../frontend/csv.js';

test('fields split on commas; quoted fields keep commas and "" is a quote', () => {
  assert.deepEqual(splitCsvRecord('type=image,"name=a,b",push=false'), ['type=image', 'name=a,b', 'push=false']);
  assert.deepEqual(splitCsvRecord('type=local,"dest=a ""q"" b"'), ['type=local', 'dest=a "q" b']);
  assert.deepEqual(splitCsvRecord('a,,b,'), ['a', '', 'b', '']);
  assert.deepEqual(splitCsvRecord(''), ['']);
});

for (const [value, reason] of [
  ['type=image,"name=a', 'a quoted field is not closed'],
  ['"a"b,c', 'extra text after a closing quote'],
  ['a"b', 'a quote inside an unquoted field (a"b): quote the whole field'],
]) {
  test(`refuses ${value} as Go does`, () => {
    assert.throws(() => splitCsvRecord(value!), (err: unknown) => err instanceof CsvSyntaxError && err.reason === reason && err.userFacing);
  });
}
