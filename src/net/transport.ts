// Byte transports under a connection: plain TCP today, TLS and WebSocket framing later.

/** What a connection needs from its socket. `Deno.Conn` satisfies it as is. */
export interface Transport {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  /** `reason`: why the connection closes (a /connz closed-state text), for transports that tell the peer. */
  close(reason?: string): void;
}

/** A bound listener. */
export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; resolves once the socket is released. */
  close(): Promise<void>;
}

/** An accepted connection and the peer's address. */
export interface Accepted {
  conn: Transport;
  remoteHost: string;
  remotePort: number;
}

/**
 * Listens on host:port (port 0 or -1: random) and calls `onConn` for each accepted socket, until closed.
 * `onError` gets accept-loop failures other than the listener being closed.
 */
export function listenTcp(
  host: string,
  port: number,
  onConn: (a: Accepted) => void,
  onError: (e: unknown) => void,
): Listener {
  const ln = Deno.listen({ hostname: host, port: port < 0 ? 0 : port, transport: "tcp" });
  const addr = ln.addr as Deno.NetAddr;
  let closed = false;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await ln.accept();
      } catch (e) {
        if (closed || e instanceof Deno.errors.BadResource) return;
        onError(e);
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // Not every platform lets us set it; the connection still works.
      }
      const ra = conn.remoteAddr as Deno.NetAddr;
      try {
        onConn({ conn, remoteHost: ra.hostname, remotePort: ra.port });
      } catch (e) {
        // One bad connection must not stop the accept loop.
        onError(e);
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    }
  })().catch(onError);
  return {
    host: addr.hostname,
    port: addr.port,
    async close() {
      if (!closed) {
        closed = true;
        try {
          ln.close();
        } catch {
          // Already closed.
        }
      }
      await loop;
    },
  };
}
