import { ConfigError, ConfigErrorCode as C } from './errors.js';
import type { LoadedConfig } from './loaded-config.js';

/**
 * --host and --port replace a configuration's listeners with one. Virtual hosts told apart by the
 * address a connection arrives on (host.addresses) would then all be reached on that one listener:
 * when they are all declared for the same addresses, nothing changes by telling them apart by name
 * only; otherwise a host meant for one address (an internal application on 127.0.0.1:8080) would
 * answer on another, so that is refused unless the difference is accepted.
 */
export function collapseHostAddresses(loaded: LoadedConfig, accept: boolean): void {
  const hosts = loaded.config.host.filter((h) => (h.addresses?.length ?? 0) > 0);
  if (hosts.length === 0) return;
  const key = (a: readonly string[] | undefined): string => [...new Set(a ?? [])].sort().join(' ');
  const same = loaded.config.host.every((h) => key(h.addresses) === key(loaded.config.host[0]?.addresses));
  if (!same && !accept) {
    const shown = loaded.config.host.map((h) => `${h.serverName} (${(h.addresses ?? ['*']).join(', ')})`).join('; ');
    throw new ConfigError(
      C.LISTEN_OVERRIDE,
      `--host/--port replace the listeners of ${loaded.label}, whose virtual hosts are told apart by the address a connection arrives on: ${shown}; on one listener, each would answer requests meant for the others' addresses`,
      {
        hint: "Leave out --host and --port (the configuration's own addresses apply), or add --accept-apache-differences to tell the hosts apart by name only",
      },
    );
  }
  for (const h of loaded.config.host) delete h.addresses;
  if (!same) {
    loaded.notes.push({
      kind: 'warning',
      message:
        '--host/--port replace the listeners: the virtual hosts, declared for different addresses, are told apart by name only (--accept-apache-differences).',
    });
  }
}
