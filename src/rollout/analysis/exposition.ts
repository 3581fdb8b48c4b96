/**
 * A parser for Prometheus text exposition format 0.0.4, enough for what bp's routers
 * expose and what the analysis reads: sample lines with labels, values and an optional
 * timestamp; comments and blank lines are skipped. Pure.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: number): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new ExpositionSyntaxError(line, `"${text}" is not a sample value`);
  return v;
}

/** Parses `{a="x",b="y\"z"}` starting at `text[0] === '{'`; returns labels and the rest of the line. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i));
    if (!name) throw new ExpositionSyntaxError(line, 'expected a label name');
    i += name[0].length;
    while (text[i] === ' ') i++;
    if (text[i] === '=') i++;
    else throw new ExpositionSyntaxError(line, `expected ="..." after label ${name[0]}`);
    while (text[i] === ' ') i++;
    if (text[i] !== '"') throw new ExpositionSyntaxError(line, `expected ="..." after label ${name[0]}`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new ExpositionSyntaxError(line, `unterminated value of label ${name[0]}`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        value += e === 'n' ? '\n' : e;
      } else value += c;
    }
    labels[name[0]] = value;
  }
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const name = NAME.exec(raw);
    if (!name) throw new ExpositionSyntaxError(n + 1, 'expected a metric name');
    let rest = raw.slice(name[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, n + 1));
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2)
      throw new ExpositionSyntaxError(n + 1, 'expected a value and an optional timestamp');
    samples.push({ name: name[0], labels, value: parseValue(fields[0], n + 1) });
  }
  return samples;
}

/** A stable identity for a series: name plus its labels in name order. */
export function seriesKey(s: Sample): string {
  const names = Object.keys(s.labels).sort();
  return `${s.name}{${names.map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}}`;
}
