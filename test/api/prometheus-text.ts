/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): every line is a
 * HELP, a TYPE, a sample or blank, and every sample belongs to a family declared before it.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  help: string | null;
  type: string | null;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;
/** Go's ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes "Nan"). */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?inf(?:inity)?|nan)$/i;
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count', ''],
};

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, help: null, type: null, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    const help = HELP.exec(line);
    if (help) {
      family(help[1]!).help = help[2]!;
      return;
    }
    const type = TYPE.exec(line);
    if (type) {
      const f = family(type[1]!);
      if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
      f.type = type[2]!;
      return;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unknown comment`);
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`${where}: not a sample`);
    const [, name, labelText, valueText] = sample;
    if (!VALUE.test(valueText!)) throw new Error(`${where}: bad value`);
    const labels: Record<string, string> = {};
    let rest = labelText ?? '';
    while (rest.length > 0) {
      const label = LABEL.exec(rest);
      if (!label) throw new Error(`${where}: bad labels`);
      labels[label[1]!] = label[2]!;
      rest = rest.slice(label[0].length);
    }
    const owner = [...families.values()].find(
      (f) => f.name === name || (SUFFIXES[f.type ?? '']?.some((s) => `${f.name}${s}` === name) ?? false),
    );
    if (!owner?.type) throw new Error(`${where}: sample of an undeclared family`);
    owner.samples.push({ name: name!, labels, value: toNumber(valueText!) });
  });
  return families;
}

export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

function toNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}
