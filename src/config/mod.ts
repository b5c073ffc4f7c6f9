// Public surface of the config layer: the config-file parser, Options and their mapping from config and
// flags, and the reload diff. Behaviour follows nats-server conf/ and server/opts.go, server/reload.go.
export * from "./options.ts";
export { ConfigSyntaxError } from "./_parser.ts";
export {
  configDigest,
  type ConfigMap,
  type ConfigValue,
  type EntryInfo,
  entryInfo,
  parseConfig,
  parseConfigFile,
} from "./_tree.ts";
export { ConfigError } from "./_values.ts";
export { configToOptions, isKnownTopLevelKey, setBaselineOptions, validateOptions } from "./_options_map.ts";
export {
  type LoadedOptions,
  loadOptions,
  mergeOptions,
  type ParsedFlags,
  parseFlags,
  routesFromStr,
} from "./_flags.ts";
export { diffOptions } from "./_reload.ts";
export { USAGE } from "./_usage.ts";
