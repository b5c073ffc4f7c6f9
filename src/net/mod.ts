// Listeners and transports.
export * from "./transport.ts";
