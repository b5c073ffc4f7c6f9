// Why a connection closed, with the texts /connz reports (nats-server monitor.go ClosedState).

export const ClosedState = {
  ClientClosed: "Client Closed",
  AuthenticationTimeout: "Authentication Timeout",
  AuthenticationViolation: "Authentication Failure",
  TLSHandshakeError: "TLS Handshake Failure",
  SlowConsumerPendingBytes: "Slow Consumer (Pending Bytes)",
  SlowConsumerWriteDeadline: "Slow Consumer (Write Deadline)",
  WriteError: "Write Error",
  ReadError: "Read Error",
  ParseError: "Parse Error",
  StaleConnection: "Stale Connection",
  ProtocolViolation: "Protocol Violation",
  BadClientProtocolVersion: "Bad Client Protocol Version",
  WrongPort: "Incorrect Port",
  MaxConnectionsExceeded: "Maximum Connections Exceeded",
  MaxAccountConnectionsExceeded: "Maximum Account Connections Exceeded",
  MaxPayloadExceeded: "Maximum Message Payload Exceeded",
  MaxControlLineExceeded: "Maximum Control Line Exceeded",
  MaxSubscriptionsExceeded: "Maximum Subscriptions Exceeded",
  ServerShutdown: "Server Shutdown",
  AuthenticationExpired: "Authentication Expired",
  Revocation: "Credentials Revoked",
  MsgHeaderViolation: "Message Header Violation",
  NoRespondersRequiresHeaders: "No Responders Requires Headers",
  /** Closed by a $SYS.REQ.SERVER.<id>.KICK request (nats-server 2.10+). */
  Kicked: "Kicked",
} as const;
export type ClosedState = typeof ClosedState[keyof typeof ClosedState];
