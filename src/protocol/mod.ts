// Client protocol: the parser, INFO/CONNECT shapes and the -ERR texts.
export * from "./errors.ts";
export * from "./info.ts";
export * from "./parser.ts";
export * from "./connect.ts";
