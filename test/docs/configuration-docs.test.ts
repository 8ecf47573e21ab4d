/**
 * docs/configuration.md against src/config.ts: the table lists every environment variable the
 * config schema reads, names none it does not, and gives each one its real default.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const CONFIG_TS = new URL('../../src/config.ts', import.meta.url);
const CONFIG_DOC = new URL('../../docs/configuration.md', import.meta.url);

interface SchemaVariable {
  readonly name: string;
  /** The property's zod chain as written, e.g. `int(1, 1000).default(10)`. */
  readonly schema: string;
}

/** The keys of `const envSchema = z.object({...})`: what loadConfig reads from the environment. */
function schemaVariables(source: string): SchemaVariable[] {
  const file = ts.createSourceFile('config.ts', source, ts.ScriptTarget.Latest, true);
  let found: SchemaVariable[] | undefined;
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'envSchema' &&
      node.initializer !== undefined &&
      ts.isCallExpression(node.initializer)
    ) {
      const shape = node.initializer.arguments[0];
      if (shape === undefined || !ts.isObjectLiteralExpression(shape)) {
        throw new Error('envSchema is not z.object({...}) any more: update this test');
      }
      found = shape.properties.map((p) => {
        if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
          throw new Error(`unexpected member of envSchema: ${p.getText(file)}`);
        }
        return { name: p.name.text, schema: p.initializer.getText(file) };
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (found === undefined) throw new Error('no `const envSchema = z.object({...})` in src/config.ts');
  return found;
}

interface DocRow {
  readonly name: string;
  readonly defaultCell: string;
  readonly meaning: string;
}

/** The rows of the table whose header is `| variable | default | meaning |`. */
function documentedRows(markdown: string): DocRow[] {
  const lines = markdown.split('\n');
  const headers = lines.flatMap((line, i) =>
    /^\|\s*variable\s*\|\s*default\s*\|\s*meaning\s*\|$/.test(line.trim()) ? [i] : [],
  );
  expect(
    headers,
    'docs/configuration.md holds exactly one `| variable | default | meaning |` table',
  ).toHaveLength(1);
  const rows: DocRow[] = [];
  for (const line of lines.slice(headers[0]! + 2)) {
    if (!line.startsWith('|')) break;
    // Cells split on `|` outside code spans (`a\|b` and `` `x|y` `` stay whole).
    const cells = splitRow(line);
    expect(cells, `row of three cells: ${line}`).toHaveLength(3);
    const [nameCell, defaultCell, meaning] = cells as [string, string, string];
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(nameCell)?.[1];
    expect(name, `the first cell names one variable in backticks: ${line}`).toBeDefined();
    rows.push({ name: name!, defaultCell, meaning });
  }
  return rows;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let inCode = false;
  const body = line.trim().slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (c === '`') {
      inCode = !inCode;
      cell += c;
    } else if (c === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += c;
    }
  }
  cells.push(cell.trim());
  return cells;
}

describe('docs/configuration.md', () => {
  // Read once, inside the tests: a parse that fails is a failed test, not a broken file.
  let variables: SchemaVariable[] = [];
  let rows: DocRow[] = [];
  let read: string[] = [];
  let documented: string[] = [];
  beforeAll(() => {
    variables = schemaVariables(readFileSync(CONFIG_TS, 'utf8'));
    rows = documentedRows(readFileSync(CONFIG_DOC, 'utf8'));
    read = variables.map((v) => v.name);
    documented = rows.map((r) => r.name);
  });

  it('finds the variables of the config schema', () => {
    // A parse that finds nothing would make every other check pass.
    expect(read).toContain('REDIS_URL');
    expect(read).toContain('BALLAST_PREFIX');
    expect(read.length).toBeGreaterThan(30);
  });

  it('documents every variable src/config.ts reads', () => {
    expect(read.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('documents no variable src/config.ts does not read', () => {
    expect(documented.filter((name) => !read.includes(name))).toEqual([]);
  });

  it('documents each variable once, with a meaning', () => {
    expect(documented.filter((name, i) => documented.indexOf(name) !== i)).toEqual([]);
    for (const row of rows) expect(row.meaning, row.name).not.toBe('');
  });

  it('gives each variable its real default', () => {
    const defaults = loadConfig({});
    for (const row of rows) {
      const variable = variables.find((v) => v.name === row.name);
      if (variable === undefined) continue; // reported above
      const hasDefault = /\.default\(/.test(variable.schema);
      if (row.defaultCell === '(none)') {
        expect(hasDefault, `${row.name} is documented without a default but has one`).toBe(false);
        continue;
      }
      expect(hasDefault, `${row.name} is documented with a default but has none`).toBe(true);
      const value = /^`([^`]+)`$/.exec(row.defaultCell)?.[1];
      expect(value, `${row.name}: the default cell is one value in backticks, or (none)`).toBeDefined();
      // Setting a variable to its documented default must change nothing.
      expect(loadConfig({ [row.name]: value }), `${row.name}=${value} is not the default`).toEqual(defaults);
    }
  });
});
