/**
 * The Location of the 308 that a plain-HTTP request gets for a host with redirect-to-https. 308
 * (not 301) keeps the method and body of a POST. The host in Location is the one the client asked
 * for only when it is one of the virtual host's own names (the router matched it by name); a
 * request that reached the host as the default one gets the host's server-name, so a forged Host
 * header can never turn the redirect into one to another site.
 */
export function httpsLocation(options: {
  /** The request's Host header. */
  host: string | undefined;
  /** The router matched Host to one of this virtual host's names (not the default-host fallback). */
  hostMatched: boolean;
  serverName: string;
  /** The HTTPS listener's port (443 is left out of the URL). */
  httpsPort: number;
  /** The request target as received (origin-form or absolute-form). */
  requestUri: string;
}): string {
  let name = options.serverName;
  if (options.hostMatched && options.host !== undefined) {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::\d{1,5})?$/.exec(options.host.trim());
    if (m !== null) name = (m[1] as string).toLowerCase();
  }
  let target = options.requestUri;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (abs !== null) target = target.slice(abs[0].length);
  if (!target.startsWith('/') || target.startsWith('//')) target = `/${target.replace(/^\/+/, '')}`;
  target = target.replace(/[\x00-\x20\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
  const port = options.httpsPort === 443 ? '' : `:${options.httpsPort}`;
  return `https://${name}${port}${target}`;
}
