// The HTML index served at the monitor's base path: links to every endpoint, as nats-server's root
// page offers them (same link texts and relative targets; our own markup).

import { VERSION } from "../protocol/mod.ts";

const LINKS: [string, string][] = [
  ["/varz", "General"],
  ["/jsz", "JetStream"],
  ["/connz", "Connections"],
  ["/accountz", "Accounts"],
  ["/accstatz", "Account Stats"],
  ["/subsz", "Subscriptions"],
  ["/routez", "Routes"],
  ["/leafz", "LeafNodes"],
  ["/gatewayz", "Gateways"],
  ["/healthz", "Health Probe"],
];

/** The index page for a normalized base path ("/" or "/nats"). */
export function rootHtml(base: string): string {
  const prefix = base === "/" ? "" : base;
  const items = LINKS.map(([p, text], i) =>
    `    <a href=.${prefix}${p}${i === LINKS.length - 1 ? " class=last" : ""}>${text}</a>`
  ).join("\n");
  return `<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>NATS Server Monitoring</title>
    <style type="text/css">
      body { font-family: system-ui, sans-serif; margin-left: 32px }
      a { display: block; margin-left: 7px; padding-bottom: 6px; text-decoration: none }
      a.last { padding-bottom: 16px }
      a.help { display: inline; font-weight: 600 }
    </style>
  </head>
  <body>
    <h2>NATS Server <a href=https://github.com/nats-io/nats-server class='version'>v${VERSION}</a></h2>
    <p>natsdeno monitoring</p>
${items}
    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring class="help">Help</a>
  </body>
</html>`;
}
