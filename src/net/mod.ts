// Listeners and transports.
export * from "./transport.ts";
export {
  spkiSha256,
  TLS_HANDSHAKE_BYTE,
  TlsAcceptor,
  tlsCipher,
  TlsHandshakeError,
  type TlsSettings,
  TlsTransport,
  tlsVersion,
  unsupportedTlsSettings,
} from "./tls.ts";
export * from "./websocket.ts";
