/**
 * Accept-Encoding (RFC 9110 12.5.3) for choosing a response's content coding: q-values, `*` for
 * codings not named, `x-gzip` as gzip, q=0 as "not acceptable". A request without the header gets
 * no coding (the common practice; the RFC allows any), and so does one that accepts none of ours
 * (identity is sent even under `identity;q=0`: better than a 406 for a body we can always send).
 */

export type ContentCoding = 'br' | 'gzip';

/** Coding (lower case) -> q (0..1). Entries with a malformed q are dropped. */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    let name = (rawName ?? '').trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    let ok = true;
    for (const p of params) {
      const m = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.exec(p);
      if (m !== null) q = Number(m[1]);
      else if (/^\s*q\s*=/i.test(p)) ok = false;
    }
    if (!ok) continue;
    // A coding named twice: the most favourable reading would let a client override its own q=0.
    const before = out.get(name);
    out.set(name, before === undefined ? q : Math.min(before, q));
  }
  return out;
}

/** The coding to use among `offered` (in the server's order of preference), or undefined. */
export function chooseEncoding(header: string | undefined, offered: readonly ContentCoding[]): ContentCoding | undefined {
  if (header === undefined) return undefined;
  const accepted = parseAcceptEncoding(header);
  const star = accepted.get('*');
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = accepted.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
