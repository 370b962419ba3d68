// Reads Prometheus text exposition (format 0.0.4) strictly enough for tests: every line a comment
// (# HELP / # TYPE) or `name{labels} value`, else it throws naming the line.
export type Sample = { name: string; labels: Record<string, string>; value: number };

// Values as Go's ParseFloat reads them (Prometheus's parser): NaN and Inf in any case.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([+-]?(?:[0-9.]+(?:e[+-]?[0-9]+)?|nan|inf(?:inity)?))(?: -?\d+)?$/i;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let read = 0;
    for (let l = LABEL.exec(body); l; l = LABEL.exec(body)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      read = LABEL.lastIndex;
    }
    if (read !== body.length) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    const v = m[3]!.toLowerCase();
    const value = v.endsWith('nan') ? NaN : v.includes('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The value of the sample named `name` whose labels include `labels` (0 when there is none). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value ?? 0;
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${url}/metrics answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`GET ${url}/metrics is ${type}, not Prometheus text`);
  return parsePrometheus(await res.text());
}
