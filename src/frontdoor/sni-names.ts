/**
 * Server names for SNI, matched as RFC 6125 (6.4) matches names in certificates: case-insensitive,
 * a trailing dot ignored, and a wildcard only as the whole left-most label, standing for exactly
 * one label (`*.example.com` matches `a.example.com`, never `example.com` or `a.b.example.com`).
 * An exact name wins over a wildcard; between equal names the first one given wins, as the
 * first matching virtual host does in Apache.
 */

/** The name in the form it is compared in, or undefined when it cannot be an SNI host name. */
export function normalizeServerName(name: string): string | undefined {
  let n = name.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n.length === 0 || n.length > 253) return undefined;
  const labels = n.split('.');
  for (const l of labels) {
    if (!/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l)) return undefined;
  }
  return n;
}

/** Why a configured name cannot be used for SNI (undefined: it can). */
export function sniNameProblem(name: string): string | undefined {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (n.startsWith('*.')) {
    const rest = normalizeServerName(n.slice(2));
    if (rest === undefined || !rest.includes('.')) return `'${name}': a wildcard needs at least two labels after it (*.example.com)`;
    return undefined;
  }
  if (n.includes('*')) return `'${name}': for certificates a wildcard can only be the whole left-most label (*.example.com)`;
  if (/^[\d.]+$/.test(n) || n.includes(':')) return `'${name}': an IP address is never sent as an SNI name`;
  return normalizeServerName(n) === undefined ? `'${name}' is not a host name` : undefined;
}

export class SniTable<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the part after "*.". */
  private readonly wildcard = new Map<string, T>();

  /** Adds a name; returns why it cannot be used (and skips it), or undefined. First one wins. */
  add(name: string, value: T): string | undefined {
    const problem = sniNameProblem(name);
    if (problem !== undefined) return problem;
    const n = name.trim().toLowerCase().replace(/\.$/, '');
    if (n.startsWith('*.')) {
      const key = n.slice(2);
      if (!this.wildcard.has(key)) this.wildcard.set(key, value);
    } else if (!this.exact.has(n)) {
      this.exact.set(n, value);
    }
    return undefined;
  }

  /** The value for a name a client sent, or undefined (then the listener's default applies). */
  lookup(serverName: string | undefined): T | undefined {
    if (serverName === undefined) return undefined;
    const n = normalizeServerName(serverName);
    if (n === undefined) return undefined;
    const hit = this.exact.get(n);
    if (hit !== undefined) return hit;
    const dot = n.indexOf('.');
    return dot < 0 ? undefined : this.wildcard.get(n.slice(dot + 1));
  }

  get size(): number {
    return this.exact.size + this.wildcard.size;
  }
}
