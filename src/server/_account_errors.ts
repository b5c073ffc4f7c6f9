// Account errors with nats-server's texts (server/errors.go).

/** An account operation that failed; `message` is nats-server's error text. */
export class AccountError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AccountError";
  }
}

/** nats-server's error texts for account operations. */
export const ERR = {
  badSubject: "invalid subject",
  invalidSubject: "invalid subject",
  badPublishSubject: "invalid publish subject",
  missingAccount: "account missing",
  missingService: "service missing",
  badServiceType: "bad service response type",
  badSampling: "bad sampling percentage, should be 1-100",
  streamImportAuthorization: "stream import not authorized",
  streamImportBadPrefix: "stream import prefix can not contain wildcard tokens",
  streamImportDuplicate: "stream import already exists",
  serviceImportAuthorization: "service import not authorized",
  importFormsCycle: "import forms a cycle",
  cycleSearchDepth: "search cycle depth exhausted",
  noSysAccount: "system account not setup",
  tooManyAccountConnections: "maximum account active connections exceeded",
} as const;
