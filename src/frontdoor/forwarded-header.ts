/**
 * RFC 7239 `Forwarded` and the address lists of X-Forwarded-For, parsed without trusting them:
 * an element that breaks the grammar (a parameter twice, an unterminated quote) comes back as
 * `undefined`, so that whoever walks the list stops there.
 */

export type ForwardedElement = Readonly<Record<string, string>>;

/** At most this many list elements are looked at (a header is bounded by max-header-size anyway). */
export const MAX_FORWARDED_ELEMENTS = 64;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The elements of one or more Forwarded header values (joined with ","), left to right. Each is
 * a map of lower-case parameter names to values (quotes removed), or undefined when malformed.
 */
export function parseForwarded(value: string): (ForwardedElement | undefined)[] {
  const elements: (ForwardedElement | undefined)[] = [];
  let i = 0;
  const n = value.length;
  while (i <= n && elements.length < MAX_FORWARDED_ELEMENTS) {
    const params: Record<string, string> = {};
    let ok = true;
    // One element: pairs separated by ';', up to a ',' outside quotes.
    for (;;) {
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      if (i >= n || value[i] === ',') break;
      if (value[i] === ';') {
        i++;
        continue;
      }
      const eq = value.indexOf('=', i);
      const name = eq < 0 ? '' : value.slice(i, eq).trim().toLowerCase();
      if (eq < 0 || !TOKEN.test(name)) {
        ok = false;
        i = skipTo(value, i);
        break;
      }
      i = eq + 1;
      let v: string;
      if (value[i] === '"') {
        let out = '';
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const c = value[j] as string;
          if (c === '\\' && j + 1 < n) {
            out += value[j + 1];
            j += 2;
            continue;
          }
          if (c === '"') {
            closed = true;
            j++;
            break;
          }
          out += c;
          j++;
        }
        if (!closed) {
          ok = false;
          i = n;
          break;
        }
        v = out;
        i = j;
      } else {
        let j = i;
        while (j < n && value[j] !== ';' && value[j] !== ',') j++;
        v = value.slice(i, j).trim();
        i = j;
        // RFC 7239 wants a token or a quoted string; proxies that leave host=a.example:8080 unquoted
        // are common, and every value is validated for what it is used for afterwards.
        if (!/^[\x21-\x7e]+$/.test(v) || v.includes('"')) ok = false;
      }
      if (Object.hasOwn(params, name)) ok = false; // "MUST NOT occur more than once per element"
      params[name] = v;
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      if (i < n && value[i] !== ';' && value[i] !== ',') {
        ok = false;
        i = skipTo(value, i);
        break;
      }
    }
    elements.push(ok && Object.keys(params).length > 0 ? params : undefined);
    if (i >= n) break;
    i++; // the ','
  }
  return elements;
}

/** The index of the next ',' outside quotes (or the end). */
function skipTo(value: string, from: number): number {
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i++;
    else if (c === ',' && !quoted) return i;
  }
  return value.length;
}

/**
 * A node as Forwarded's `for=` and X-Forwarded-For carry it: an IPv4 address, optionally with
 * ":port"; an IPv6 address, bare or as "[addr]" or "[addr]:port". Anything else (a name,
 * "unknown", an obfuscated "_id") has no address.
 */
export function splitNode(node: string): { address: string; port?: string } | undefined {
  const t = node.trim();
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return undefined;
    const rest = t.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return rest.startsWith(':_') ? { address: t.slice(1, close) } : undefined;
    return rest === '' ? { address: t.slice(1, close) } : { address: t.slice(1, close), port: rest.slice(1) };
  }
  const colons = t.split(':').length - 1;
  if (colons === 1) {
    const [a, p] = t.split(':') as [string, string];
    if (/^\d{1,5}$/.test(p)) return { address: a, port: p };
    return p.startsWith('_') ? { address: a } : undefined;
  }
  return { address: t };
}
