// Subject validation and the subscription trie with its match cache; follows nats-server server/sublist.go.
//
// Everything here is synchronous: a Sublist method never awaits, so each call is atomic for the
// single-threaded server (this replaces the RWMutex of the Go sublist).

export {
  CACHE_MAX,
  CACHE_SWEEP,
  type InterestNotify,
  type SubLike,
  Sublist,
  type SublistResult,
  SublistStats,
} from "./_sublist.ts";
export {
  isSubsetMatch,
  isSubsetMatchTokenized,
  isValidLiteralSubject,
  isValidPublishSubject,
  isValidSubject,
  MappingDestinationError,
  matchLiteral,
  numTokens,
  subjectHasWildcard,
  subjectInfo,
  subjectIsLiteral,
  subjectIsSubsetMatch,
  subjectsCollide,
  SublistError,
  tokenAt,
  tokenizeSubject,
  validateMappingDestination,
} from "./_subject.ts";
export {
  indexPlaceHolders,
  MAPPING_REASONS,
  type PlaceHolder,
  SubjectTransform,
  TransformError,
  TransformKind,
  type TransformOptions,
  transformTokenize,
  transformUntokenize,
  validateMapping,
} from "./transform.ts";
