// TLS DNS alt-name matching for route and gateway `verify_and_map`/known-URL checks; behaviour follows
// nats-server server/auth.go (dnsAltNameLabels, dnsAltNameMatches).

/** Lower-cased labels of a certificate DNS alt name. */
export function dnsAltNameLabels(dnsAltName: string): string[] {
  return dnsAltName.toLowerCase().split(".");
}

/**
 * True when a certificate DNS alt name (as labels) names one of `hosts` (URL host names, without port):
 * same number of labels, compared case-insensitively, and a leading `*` label stands for any one label.
 */
export function dnsAltNameMatches(altNameLabels: string[], hosts: string[]): boolean {
  for (const host of hosts) {
    const labels = host.toLowerCase().split(".");
    if (labels.length !== altNameLabels.length) continue;
    let i = altNameLabels[0] === "*" ? 1 : 0;
    for (; i < altNameLabels.length; i++) if (altNameLabels[i] !== labels[i]) break;
    if (i === altNameLabels.length) return true;
  }
  return false;
}
