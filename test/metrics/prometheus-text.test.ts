import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text.js';

const valid = [
  '# HELP jobs Jobs by state.',
  '# TYPE jobs gauge',
  'jobs{kind="spawn",state="pending"} 2',
  '# TYPE took histogram',
  'took_bucket{le="+Inf"} 1',
  'took_sum 0.25',
  'took_count 1',
  '# TYPE lag gauge',
  'lag Nan',
  '# TYPE text gauge',
  'text{says="a \\"quoted\\" word"} -1e3',
  '',
].join('\n');

describe('the Prometheus text parser the metrics tests trust', () => {
  it('refuses what a scraper would refuse', () => {
    const bad = {
      'an undeclared family': '# TYPE a counter\nb 1\n',
      'an unquoted label': '# TYPE a counter\na{x=1} 1\n',
      'a repeated label': '# TYPE a counter\na{x="1",x="2"} 1\n',
      'a bad value': '# TYPE a counter\na one\n',
      'an unknown type': '# TYPE a thing\n',
      'a missing final newline': '# TYPE a counter\na 1',
    };
    for (const [what, text] of Object.entries(bad)) {
      expect(() => parsePrometheusText(text), what).toThrow();
    }
  });

  it('reads samples with their labels and values', () => {
    const samples = parsePrometheusText(valid);
    expect(samples).toEqual([
      { name: 'jobs', labels: { kind: 'spawn', state: 'pending' }, value: 2 },
      { name: 'took_bucket', labels: { le: '+Inf' }, value: 1 },
      { name: 'took_sum', labels: {}, value: 0.25 },
      { name: 'took_count', labels: {}, value: 1 },
      { name: 'lag', labels: {}, value: Number.NaN },
      { name: 'text', labels: { says: 'a "quoted" word' }, value: -1000 },
    ]);
  });
});
