// Texts the server sends in -ERR lines, byte for byte as nats-server sends them (client.go, errors.go).

export const ERR_UNKNOWN_PROTOCOL = "Unknown Protocol Operation";
export const ERR_AUTH_VIOLATION = "Authorization Violation";
export const ERR_AUTH_TIMEOUT = "Authentication Timeout";
export const ERR_MAX_PAYLOAD = "Maximum Payload Violation";
export const ERR_MAX_CONNECTIONS = "maximum connections exceeded";
export const ERR_MAX_SUBS = "maximum subscriptions exceeded";
export const ERR_MAX_CONTROL_LINE = "maximum control line exceeded";
export const ERR_BAD_CLIENT_PROTOCOL = "invalid client protocol";
export const ERR_NO_RESPONDERS_REQUIRES_HEADERS = "no responders requires headers support";
export const ERR_STALE_CONNECTION = "Stale Connection";
export const ERR_INVALID_PUBLISH_SUBJECT = "Invalid Publish Subject";
export const ERR_INVALID_SUBJECT = "Invalid Subject";
export const ERR_SECURE_CONNECTION_REQUIRED = "Secure Connection - TLS Required";

/** -ERR for a publish the permissions deny. */
export function pubPermissionViolation(subject: string): string {
  return `Permissions Violation for Publish to ${goQuote(subject)}`;
}

/** -ERR for a reply subject the permissions deny. */
export function replyPermissionViolation(reply: string): string {
  return `Permissions Violation for Publish with Reply of ${goQuote(reply)}`;
}

/** -ERR for a subscription the permissions deny. */
export function subPermissionViolation(subject: string, queue?: string): string {
  const base = `Permissions Violation for Subscription to ${goQuote(subject)}`;
  return queue ? `${base} using queue ${goQuote(queue)}` : base;
}

/** -ERR for a subscription with more tokens than max_sub_tokens. */
export function subTokensViolation(subject: string): string {
  return `Permissions Violation for Subscription to ${goQuote(subject)}, too many tokens`;
}

/** Quotes like Go's %q for the printable ASCII that subjects hold. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}
