// The HTTP(S) monitoring listener: routing under http_base_path, JSON/JSONP responses and the error
// texts of nats-server. Behaviour follows StartMonitoring()/startMonitoring() in server/server.go and the
// Handle* functions of server/monitor.go (Go's ServeMux rules for paths included).

import { hostUrls, type Server } from "../server/mod.ts";
import { goJson, goJsonIndent } from "./_format.ts";
import { decodeBool, decodeInt, decodeState, decodeSubs, decodeUint64, MonitorError } from "./_query.ts";
import { connz } from "./connz.ts";
import { CpuSampler, varz } from "./varz.ts";
import { subsz } from "./subsz.ts";
import { accountStatz, accountz } from "./accountz.ts";
import { gatewayz, healthz, jsz, leafz, routez } from "./endpoints.ts";
import { rootHtml } from "./_root.ts";

const TEXT_PLAIN = "text/plain; charset=utf-8";
const TEXT_HTML = "text/html; charset=utf-8";

/** What a route hands back: JSON text for ResponseHandler, or a finished Response. */
type Answer = string | Response;

interface Route {
  /** Key in http_req_stats. */
  stat: string;
  /** nats-server counts some endpoints before decoding their parameters, others after. */
  countFirst: boolean;
  handle(q: URLSearchParams, url: URL): Answer;
}

/** A running monitor listener. */
export interface Monitor {
  /** Bound address. */
  readonly hostname: string;
  readonly port: number;
  /** "http" or "https". */
  readonly scheme: string;
  close(): Promise<void>;
}

/**
 * Starts the HTTP monitor of `s` on http_port (or https_port with the client TLS certificate), logs
 * "Starting http monitor on host:port", lists its URLs for the ports file and closes it at shutdown.
 * @throws Error with nats-server's text for a misconfiguration or a port that cannot be bound.
 */
export async function startMonitor(s: Server): Promise<Monitor> {
  const o = s.opts;
  if (o.httpPort !== 0 && o.httpsPort !== 0) {
    throw new Error(`can't specify both HTTP (${o.httpPort}) and HTTPs (${o.httpsPort}) ports`);
  }
  const secure = o.httpPort === 0 && o.httpsPort !== 0;
  let tlsOpts: { cert: string; key: string } | undefined;
  if (secure) {
    const t = o.tls;
    if (t === undefined || !t.certFile || !t.keyFile) throw new Error("TLS cert and key required for HTTPS");
    // TODO(tls): min_version and cipher_suites, as the client listener gets them.
    tlsOpts = { cert: await Deno.readTextFile(t.certFile), key: await Deno.readTextFile(t.keyFile) };
  }
  const scheme = secure ? "https" : "http";
  const host = o.httpHost || o.host;
  const want = secure ? o.httpsPort : o.httpPort;
  const routes = buildRoutes(s);
  const base = normalizeBasePath(o.httpBasePath);
  const table = new Map<string, Route>();
  for (const [p, r] of routes) table.set(joinPath(base, p), r);

  const serve = (port: number, tls: typeof tlsOpts) =>
    Deno.serve({
      hostname: host === "" ? "0.0.0.0" : host,
      port,
      ...tls,
      onListen: () => {},
      onError: (e) => {
        s.log.error(`monitoring: ${(e as Error)?.message ?? e}`);
        return new Response("Internal Server Error", { status: 500 });
      },
    }, (req) => serveRequest(s, req, table));
  let httpServer: Deno.HttpServer<Deno.NetAddr>;
  try {
    httpServer = serve(want === -1 ? 0 : want, tlsOpts);
  } catch (e) {
    throw new Error(`can't listen to the monitor port: ${(e as Error).message}`, { cause: e });
  }
  const port = httpServer.addr.port;
  s.log.notice(`Starting ${scheme} monitor on ${joinHostPort(host, port)}`);
  s.monitorUrls = hostUrls(scheme, host, port);
  let closed: Promise<void> | undefined;
  // Restarts of the https listener on reload, one at a time.
  let restarting: Promise<void> = Promise.resolve();
  const mon: Monitor = {
    hostname: host,
    port,
    scheme,
    close() {
      closed ??= restarting.then(() => httpServer.shutdown());
      return closed;
    },
  };
  if (secure) {
    // New certificates on reload: the https listener restarts on the same port with them.
    s.onReload.push((changed) => {
      const t = s.opts.tls;
      if (t === undefined || !t.certFile || !t.keyFile || closed !== undefined) return;
      let next: { cert: string; key: string };
      try {
        next = { cert: Deno.readTextFileSync(t.certFile), key: Deno.readTextFileSync(t.keyFile) };
      } catch (e) {
        s.log.error(`monitoring: reloading the TLS certificate: ${(e as Error).message}`);
        return;
      }
      if (!changed.includes("tls") && next.cert === tlsOpts?.cert && next.key === tlsOpts?.key) return;
      tlsOpts = next;
      restarting = restarting.then(async () => {
        if (closed !== undefined) return;
        await httpServer.shutdown();
        try {
          httpServer = serve(port, next);
        } catch (e) {
          s.log.error(`monitoring: restarting the https listener: ${(e as Error).message}`);
        }
      });
    });
  }
  s.onShutdown.push(() => mon.close());
  return mon;
}

