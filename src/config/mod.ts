// Public surface of the config layer: the config-file parser, flags, Options and the reload diff.
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
