// The JetStream API error table: one row per entry of nats-server's server/errors.json (its current source),
// keyed by the reference's constant names. Descriptions go on the wire verbatim; `{placeholder}` texts are
// filled by newJSError() with typed arguments.

/** One API error: an HTTP-like status, the JetStream error code and its description template. */
export interface ApiErrorDef {
  readonly code: number;
  readonly errCode: number;
  readonly description: string;
}

/** Every JetStream API error, by the reference's constant name. */
export const JS_ERRORS = {
  JSAccountResourcesExceededErr: {
    code: 400,
    errCode: 10002,
    description: "resource limits exceeded for account",
  },
  JSBadRequestErr: { code: 400, errCode: 10003, description: "bad request" },
  JSClusterIncompleteErr: { code: 503, errCode: 10004, description: "incomplete results" },
  JSClusterNoPeersErrF: { code: 400, errCode: 10005, description: "{err}" },
  JSClusterNotActiveErr: { code: 500, errCode: 10006, description: "JetStream not in clustered mode" },
  JSClusterNotAssignedErr: {
    code: 500,
    errCode: 10007,
    description: "JetStream cluster not assigned to this server",
  },
  JSClusterNotAvailErr: {
    code: 503,
    errCode: 10008,
    description: "JetStream system temporarily unavailable",
  },
  JSClusterNotLeaderErr: {
    code: 500,
    errCode: 10009,
    description: "JetStream cluster can not handle request",
  },
  JSClusterRequiredErr: { code: 503, errCode: 10010, description: "JetStream clustering support required" },
  JSClusterTagsErr: { code: 400, errCode: 10011, description: "tags placement not supported for operation" },
  JSConsumerCreateErrF: { code: 500, errCode: 10012, description: "{err}" },
  JSConsumerNameExistErr: { code: 400, errCode: 10013, description: "consumer name already in use" },
  JSConsumerNotFoundErr: { code: 404, errCode: 10014, description: "consumer not found" },
  JSSnapshotDeliverSubjectInvalidErr: { code: 400, errCode: 10015, description: "deliver subject not valid" },
  JSConsumerDurableNameNotInSubjectErr: {
    code: 400,
    errCode: 10016,
    description: "consumer expected to be durable but no durable name set in subject",
  },
  JSConsumerDurableNameNotMatchSubjectErr: {
    code: 400,
    errCode: 10017,
    description: "consumer name in subject does not match durable name in request",
  },
  JSConsumerDurableNameNotSetErr: {
    code: 400,
    errCode: 10018,
    description: "consumer expected to be durable but a durable name was not set",
  },
  JSConsumerEphemeralWithDurableInSubjectErr: {
    code: 400,
    errCode: 10019,
    description: "consumer expected to be ephemeral but detected a durable name set in subject",
  },
  JSConsumerEphemeralWithDurableNameErr: {
    code: 400,
    errCode: 10020,
    description: "consumer expected to be ephemeral but a durable name was set in request",
  },
  JSStreamExternalApiOverlapErrF: {
    code: 400,
    errCode: 10021,
    description: "stream external api prefix {prefix} must not overlap with {subject}",
  },
  JSStreamExternalDelPrefixOverlapsErrF: {
    code: 400,
    errCode: 10022,
    description: "stream external delivery prefix {prefix} overlaps with stream subject {subject}",
  },
  JSInsufficientResourcesErr: { code: 503, errCode: 10023, description: "insufficient resources" },
  JSStreamInvalidExternalDeliverySubjErrF: {
    code: 400,
    errCode: 10024,
    description: "stream external delivery prefix {prefix} must not contain wildcards",
  },
  JSInvalidJSONErr: { code: 400, errCode: 10025, description: "invalid JSON: {err}" },
  JSMaximumConsumersLimitErr: { code: 400, errCode: 10026, description: "maximum consumers limit reached" },
  JSMaximumStreamsLimitErr: { code: 400, errCode: 10027, description: "maximum number of streams reached" },
  JSMemoryResourcesExceededErr: {
    code: 500,
    errCode: 10028,
    description: "insufficient memory resources available",
  },
  JSMirrorConsumerSetupFailedErrF: { code: 500, errCode: 10029, description: "{err}" },
  JSMirrorMaxMessageSizeTooBigErr: {
    code: 400,
    errCode: 10030,
    description: "stream mirror must have max message size >= source",
  },
  JSMirrorWithSourcesErr: {
    code: 400,
    errCode: 10031,
    description: "stream mirrors can not also contain other sources",
  },
  JSMirrorWithStartSeqAndTimeErr: {
    code: 400,
    errCode: 10032,
    description: "stream mirrors can not have both start seq and start time configured",
  },
  JSMirrorWithSubjectFiltersErr: {
    code: 400,
    errCode: 10033,
    description: "stream mirrors can not contain filtered subjects",
  },
  JSMirrorWithSubjectsErr: {
    code: 400,
    errCode: 10034,
    description: "stream mirrors can not contain subjects",
  },
  JSNoAccountErr: { code: 503, errCode: 10035, description: "account not found" },
  JSClusterUnSupportFeatureErr: {
    code: 503,
    errCode: 10036,
    description: "not currently supported in clustered mode",
  },
  JSNoMessageFoundErr: { code: 404, errCode: 10037, description: "no message found" },
  JSNotEmptyRequestErr: { code: 400, errCode: 10038, description: "expected an empty request payload" },
  JSNotEnabledForAccountErr: { code: 503, errCode: 10039, description: "JetStream not enabled for account" },
  JSClusterPeerNotMemberErr: { code: 400, errCode: 10040, description: "peer not a member" },
  JSRaftGeneralErrF: { code: 500, errCode: 10041, description: "{err}" },
  JSRestoreSubscribeFailedErrF: {
    code: 500,
    errCode: 10042,
    description: "JetStream unable to subscribe to restore snapshot {subject}: {err}",
  },
  JSSequenceNotFoundErrF: { code: 400, errCode: 10043, description: "sequence {seq} not found" },
  JSClusterServerNotMemberErr: {
    code: 400,
    errCode: 10044,
    description: "server is not a member of the cluster",
  },
  JSSourceConsumerSetupFailedErrF: { code: 500, errCode: 10045, description: "{err}" },
  JSSourceMaxMessageSizeTooBigErr: {
    code: 400,
    errCode: 10046,
    description: "stream source must have max message size >= target",
  },
  JSStorageResourcesExceededErr: {
    code: 500,
    errCode: 10047,
    description: "insufficient storage resources available",
  },
  JSStreamAssignmentErrF: { code: 500, errCode: 10048, description: "{err}" },
  JSStreamCreateErrF: { code: 500, errCode: 10049, description: "{err}" },
  JSStreamDeleteErrF: { code: 500, errCode: 10050, description: "{err}" },
  JSStreamGeneralErrorF: { code: 500, errCode: 10051, description: "{err}" },
  JSStreamInvalidConfigF: { code: 500, errCode: 10052, description: "{err}" },
  JSStreamLimitsErrF: { code: 500, errCode: 10053, description: "{err}" },
  JSStreamMessageExceedsMaximumErr: {
    code: 400,
    errCode: 10054,
    description: "message size exceeds maximum allowed",
  },
  JSStreamMirrorNotUpdatableErr: {
    code: 400,
    errCode: 10055,
    description: "stream mirror configuration can not be updated",
  },
  JSStreamMismatchErr: {
    code: 400,
    errCode: 10056,
    description: "stream name in subject does not match request",
  },
  JSStreamMsgDeleteFailedF: { code: 500, errCode: 10057, description: "{err}" },
  JSStreamNameExistErr: {
    code: 400,
    errCode: 10058,
    description: "stream name already in use with a different configuration",
  },
  JSStreamNotFoundErr: { code: 404, errCode: 10059, description: "stream not found" },
  JSStreamNotMatchErr: { code: 400, errCode: 10060, description: "expected stream does not match" },
  JSStreamReplicasNotUpdatableErr: {
    code: 400,
    errCode: 10061,
    description: "Replicas configuration can not be updated",
  },
  JSStreamRestoreErrF: { code: 500, errCode: 10062, description: "restore failed: {err}" },
  JSStreamSequenceNotMatchErr: {
    code: 503,
    errCode: 10063,
    description: "expected stream sequence does not match",
  },
  JSStreamSnapshotErrF: { code: 500, errCode: 10064, description: "snapshot failed: {err}" },
  JSStreamSubjectOverlapErr: {
    code: 400,
    errCode: 10065,
    description: "subjects overlap with an existing stream",
  },
  JSStreamTemplateCreateErrF: { code: 500, errCode: 10066, description: "{err}" },
  JSStreamTemplateDeleteErrF: { code: 500, errCode: 10067, description: "{err}" },
  JSStreamTemplateNotFoundErr: { code: 404, errCode: 10068, description: "template not found" },
  JSStreamUpdateErrF: { code: 500, errCode: 10069, description: "{err}" },
  JSStreamWrongLastMsgIDErrF: { code: 400, errCode: 10070, description: "wrong last msg ID: {id}" },
  JSStreamWrongLastSequenceErrF: { code: 400, errCode: 10071, description: "wrong last sequence: {seq}" },
  JSTempStorageFailedErr: {
    code: 500,
    errCode: 10072,
    description: "JetStream unable to open temp storage for restore",
  },
  JSTemplateNameNotMatchSubjectErr: {
    code: 400,
    errCode: 10073,
    description: "template name in subject does not match request",
  },
  JSStreamReplicasNotSupportedErr: {
    code: 500,
    errCode: 10074,
    description: "replicas > 1 not supported in non-clustered mode",
  },
  JSPeerRemapErr: { code: 503, errCode: 10075, description: "peer remap failed" },
  JSNotEnabledErr: { code: 503, errCode: 10076, description: "JetStream not enabled" },
  JSStreamStoreFailedF: { code: 503, errCode: 10077, description: "{err}" },
  JSConsumerConfigRequiredErr: { code: 400, errCode: 10078, description: "consumer config required" },
  JSConsumerDeliverToWildcardsErr: {
    code: 400,
    errCode: 10079,
    description: "consumer deliver subject has wildcards",
  },
  JSConsumerPushMaxWaitingErr: {
    code: 400,
    errCode: 10080,
    description: "consumer in push mode can not set max waiting",
  },
  JSConsumerDeliverCycleErr: {
    code: 400,
    errCode: 10081,
    description: "consumer deliver subject forms a cycle",
  },
  JSConsumerMaxPendingAckPolicyRequiredErr: {
    code: 400,
    errCode: 10082,
    description: "consumer requires ack policy for max ack pending",
  },
  JSConsumerSmallHeartbeatErr: {
    code: 400,
    errCode: 10083,
    description: "consumer idle heartbeat needs to be >= 100ms",
  },
  JSConsumerPullRequiresAckErr: {
    code: 400,
    errCode: 10084,
    description: "consumer in pull mode requires ack policy",
  },
  JSConsumerPullNotDurableErr: {
    code: 400,
    errCode: 10085,
    description: "consumer in pull mode requires a durable name",
  },
  JSConsumerPullWithRateLimitErr: {
    code: 400,
    errCode: 10086,
    description: "consumer in pull mode can not have rate limit set",
  },
  JSConsumerMaxWaitingNegativeErr: {
    code: 400,
    errCode: 10087,
    description: "consumer max waiting needs to be positive",
  },
  JSConsumerHBRequiresPushErr: {
    code: 400,
    errCode: 10088,
    description: "consumer idle heartbeat requires a push based consumer",
  },
  JSConsumerFCRequiresPushErr: {
    code: 400,
    errCode: 10089,
    description: "consumer flow control requires a push based consumer",
  },
  JSConsumerDirectRequiresPushErr: {
    code: 400,
    errCode: 10090,
    description: "consumer direct requires a push based consumer",
  },
  JSConsumerDirectRequiresEphemeralErr: {
    code: 400,
    errCode: 10091,
    description: "consumer direct requires an ephemeral consumer",
  },
  JSConsumerOnMappedErr: { code: 400, errCode: 10092, description: "consumer direct on a mapped consumer" },
  JSConsumerFilterNotSubsetErr: {
    code: 400,
    errCode: 10093,
    description: "consumer filter subject is not a valid subset of the interest subjects",
  },
  JSConsumerInvalidPolicyErrF: { code: 400, errCode: 10094, description: "{err}" },
  JSConsumerInvalidSamplingErrF: {
    code: 400,
    errCode: 10095,
    description: "failed to parse consumer sampling configuration: {err}",
  },
  JSStreamInvalidErr: { code: 500, errCode: 10096, description: "stream not valid" },
  JSStreamHeaderExceedsMaximumErr: {
    code: 400,
    errCode: 10097,
    description: "header size exceeds maximum allowed of 64k",
  },
  JSConsumerWQRequiresExplicitAckErr: {
    code: 400,
    errCode: 10098,
    description: "workqueue stream requires explicit ack",
  },
  JSConsumerWQMultipleUnfilteredErr: {
    code: 400,
    errCode: 10099,
    description: "multiple non-filtered consumers not allowed on workqueue stream",
  },
  JSConsumerWQConsumerNotUniqueErr: {
    code: 400,
    errCode: 10100,
    description: "filtered consumer not unique on workqueue stream",
  },
  JSConsumerWQConsumerNotDeliverAllErr: {
    code: 400,
    errCode: 10101,
    description: "consumer must be deliver all on workqueue stream",
  },
  JSConsumerNameTooLongErrF: {
    code: 400,
    errCode: 10102,
    description: "consumer name is too long, maximum allowed is {max}",
  },
  JSConsumerBadDurableNameErr: {
    code: 400,
    errCode: 10103,
    description: "durable name can not contain '.', '*', '>'",
  },
  JSConsumerStoreFailedErrF: {
    code: 500,
    errCode: 10104,
    description: "error creating store for consumer: {err}",
  },
  JSConsumerExistingActiveErr: {
    code: 400,
    errCode: 10105,
    description: "consumer already exists and is still active",
  },
  JSConsumerReplacementWithDifferentNameErr: {
    code: 400,
    errCode: 10106,
    description: "consumer replacement durable config not the same",
  },
  JSConsumerDescriptionTooLongErrF: {
    code: 400,
    errCode: 10107,
    description: "consumer description is too long, maximum allowed is {max}",
  },
  JSConsumerWithFlowControlNeedsHeartbeats: {
    code: 400,
    errCode: 10108,
    description: "consumer with flow control also needs heartbeats",
  },
  JSStreamSealedErr: { code: 400, errCode: 10109, description: "invalid operation on sealed stream" },
  JSStreamPurgeFailedF: { code: 500, errCode: 10110, description: "{err}" },
  JSStreamRollupFailedF: { code: 500, errCode: 10111, description: "{err}" },
  JSConsumerInvalidDeliverSubject: {
    code: 400,
    errCode: 10112,
    description: "invalid push consumer deliver subject",
  },
  JSStreamMaxBytesRequired: {
    code: 400,
    errCode: 10113,
    description: "account requires a stream config to have max bytes set",
  },
  JSConsumerMaxRequestBatchNegativeErr: {
    code: 400,
    errCode: 10114,
    description: "consumer max request batch needs to be > 0",
  },
  JSConsumerMaxRequestExpiresTooSmall: {
    code: 400,
    errCode: 10115,
    description: "consumer max request expires needs to be >= 1ms",
  },
  JSConsumerMaxDeliverBackoffErr: {
    code: 400,
    errCode: 10116,
    description: "max deliver is required to be > length of backoff values",
  },
  JSStreamInfoMaxSubjectsErr: {
    code: 500,
    errCode: 10117,
    description: "subject details would exceed maximum allowed",
  },
  JSStreamOfflineErr: { code: 500, errCode: 10118, description: "stream is offline" },
  JSConsumerOfflineErr: { code: 500, errCode: 10119, description: "consumer is offline" },
  JSNoLimitsErr: {
    code: 400,
    errCode: 10120,
    description: "no JetStream default or applicable tiered limit present",
  },
  JSConsumerMaxPendingAckExcessErrF: {
    code: 400,
    errCode: 10121,
    description: "consumer max ack pending exceeds system limit of {limit}",
  },
  JSStreamMaxStreamBytesExceeded: {
    code: 400,
    errCode: 10122,
    description: "stream max bytes exceeds account limit max stream bytes",
  },
  JSStreamMoveAndScaleErr: {
    code: 400,
    errCode: 10123,
    description: "can not move and scale a stream in a single update",
  },
  JSStreamMoveInProgressF: {
    code: 400,
    errCode: 10124,
    description: "stream move already in progress: {msg}",
  },
  JSConsumerMaxRequestBatchExceededF: {
    code: 400,
    errCode: 10125,
    description: "consumer max request batch exceeds server limit of {limit}",
  },
  JSConsumerReplicasExceedsStream: {
    code: 400,
    errCode: 10126,
    description: "consumer config replica count exceeds parent stream",
  },
  JSConsumerNameContainsPathSeparatorsErr: {
    code: 400,
    errCode: 10127,
    description: "Consumer name can not contain path separators",
  },
  JSStreamNameContainsPathSeparatorsErr: {
    code: 400,
    errCode: 10128,
    description: "Stream name can not contain path separators",
  },
  JSStreamMoveNotInProgress: { code: 400, errCode: 10129, description: "stream move not in progress" },
  JSStreamNameExistRestoreFailedErr: {
    code: 400,
    errCode: 10130,
    description: "stream name already in use, cannot restore",
  },
  JSConsumerCreateFilterSubjectMismatchErr: {
    code: 400,
    errCode: 10131,
    description: "Consumer create request did not match filtered subject from create subject",
  },
  JSConsumerCreateDurableAndNameMismatch: {
    code: 400,
    errCode: 10132,
    description: "Consumer Durable and Name have to be equal if both are provided",
  },
  JSReplicasCountCannotBeNegative: {
    code: 400,
    errCode: 10133,
    description: "replicas count cannot be negative",
  },
  JSConsumerReplicasShouldMatchStream: {
    code: 400,
    errCode: 10134,
    description: "consumer config replicas must match interest retention stream's replicas",
  },
  JSConsumerMetadataLengthErrF: {
    code: 400,
    errCode: 10135,
    description: "consumer metadata exceeds maximum size of {limit}",
  },
  JSConsumerDuplicateFilterSubjects: {
    code: 400,
    errCode: 10136,
    description: "consumer cannot have both FilterSubject and FilterSubjects specified",
  },
  JSConsumerMultipleFiltersNotAllowed: {
    code: 400,
    errCode: 10137,
    description: "consumer with multiple subject filters cannot use subject based API",
  },
  JSConsumerOverlappingSubjectFilters: {
    code: 400,
    errCode: 10138,
    description: "consumer subject filters cannot overlap",
  },
  JSConsumerEmptyFilter: {
    code: 400,
    errCode: 10139,
    description: "consumer filter in FilterSubjects cannot be empty",
  },
  JSSourceDuplicateDetected: {
    code: 400,
    errCode: 10140,
    description: "duplicate source configuration detected",
  },
  JSSourceInvalidStreamName: { code: 400, errCode: 10141, description: "sourced stream name is invalid" },
  JSMirrorInvalidStreamName: { code: 400, errCode: 10142, description: "mirrored stream name is invalid" },
  JSMirrorWithFirstSeqErr: {
    code: 400,
    errCode: 10143,
    description: "stream mirrors can not have first sequence configured",
  },
  JSSourceMultipleFiltersNotAllowed: {
    code: 400,
    errCode: 10144,
    description: "source with multiple subject transforms cannot also have a single subject filter",
  },
  JSSourceInvalidSubjectFilter: { code: 400, errCode: 10145, description: "source transform source: {err}" },
  JSSourceInvalidTransformDestination: { code: 400, errCode: 10146, description: "source transform: {err}" },
  JSSourceOverlappingSubjectFilters: {
    code: 400,
    errCode: 10147,
    description: "source filters can not overlap",
  },
  JSConsumerAlreadyExists: { code: 400, errCode: 10148, description: "consumer already exists" },
  JSConsumerDoesNotExist: { code: 400, errCode: 10149, description: "consumer does not exist" },
  JSMirrorMultipleFiltersNotAllowed: {
    code: 400,
    errCode: 10150,
    description: "mirror with multiple subject transforms cannot also have a single subject filter",
  },
  JSMirrorInvalidSubjectFilter: { code: 400, errCode: 10151, description: "mirror transform source: {err}" },
  JSMirrorOverlappingSubjectFilters: {
    code: 400,
    errCode: 10152,
    description: "mirror subject filters can not overlap",
  },
  JSConsumerInactiveThresholdExcess: {
    code: 400,
    errCode: 10153,
    description: "consumer inactive threshold exceeds system limit of {limit}",
  },
  JSMirrorInvalidTransformDestination: { code: 400, errCode: 10154, description: "mirror transform: {err}" },
  JSStreamTransformInvalidSource: {
    code: 400,
    errCode: 10155,
    description: "stream transform source: {err}",
  },
  JSStreamTransformInvalidDestination: { code: 400, errCode: 10156, description: "stream transform: {err}" },
  JSPedanticErrF: { code: 400, errCode: 10157, description: "pedantic mode: {err}" },
  JSStreamDuplicateMessageConflict: {
    code: 409,
    errCode: 10158,
    description: "duplicate message id is in process",
  },
  JSConsumerPriorityPolicyWithoutGroup: {
    code: 400,
    errCode: 10159,
    description: "Setting PriorityPolicy requires at least one PriorityGroup to be set",
  },
  JSConsumerInvalidPriorityGroupErr: {
    code: 400,
    errCode: 10160,
    description: "Provided priority group does not exist for this consumer",
  },
  JSConsumerEmptyGroupName: {
    code: 400,
    errCode: 10161,
    description: "Group name cannot be an empty string",
  },
  JSConsumerInvalidGroupNameErr: {
    code: 400,
    errCode: 10162,
    description:
      "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters",
  },
  JSStreamExpectedLastSeqPerSubjectNotReady: {
    code: 503,
    errCode: 10163,
    description: "expected last sequence per subject temporarily unavailable",
  },
  JSStreamWrongLastSequenceConstantErr: { code: 400, errCode: 10164, description: "wrong last sequence" },
  JSMessageTTLInvalidErr: { code: 400, errCode: 10165, description: "invalid per-message TTL" },
  JSMessageTTLDisabledErr: { code: 400, errCode: 10166, description: "per-message TTL is disabled" },
  JSStreamTooManyRequests: { code: 429, errCode: 10167, description: "too many requests" },
  JSMessageIncrDisabledErr: { code: 400, errCode: 10168, description: "message counters is disabled" },
  JSMessageIncrMissingErr: { code: 400, errCode: 10169, description: "message counter increment is missing" },
  JSMessageIncrPayloadErr: { code: 400, errCode: 10170, description: "message counter has payload" },
  JSMessageIncrInvalidErr: { code: 400, errCode: 10171, description: "message counter increment is invalid" },
  JSMessageCounterBrokenErr: { code: 400, errCode: 10172, description: "message counter is broken" },
  JSMirrorWithCountersErr: {
    code: 400,
    errCode: 10173,
    description: "stream mirrors can not also calculate counters",
  },
  JSAtomicPublishDisabledErr: { code: 400, errCode: 10174, description: "atomic publish is disabled" },
  JSAtomicPublishMissingSeqErr: {
    code: 400,
    errCode: 10175,
    description: "atomic publish sequence is missing",
  },
  JSAtomicPublishIncompleteBatchErr: {
    code: 400,
    errCode: 10176,
    description: "atomic publish batch is incomplete",
  },
  JSAtomicPublishUnsupportedHeaderBatchErr: {
    code: 400,
    errCode: 10177,
    description: "atomic publish unsupported header used: {header}",
  },
  JSConsumerPushWithPriorityGroupErr: {
    code: 400,
    errCode: 10178,
    description: "priority groups can not be used with push consumers",
  },
  JSAtomicPublishInvalidBatchIDErr: {
    code: 400,
    errCode: 10179,
    description: "atomic publish batch ID is invalid",
  },
  JSStreamMinLastSeqErr: { code: 412, errCode: 10180, description: "min last sequence" },
  JSConsumerAckPolicyInvalidErr: { code: 400, errCode: 10181, description: "consumer ack policy invalid" },
  JSConsumerReplayPolicyInvalidErr: {
    code: 400,
    errCode: 10182,
    description: "consumer replay policy invalid",
  },
  JSConsumerAckWaitNegativeErr: {
    code: 400,
    errCode: 10183,
    description: "consumer ack wait needs to be positive",
  },
  JSConsumerBackOffNegativeErr: {
    code: 400,
    errCode: 10184,
    description: "consumer backoff needs to be positive",
  },
  JSRequiredApiLevelErr: { code: 412, errCode: 10185, description: "JetStream minimum api level required" },
  JSMirrorWithMsgSchedulesErr: {
    code: 400,
    errCode: 10186,
    description: "stream mirrors can not also schedule messages",
  },
  JSSourceWithMsgSchedulesErr: {
    code: 400,
    errCode: 10187,
    description: "stream source can not also schedule messages",
  },
  JSMessageSchedulesDisabledErr: { code: 400, errCode: 10188, description: "message schedules is disabled" },
  JSMessageSchedulesPatternInvalidErr: {
    code: 400,
    errCode: 10189,
    description: "message schedules pattern is invalid",
  },
  JSMessageSchedulesTargetInvalidErr: {
    code: 400,
    errCode: 10190,
    description: "message schedules target is invalid",
  },
  JSMessageSchedulesTTLInvalidErr: {
    code: 400,
    errCode: 10191,
    description: "message schedules invalid per-message TTL",
  },
  JSMessageSchedulesRollupInvalidErr: {
    code: 400,
    errCode: 10192,
    description: "message schedules invalid rollup",
  },
  JSStreamExpectedLastSeqPerSubjectInvalid: {
    code: 400,
    errCode: 10193,
    description: "missing sequence for expected last sequence per subject",
  },
  JSStreamOfflineReasonErrF: { code: 500, errCode: 10194, description: "stream is offline: {err}" },
  JSConsumerOfflineReasonErrF: { code: 500, errCode: 10195, description: "consumer is offline: {err}" },
  JSConsumerPriorityGroupWithPolicyNone: {
    code: 400,
    errCode: 10196,
    description: "consumer can not have priority groups when policy is none",
  },
  JSConsumerPinnedTTLWithoutPriorityPolicyNone: {
    code: 400,
    errCode: 10197,
    description: "PinnedTTL cannot be set when PriorityPolicy is none",
  },
  JSMirrorWithAtomicPublishErr: {
    code: 400,
    errCode: 10198,
    description: "stream mirrors can not also use atomic publishing",
  },
  JSAtomicPublishTooLargeBatchErrF: {
    code: 400,
    errCode: 10199,
    description: "atomic publish batch is too large: {size}",
  },
  JSAtomicPublishInvalidBatchCommitErr: {
    code: 400,
    errCode: 10200,
    description: "atomic publish batch commit is invalid",
  },
  JSAtomicPublishContainsDuplicateMessageErr: {
    code: 400,
    errCode: 10201,
    description: "atomic publish batch contains duplicate message id",
  },
  JSClusterServerMemberChangeInflightErr: {
    code: 400,
    errCode: 10202,
    description: "cluster member change is in progress",
  },
  JSMessageSchedulesSourceInvalidErr: {
    code: 400,
    errCode: 10203,
    description: "message schedules source is invalid",
  },
  JSConsumerInvalidResetErr: { code: 400, errCode: 10204, description: "invalid reset: {err}" },
  JSBatchPublishDisabledErr: { code: 400, errCode: 10205, description: "batch publish is disabled" },
  JSBatchPublishInvalidPatternErr: {
    code: 400,
    errCode: 10206,
    description: "batch publish pattern is invalid",
  },
  JSBatchPublishInvalidBatchIDErr: { code: 400, errCode: 10207, description: "batch publish ID is invalid" },
  JSBatchPublishUnknownBatchIDErr: { code: 400, errCode: 10208, description: "batch publish ID unknown" },
  JSMirrorWithBatchPublishErr: {
    code: 400,
    errCode: 10209,
    description: "stream mirrors can not also use batch publishing",
  },
  JSAtomicPublishTooManyInflight: {
    code: 429,
    errCode: 10210,
    description: "atomic publish too many inflight",
  },
  JSBatchPublishTooManyInflight: {
    code: 429,
    errCode: 10211,
    description: "batch publish too many inflight",
  },
  JSMessageSchedulesSchedulerInvalidErr: {
    code: 400,
    errCode: 10212,
    description: "message schedules invalid scheduler",
  },
  JSMirrorDurableConsumerCfgInvalid: {
    code: 400,
    errCode: 10213,
    description: "stream mirror consumer config is invalid",
  },
  JSMirrorConsumerRequiresAckFCErr: {
    code: 400,
    errCode: 10214,
    description: "stream mirror consumer requires flow control ack policy",
  },
  JSSourceDurableConsumerCfgInvalid: {
    code: 400,
    errCode: 10215,
    description: "stream source consumer config is invalid",
  },
  JSSourceDurableConsumerDuplicateDetected: {
    code: 400,
    errCode: 10216,
    description: "duplicate stream source consumer detected",
  },
  JSSourceConsumerRequiresAckFCErr: {
    code: 400,
    errCode: 10217,
    description: "stream source consumer requires flow control ack policy",
  },
  JSConsumerAckFCRequiresPushErr: {
    code: 400,
    errCode: 10218,
    description: "flow control ack policy requires a push based consumer",
  },
  JSConsumerAckFCRequiresFCErr: {
    code: 400,
    errCode: 10219,
    description: "flow control ack policy requires flow control",
  },
  JSConsumerAckFCRequiresMaxAckPendingErr: {
    code: 400,
    errCode: 10220,
    description: "flow control ack policy requires max ack pending",
  },
  JSConsumerAckFCRequiresNoAckWaitErr: {
    code: 400,
    errCode: 10221,
    description: "flow control ack policy requires unset ack wait",
  },
  JSConsumerAckFCRequiresNoMaxDeliverErr: {
    code: 400,
    errCode: 10222,
    description: "flow control ack policy requires unset max deliver",
  },
  JSMessageSchedulesTimeZoneInvalidErr: {
    code: 400,
    errCode: 10223,
    description: "message schedules time zone is invalid",
  },
  JSClusterRescueErr: {
    code: 400,
    errCode: 10224,
    description: "JetStream system rescue not applied: {err}",
  },
  JSConsumerStreamIdentityMismatchF: {
    code: 400,
    errCode: 10225,
    description: "consumer's stream identity does not match: {msg}",
  },
  JSStreamReconfigureInProgressErr: {
    code: 400,
    errCode: 10226,
    description: "stream reconfiguration already in progress",
  },
} as const satisfies Record<string, ApiErrorDef>;