function serveRequest(
  s: Server,
  req: Request,
  table: Map<string, Route>,
): Response {
  const url = new URL(req.url);
  const path = url.pathname;
  // Go's ServeMux answers a path that is not in canonical form with a redirect to the clean one.
  const clean = cleanRequestPath(path);
  if (clean !== path) {
    const loc = clean + url.search;
    return new Response(`<a href="${htmlEscape(loc)}">Moved Permanently</a>.\n\n`, {
      status: 301,
      headers: { "Content-Type": TEXT_HTML, "Location": loc },
    });
  }
  // Under base "/" Go's root pattern catches every other path and answers 404; the effect is the same.
  const route = table.get(path);
  if (route === undefined) return notFound();
  try {
    if (route.countFirst) count(s, route.stat);
    const ans = route.handle(url.searchParams, url);
    if (!route.countFirst) count(s, route.stat);
    return ans instanceof Response ? ans : jsonResponse(url.searchParams, ans);
  } catch (e) {
    if (e instanceof MonitorError) {
      return new Response(e.message, { status: e.status, headers: { "Content-Type": TEXT_PLAIN } });
    }
    s.log.error(`Error serving monitoring request ${path}: ${(e as Error)?.message ?? e}`);
    return new Response("Internal Server Error", { status: 500, headers: { "Content-Type": TEXT_PLAIN } });
  }
}

function count(s: Server, stat: string): void {
  s.httpReqStats.set(stat, (s.httpReqStats.get(stat) ?? 0) + 1);
}

