// Client authentication (tokens, users, bcrypt, nkeys, no_auth_user) and per-connection permissions;
// behaviour follows nats-server server/auth.go, server/nkey.go and the permission checks of server/client.go.
export {
  type AuthContext,
  type AuthResult,
  ClientAuth,
  type ClientAuthOptions,
  type ClientCredentials,
  CONNECTION_TYPES,
  type ConnectionType,
  GLOBAL_ACCOUNT,
  parseConnectionType,
  validateAllowedConnectionTypes,
  validateAuth,
} from "./client_auth.ts";
export { ClientPermissions, type CompileOptions } from "./permissions.ts";
export {
  decodePublicNkey,
  decodeSignature,
  isValidPublicUserKey,
  newNonce,
  NKEY_PREFIX,
  NONCE_RAW_LEN,
  verifyNkeySignature,
} from "./nkey.ts";
export { comparePasswords, constantTimeEquals, isBcrypt } from "./password.ts";
export { dnsAltNameLabels, dnsAltNameMatches } from "./dns_alt_name.ts";
export * from "./jwt.ts";
export {
  type AccountResolver,
  DirAccResolver,
  type DirResolverOptions,
  ERR_MISSING_ACCOUNT,
  MemAccResolver,
} from "./resolver.ts";
export {
  type CertIdentity,
  type Dn,
  type DnAttribute,
  dnEqual,
  dnRdnsMatch,
  parseCertIdentity,
  parseDn,
} from "./tls_map.ts";
