import { describe, expect, it } from 'vitest';
import { formatJson, formatPairs, formatTable } from '../../src/cli/output.js';

describe('formatTable', () => {
  const rows = [
    { id: 'a', n: 5, note: 'first' },
    { id: 'longer-id', n: 12345, note: '' },
    { id: 'café', n: 7, note: 'accented' },
  ];

  it('pads columns to the widest cell, right-aligns numbers and does not pad the last column', () => {
    const text = formatTable(
      [
        { header: 'Id', value: (r: (typeof rows)[number]) => r.id },
        { header: 'N', value: (r) => String(r.n), align: 'right' },
        { header: 'Note', value: (r) => r.note },
      ],
      rows,
    );
    expect(text).toBe(
      [
        'Id             N  Note',
        'a              5  first',
        'longer-id  12345',
        'café           7  accented',
        '',
      ].join('\n'),
    );
  });

  it('prints the header alone for no rows', () => {
    expect(formatTable([{ header: 'Id', value: (r: { id: string }) => r.id }], [])).toBe('Id\n');
  });
});

describe('formatPairs and formatJson', () => {
  it('aligns values after the longest label', () => {
    expect(
      formatPairs([
        ['Revenue', '1,000'],
        ['Net margin', '20.0%'],
        ['Empty', ''],
      ]),
    ).toBe('  Revenue     1,000\n  Net margin  20.0%\n  Empty\n');
  });

  it('prints two-space indented JSON with a final newline', () => {
    expect(formatJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