// ResponseHandler: JSONP when a callback is given, JSON otherwise.
function jsonResponse(q: URLSearchParams, body: string, status = 200): Response {
  const cb = q.get("callback") ?? "";
  if (cb !== "") {
    return new Response(`${cb}(${body})`, {
      status,
      headers: { "Content-Type": "application/javascript", "Access-Control-Allow-Origin": "*" },
    });
  }
  return new Response(body, {
    status,
    headers: { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" },
  });
}

function notFound(): Response {
  return new Response("404 page not found\n", {
    status: 404,
    headers: { "Content-Type": TEXT_PLAIN, "X-Content-Type-Options": "nosniff" },
  });
}

function buildRoutes(s: Server): [string, Route][] {
  const cpu = new CpuSampler();
  const subszRoute: Route = {
    stat: "/subsz",
    countFirst: true,
    handle: (q) => {
      const st = subsz(s, {
        subs: decodeBool(q, "subs"),
        offset: decodeInt(q, "offset"),
        limit: decodeInt(q, "limit"),
        test: q.get("test") ?? "",
        acc: q.get("acc") ?? "",
      });
      // Without a list, nats-server prints the bare sublist statistics.
      if (!st.subscriptions_list || st.subscriptions_list.length === 0) {
        const {
          "server_id": _i,
          now: _n,
          total: _t,
          offset: _o,
          limit: _l,
          "subscriptions_list": _s,
          ...stats
        } = st;
        return goJsonIndent(stats);
      }
      return goJsonIndent(st);
    },
  };
  return [
    ["/", {
      stat: "/",
      countFirst: true,
      handle: (_q, url) => {
        if (url.pathname !== normalizeBasePath(s.opts.httpBasePath)) return notFound();
        return new Response(rootHtml(normalizeBasePath(s.opts.httpBasePath)), {
          headers: { "Content-Type": TEXT_HTML },
        });
      },
    }],
    ["/varz", {
      stat: "/varz",
      countFirst: true,
      handle: () => goJsonIndent(varz(s, { cpu: cpu.percent() })),
    }],
    ["/connz", {
      stat: "/connz",
      countFirst: false,
      handle: (q) => {
        const sort = q.get("sort") ?? "";
        const auth = decodeBool(q, "auth");
        const { subs, detail } = decodeSubs(q);
        const offset = decodeInt(q, "offset");
        const limit = decodeInt(q, "limit");
        const cid = decodeUint64(q, "cid");
        const state = decodeState(q);
        return goJsonIndent(connz(s, {
          sort,
          auth,
          subs,
          subsDetail: detail,
          offset,
          limit,
          cid,
          state,
          user: q.get("user") ?? "",
          acc: q.get("acc") ?? "",
          mqttClient: q.get("mqtt_client") ?? "",
        }));
      },
    }],
    ["/routez", {
      stat: "/routez",
      countFirst: false,
      handle: (q) => {
        const { subs, detail } = decodeSubs(q);
        return goJsonIndent(routez(s, { subs, subsDetail: detail }));
      },
    }],
    ["/gatewayz", {
      stat: "/gatewayz",
      countFirst: true,
      handle: (q) => {
        const accName = q.get("acc_name") ?? "";
        const accounts = decodeBool(q, "accs") || accName !== "";
        return goJsonIndent(gatewayz(s, { name: q.get("gw_name") ?? "", accounts, accountName: accName }));
      },
    }],
    ["/leafz", {
      stat: "/leafz",
      countFirst: true,
      handle: (q) => goJsonIndent(leafz(s, { subs: decodeBool(q, "subs"), acc: q.get("acc") ?? "" })),
    }],
    ["/subsz", subszRoute],
    ["/subscriptionsz", subszRoute],
    ["/stacksz", {
      stat: "/stacksz",
      countFirst: true,
      // Go dumps its goroutines here; one event loop has a single stack, and this is it.
      handle: () => `natsdeno ${Deno.version.deno} (deno): single event loop, no goroutines\n`,
    }],
    ["/accountz", {
      stat: "/accountz",
      countFirst: true,
      handle: (q) => goJsonIndent(accountz(s, { acc: q.get("acc") ?? "" })),
    }],
    ["/accstatz", {
      stat: "/accstatz",
      countFirst: true,
      handle: (q) => goJsonIndent(accountStatz(s, { unused: decodeBool(q, "unused") })),
    }],
    ["/jsz", {
      stat: "/jsz",
      countFirst: true,
      handle: (q) => {
        const accounts = decodeBool(q, "accounts");
        const streams = decodeBool(q, "streams");
        const consumers = decodeBool(q, "consumers");
        const config = decodeBool(q, "config");
        const offset = decodeInt(q, "offset");
        const limit = decodeInt(q, "limit");
        const leaderOnly = decodeBool(q, "leader-only");
        return goJsonIndent(jsz(s, {
          acc: q.get("acc") ?? "",
          accounts,
          streams,
          consumers,
          config,
          leaderOnly,
          offset,
          limit,
        }));
      },
    }],
    ["/healthz", {
      stat: "/healthz",
      countFirst: true,
      handle: (q) => {
        const jsEnabled = decodeBool(q, "js-enabled");
        if (jsEnabled) s.log.warn("Healthcheck: js-enabled deprecated, use js-enabled-only instead");
        const jsEnabledOnly = decodeBool(q, "js-enabled-only");
        const jsServerOnly = decodeBool(q, "js-server-only");
        const hs = healthz(s, { jsEnabledOnly: jsEnabledOnly || jsEnabled, jsServerOnly });
        if (hs.error) {
          s.log.warn(`Healthcheck failed: ${JSON.stringify(hs.error)}`);
          return jsonResponse(q, goJson(hs), 503);
        }
        return goJson(hs);
      },
    }],
    ["/ipqueuesz", {
      stat: "/ipqueuesz",
      countFirst: false,
      // Go's internal queues between goroutines; natsdeno has none to show.
      handle: (q) => {
        decodeBool(q, "all");
        return "{}";
      },
    }],
  ];
}

/** http_base_path as nats-server normalizes it: leading slash, cleaned, "/" when empty. */
export function normalizeBasePath(p: string): string {
  if (p === "") return "/";
  if (p[0] !== "/") p = "/" + p;
  return cleanPath(p);
}

// Go's path.Clean for absolute paths.
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

// Go's path.Join(base, p) for the route patterns.
function joinPath(base: string, p: string): string {
  return cleanPath(base + "/" + p);
}

// ServeMux's cleanPath: like path.Clean, but a trailing slash survives.
function cleanRequestPath(p: string): string {
  if (p === "") return "/";
  let np = cleanPath(p[0] === "/" ? p : "/" + p);
  if (p.endsWith("/") && np !== "/") np += "/";
  return np;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;")
    .replace(/'/g, "&#39;");
}
