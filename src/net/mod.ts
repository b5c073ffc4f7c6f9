// Listeners and transports.
export * from "./transport.ts";
export {
  spkiSha256,
  TLS_HANDSHAKE_BYTE,
  TlsAcceptor,
  TlsHandshakeError,
  type TlsSettings,
  TlsTransport,
  unsupportedTlsSettings,
} from "./tls.ts";
export * from "./websocket.ts";