/** A constant name of JS_ERRORS. */
export type JSErrorId = keyof typeof JS_ERRORS;

type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest>
  : never;

/** The arguments an error's description needs, e.g. `{ err: string }` for "{err}". */
export type JSErrorArgs<K extends JSErrorId> = [Placeholders<(typeof JS_ERRORS)[K]["description"]>] extends
  [never] ? []
  : [Record<Placeholders<(typeof JS_ERRORS)[K]["description"]>, string | number | bigint | Error>];

/** The `error` object of an API response. */
export interface ApiErrorJson {
  code: number;
  "err_code": number;
  description: string;
}

/** An API error as it is sent in a response's `error` field. */
export class ApiError extends Error {
  readonly code: number;
  readonly errCode: number;
  readonly description: string;

  constructor(def: ApiErrorDef, description = def.description) {
    super(description);
    this.name = "ApiError";
    this.code = def.code;
    this.errCode = def.errCode;
    this.description = description;
  }

  /** True when this error is the table's entry `id`. */
  is(id: JSErrorId): boolean {
    return this.errCode === JS_ERRORS[id].errCode;
  }

  toJSON(): ApiErrorJson {
    return { code: this.code, "err_code": this.errCode, description: this.description };
  }
}

/**
 * Builds the error `id`, filling its `{placeholders}`; an Error argument contributes its message, as Go's
 * `%v` of an error does.
 * @example newJSError("JSStreamInvalidConfigF", { err: "replicas > 1 not supported" })
 */
export function newJSError<K extends JSErrorId>(id: K, ...args: JSErrorArgs<K>): ApiError {
  const def: ApiErrorDef = JS_ERRORS[id];
  const a = args[0] as Record<string, unknown> | undefined;
  if (a === undefined) return new ApiError(def);
  const text = def.description.replace(/\{(\w+)\}/g, (m, k: string) => {
    const v = a[k];
    if (v === undefined) return m;
    return v instanceof Error ? v.message : String(v);
  });
  return new ApiError(def, text);
}
