/** One sample line of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;

/**
 * Parses Prometheus text (format 0.0.4) strictly, as a scraper would refuse it: every line is a
 * HELP, a TYPE or a sample of a declared family, label values are properly escaped, values are
 * numbers. Throws with the line number on the first line that is not.
 */
export function parsePrometheusText(text: string): Sample[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${line}`);
    };
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line)) fail('malformed HELP');
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = '', extra] = line.split(' ');
      if (!new RegExp(`^${NAME}$`).test(name) || !TYPES.has(type) || extra !== undefined)
        fail('malformed TYPE');
      if (types.has(name)) fail('family declared twice');
      types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const [, name = '', labelText = '', rawValue = ''] = SAMPLE.exec(line) ?? fail('not a sample');
    if (!familyOf(name, types)) fail('sample of an undeclared family');
    const labels: Record<string, string> = {};
    for (let rest = labelText; rest.length > 0; ) {
      const [whole, key = '', value = ''] = LABEL.exec(rest) ?? fail('malformed labels');
      if (key in labels) fail(`label ${key} repeated`);
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(whole.length);
    }
    samples.push({ name, labels, value: parseValue(rawValue) ?? fail('value is not a number') });
  }
  return samples;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && ['histogram', 'summary'].includes(types.get(base) ?? '')
    ? base
    : undefined;
}

/** As Prometheus reads a value: Go's ParseFloat, which takes NaN and Inf in any case. */
function parseValue(raw: string): number | undefined {
  if (/^nan$/i.test(raw)) return Number.NaN;
  const infinite = /^([+-]?)inf(inity)?$/i.exec(raw);
  if (infinite) return infinite[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : undefined;
}

/**
 * The value of the one sample with this name whose labels include these; undefined when there
 * is none. Two matching samples are an error: the test asked an ambiguous question.
 */
export function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) =>
      s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
  return found[0]?.value;
}
