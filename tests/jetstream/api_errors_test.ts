// Provokes every JetStream API error a single server can return and checks {code, err_code, description}
// against the error table (src/jetstream/api_errors.ts), and against nats-server -js side by side where the
// reference has the error (skipped with a message when nats-server is not on PATH).
//
// Errors of the table that one server cannot return, with the reason:
// - Clustering: JSClusterIncompleteErr, JSClusterNoPeersErrF, JSClusterNotActiveErr, JSClusterNotAssignedErr,
//   JSClusterNotAvailErr, JSClusterNotLeaderErr, JSClusterPeerNotMemberErr, JSClusterRescueErr,
//   JSClusterServerMemberChangeInflightErr, JSClusterServerNotMemberErr, JSClusterTagsErr,
//   JSClusterUnSupportFeatureErr, JSPeerRemapErr, JSRaftGeneralErrF, JSStreamAssignmentErrF,
//   JSStreamMoveAndScaleErr, JSStreamMoveInProgressF, JSStreamMoveNotInProgress, JSStreamOfflineErr,
//   JSStreamOfflineReasonErrF, JSConsumerOfflineErr, JSConsumerOfflineReasonErrF, JSNoAccountErr (peer
//   remove / stream move of another account), JSStreamReplicasNotUpdatableErr, JSConsumerReplicasShouldMatchStream
//   (R>1 consumers on an R1 server are refused earlier), JSStreamReconfigureInProgressErr.
// - Registration races the create path rules out before registering: JSConsumerExistingActiveErr,
//   JSConsumerReplacementWithDifferentNameErr, JSStreamInvalidErr (a stream without its client),
//   JSConsumerConfigRequiredErr (the API always passes a config), JSNoLimitsErr (tiered limits: the R1 tier
//   always exists for an enabled account).
// - Checks that an earlier check always answers first (as in 2.11+): JSConsumerBadDurableNameErr (the config
//   check refuses such names with JSStreamInvalidConfigF, tested), JSConsumerMaxWaitingNegativeErr and
//   JSConsumerMaxRequestBatchNegativeErr (negatives are clamped to 0, or JSPedanticErrF in pedantic mode,
//   tested), JSConsumerReplicasExceedsStream (R>1 is refused with JSStreamReplicasNotSupportedErr, tested).
// - JSNotEnabledErr: a server without JetStream has no $JS.API responder at all (no responders), and an
//   account without it gets JSNotEnabledForAccountErr (tested).
// - Stream templates (removed after 2.9): JSStreamTemplateCreateErrF, JSStreamTemplateDeleteErrF,
//   JSStreamTemplateNotFoundErr, JSTemplateNameNotMatchSubjectErr.
// - Failures of the host, not of a request: JSTempStorageFailedErr, JSRestoreSubscribeFailedErrF,
//   JSStreamDeleteErrF, JSStreamUpdateErrF, JSStreamLimitsErrF (store refusal texts go through
//   JSStreamStoreFailedF), JSMirrorConsumerSetupFailedErrF, JSSourceConsumerSetupFailedErrF,
//   JSConsumerStoreFailedErrF, JSConsumerCreateErrF, JSStreamCreateErrF, JSStreamSnapshotErrF,
//   JSStreamRestoreErrF (a restore of a corrupt archive is tested in stream_snapshot_test.ts),
//   JSStreamGeneralErrorF (an unexpected exception), JSInsufficientResourcesErr (server-wide storage full),
//   JSError.
// - Newer features natsdeno does not serve yet: the JSBatchPublish* (fast batch) errors,
//   JSConsumerAckFC*/JSMirrorConsumerRequiresAckFCErr/JSSourceConsumerRequiresAckFCErr (ack flow control),
//   JSMirrorWithBatchPublishErr, JSStreamTooManyRequests, JSStreamMinLastSeqErr, JSStreamInfoMaxSubjectsErr,
//   JSStreamDuplicateMessageConflict, JSAtomicPublishContainsDuplicateMessageErr,
//   JSStreamExpectedLastSeqPerSubjectInvalid/NotReady, JSStreamWrongLastSequenceConstantErr,
//   JSStreamSequenceNotMatchErr, JSConsumerStreamIdentityMismatchF, JSConsumerAckPolicyInvalidErr,
//   JSConsumerReplayPolicyInvalidErr, JSConsumerPullNotDurableErr, JSConsumerOnMappedErr,
//   JSConsumerMultipleFiltersNotAllowed, JSMirrorDurableConsumerCfgInvalid,
//   JSSourceDurableConsumerCfgInvalid, JSSourceDurableConsumerDuplicateDetected,
//   JSMirrorWithStartSeqAndTimeErr, JSMirrorWithSubjectFiltersErr (2.9 names for checks now reported as
//   JSMirrorInvalidSubjectFilter and friends), JSConsumerEphemeralWithDurableInSubjectErr (the ephemeral
//   subject form has no name token since 2.9).

import { assert, assertEquals } from "@std/assert";
import { headers } from "@nats-io/nats-core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { configToOptions, parseConfig } from "../../src/config/mod.ts";
import { type JSErrorId, newJSError } from "../../src/jetstream/api_errors.ts";
import { natsServerPath, runRefServer } from "../_helpers/ref_server.ts";
import { runJsServer } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

// deno-lint-ignore no-explicit-any
type Json = any;

/** Accounts: A plain, N without JetStream, L1..L6 each with one limit. */
function conf(storeDir: string): string {
  return `
jetstream { store_dir: "${storeDir}" }
accounts {
  A: { jetstream: enabled, users: [{user: a, password: a}] }
  N: { users: [{user: n, password: n}] }
  L1: { jetstream: { max_streams: 1 }, users: [{user: l1, password: l1}] }
  L2: { jetstream: { max_consumers: 1 }, users: [{user: l2, password: l2}] }
  L3: { jetstream: { max_bytes_required: true }, users: [{user: l3, password: l3}] }
  L4: { jetstream: { mem_max_stream_bytes: 2048 }, users: [{user: l4, password: l4}] }
  L5: { jetstream: { max_mem: 1000 }, users: [{user: l5, password: l5}] }
  L6: { jetstream: { max_ack_pending: 10 }, users: [{user: l6, password: l6}] }
}
`;
}

/** What a case may do on one server. */
class Ctx {
  constructor(readonly conns: Record<string, NatsConnection>) {}

  /** An API request (or any request) in account `acc`; the parsed reply. */
  async req(
    subject: string,
    body: unknown = undefined,
    hdrs: Record<string, string> = {},
    acc = "a",
  ): Promise<Json> {
    const data = body === undefined
      ? new Uint8Array(0)
      : enc.encode(typeof body === "string" ? body : JSON.stringify(body));
    const h = headers();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    const m = await this.conns[acc].request(subject, data, {
      timeout: 2_000,
      headers: Object.keys(hdrs).length > 0 ? h : undefined,
    });
    return JSON.parse(dec.decode(m.data));
  }

  /** Creates a stream and fails the case when that errs. */
  async stream(cfg: Record<string, unknown>, acc = "a"): Promise<void> {
    const r = await this.req(`$JS.API.STREAM.CREATE.${cfg.name}`, { storage: "memory", ...cfg }, {}, acc);
    if (r.error) throw new Error(`stream ${cfg.name}: ${JSON.stringify(r.error)}`);
  }

  /** Creates a consumer through CONSUMER.CREATE.<stream>[.<name>]; the reply. */
  consumer(stream: string, config: Record<string, unknown>, acc = "a", name = ""): Promise<Json> {
    if (name === "" && typeof config.durable_name === "string") name = config.durable_name;
    const subj = name ? `$JS.API.CONSUMER.CREATE.${stream}.${name}` : `$JS.API.CONSUMER.CREATE.${stream}`;
    return this.req(subj, { "stream_name": stream, config }, {}, acc);
  }

  /** A stream on `<n>.>` plus a consumer config attempt on it. */
  async onStream(
    n: string,
    config: Record<string, unknown>,
    scfg: Record<string, unknown> = {},
  ): Promise<Json> {
    await this.stream({ name: n, subjects: [`${n}.>`], ...scfg });
    return this.consumer(n, config);
  }
}

interface Case {
  id: JSErrorId;
  /** Placeholder values of the expected description. */
  args?: Record<string, unknown>;
  /** Only the description prefix is deterministic (a parser message follows). */
  prefix?: boolean;
  /** Compare with the reference: true, or a string saying why not. */
  ref: true | string;
  run(c: Ctx, n: string): Promise<Json>;
}

const MS = 1_000_000;
const NEWER = "not in nats-server 2.9.10";

const CASES: Case[] = [
  // ---- Request routing and envelopes ------------------------------------------------------------------
  {
    id: "JSBadRequestErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.PURGE.${n}`, { seq: 5, keep: 1 });
    },
  },
  {
    id: "JSInvalidJSONErr",
    prefix: true,
    ref: '2.9.10 says only "invalid JSON"; the table adds the parser\'s message',
    run: (c) => c.req("$JS.API.STREAM.CREATE.X", "{nope"),
  },
  { id: "JSNotEnabledForAccountErr", ref: true, run: (c) => c.req("$JS.API.INFO", undefined, {}, "n") },
  {
    id: "JSNotEnabledForAccountErr",
    ref: true,
    run: (c) => c.req("$JS.API.STREAM.CREATE.X", { name: "X" }, {}, "n"),
  },
  {
    id: "JSRequiredApiLevelErr",
    ref: NEWER,
    run: (c) => c.req("$JS.API.INFO", undefined, { "Nats-Required-Api-Level": "99" }),
  },
  {
    id: "JSNotEmptyRequestErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.DELETE.${n}`, "x");
    },
  },
  {
    id: "JSPedanticErrF",
    args: { err: "max_waiting must not be negative" },
    ref: "2.9.10 answers JSConsumerMaxWaitingNegativeErr; 2.11+ clamps negatives to 0 unless pedantic",
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.CREATE.${n}`, {
        "stream_name": n,
        pedantic: true,
        config: { "ack_policy": "explicit", "max_waiting": -1 },
      });
    },
  },
  // ---- Streams --------------------------------------------------------------------------------------------
  { id: "JSStreamNotFoundErr", ref: true, run: (c) => c.req("$JS.API.STREAM.INFO.NONE") },
  { id: "JSStreamMismatchErr", ref: true, run: (c) => c.req("$JS.API.STREAM.CREATE.X1", { name: "X2" }) },
  {
    id: "JSStreamNameContainsPathSeparatorsErr",
    ref: true,
    run: (c) => c.req("$JS.API.STREAM.CREATE.a\\b", { name: "a\\b", storage: "memory" }),
  },
  {
    id: "JSStreamReplicasNotSupportedErr",
    ref: true,
    run: (c, n) => c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, "num_replicas": 3, storage: "memory" }),
  },
  {
    id: "JSReplicasCountCannotBeNegative",
    ref: NEWER,
    run: (c, n) => c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, "num_replicas": -1, storage: "memory" }),
  },
  {
    id: "JSStreamNameExistErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, subjects: [`${n}.x`], storage: "memory" });
    },
  },
  {
    id: "JSStreamSubjectOverlapErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.CREATE.${n}B`, { name: `${n}B`, subjects: [`${n}.x`], storage: "memory" });
    },
  },
  {
    id: "JSStreamInvalidConfigF",
    args: { err: "stream configuration for create can not be sealed" },
    ref: true,
    run: (c, n) => c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, sealed: true, storage: "memory" }),
  },
  {
    id: "JSStreamTransformInvalidSource",
    args: { err: "invalid subject a..b" },
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        "subject_transform": { src: "a..b", dest: "x" },
      }),
  },
  {
    id: "JSStreamTransformInvalidDestination",
    args: { err: "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]" },
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        subjects: [`${n}.*`],
        "subject_transform": { src: `${n}.*`, dest: "x.{{wildcard(2)}}" },
      }),
  },
  {
    id: "JSStreamSealedErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      await c.req(`$JS.API.STREAM.UPDATE.${n}`, {
        name: n,
        subjects: [`${n}.>`],
        storage: "memory",
        sealed: true,
      });
      return c.req(`$JS.API.STREAM.PURGE.${n}`);
    },
  },
  {
    id: "JSStreamPurgeFailedF",
    args: { err: "stream purge not permitted" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "deny_purge": true });
      return c.req(`$JS.API.STREAM.PURGE.${n}`);
    },
  },
  {
    id: "JSStreamMsgDeleteFailedF",
    args: { err: "message delete not permitted" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "deny_delete": true });
      await c.req(`${n}.a`, "x");
      return c.req(`$JS.API.STREAM.MSG.DELETE.${n}`, { seq: 1 });
    },
  },
  {
    id: "JSSequenceNotFoundErrF",
    args: { seq: 99 },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      await c.req(`${n}.a`, "x");
      return c.req(`$JS.API.STREAM.MSG.DELETE.${n}`, { seq: 99 });
    },
  },
  {
    id: "JSNoMessageFoundErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.MSG.GET.${n}`, { seq: 5 });
    },
  },
  {
    id: "JSStreamMirrorNotUpdatableErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      await c.stream({ name: `${n}M`, mirror: { name: n } });
      return c.req(`$JS.API.STREAM.UPDATE.${n}M`, {
        name: `${n}M`,
        storage: "memory",
        mirror: { name: "OTHER" },
      });
    },
  },
  {
    id: "JSMirrorWithSubjectsErr",
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        subjects: ["q"],
        mirror: { name: "Z" },
      }),
  },
  {
    id: "JSMirrorWithSourcesErr",
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: "Y" }],
        mirror: { name: "Z" },
      }),
  },
  {
    id: "JSMirrorWithFirstSeqErr",
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        "first_seq": 5,
        mirror: { name: "Z" },
      }),
  },
  {
    id: "JSMirrorInvalidStreamName",
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, storage: "memory", mirror: { name: "a.b" } }),
  },
  {
    id: "JSSourceInvalidStreamName",
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, storage: "memory", sources: [{ name: "a.b" }] }),
  },
  {
    id: "JSSourceDuplicateDetected",
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: "S1" }, { name: "S1" }],
      }),
  },
  {
    id: "JSMirrorInvalidSubjectFilter",
    args: { err: "invalid subject a..b" },
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        mirror: { name: "Z", "subject_transforms": [{ src: "a..b", dest: "x" }] },
      }),
  },
  {
    id: "JSSourceInvalidSubjectFilter",
    args: { err: "invalid subject a..b" },
    ref: NEWER,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: "Z", "subject_transforms": [{ src: "a..b", dest: "x" }] }],
      }),
  },
  {
    id: "JSMirrorMaxMessageSizeTooBigErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "max_msg_size": 100 });
      return c.req(`$JS.API.STREAM.CREATE.${n}M`, {
        name: `${n}M`,
        storage: "memory",
        "max_msg_size": 50,
        mirror: { name: n },
      });
    },
  },
  {
    id: "JSSourceMaxMessageSizeTooBigErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "max_msg_size": 100 });
      return c.req(`$JS.API.STREAM.CREATE.${n}S`, {
        name: `${n}S`,
        storage: "memory",
        "max_msg_size": 50,
        sources: [{ name: n }],
      });
    },
  },
  {
    id: "JSStreamExternalApiOverlapErrF",
    args: { prefix: "$JS.API", subject: "$JS.API" },
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: "Z", external: { api: "$JS.API", deliver: "" } }],
      }),
  },
  {
    id: "JSStreamExternalDelPrefixOverlapsErrF",
    args: { prefix: "dlv", subject: "dlv.>" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: `${n}Y`, subjects: ["dlv.>"] });
      return c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: `${n}Y` }, { name: "Z", external: { api: "$JS.EXT.API", deliver: "dlv" } }],
      });
    },
  },
  {
    id: "JSStreamInvalidExternalDeliverySubjErrF",
    args: { prefix: "dlv.*" },
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, {
        name: n,
        storage: "memory",
        sources: [{ name: "Z", external: { api: "$JS.EXT.API", deliver: "dlv.*" } }],
      }),
  },
  // ---- Publishing --------------------------------------------------------------------------------------
  {
    id: "JSStreamMessageExceedsMaximumErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "max_msg_size": 10 });
      return c.req(`${n}.a`, "0123456789abcdef");
    },
  },
  {
    id: "JSStreamHeaderExceedsMaximumErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "X-Big": "h".repeat(70_000) });
    },
  },
  {
    id: "JSStreamNotMatchErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-Expected-Stream": "OTHER" });
    },
  },
  {
    id: "JSStreamWrongLastSequenceErrF",
    args: { seq: 0 },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-Expected-Last-Sequence": "5" });
    },
  },
  {
    id: "JSStreamWrongLastMsgIDErrF",
    args: { id: "" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-Expected-Last-Msg-Id": "abc" });
    },
  },
  {
    id: "JSStreamStoreFailedF",
    args: { err: "maximum messages exceeded" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "max_msgs": 1, discard: "new" });
      await c.req(`${n}.a`, "x");
      return c.req(`${n}.a`, "y");
    },
  },
  {
    id: "JSStreamRollupFailedF",
    args: { err: "rollup not permitted" },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-Rollup": "all" });
    },
  },
  {
    id: "JSMessageTTLDisabledErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-TTL": "1s" });
    },
  },
  {
    id: "JSMessageTTLInvalidErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_ttl": true });
      return c.req(`${n}.a`, "x", { "Nats-TTL": "bogus" });
    },
  },
  {
    id: "JSMessageIncrDisabledErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "", { "Nats-Incr": "1" });
    },
  },
  {
    id: "JSMessageIncrInvalidErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_counter": true });
      return c.req(`${n}.a`, "", { "Nats-Incr": "x" });
    },
  },
  {
    id: "JSMessageIncrPayloadErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_counter": true });
      return c.req(`${n}.a`, "body", { "Nats-Incr": "1" });
    },
  },
  {
    id: "JSMessageIncrMissingErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_counter": true });
      return c.req(`${n}.a`, "");
    },
  },
  {
    id: "JSMessageSchedulesDisabledErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", { "Nats-Schedule": "@every 1s", "Nats-Schedule-Target": `${n}.t` });
    },
  },
  {
    id: "JSMessageSchedulesPatternInvalidErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_schedules": true });
      return c.req(`${n}.a`, "x", { "Nats-Schedule": "nonsense", "Nats-Schedule-Target": `${n}.t` });
    },
  },
  {
    id: "JSMessageSchedulesTargetInvalidErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_msg_schedules": true });
      return c.req(`${n}.a`, "x", { "Nats-Schedule": "@every 1s" });
    },
  },
  {
    id: "JSAtomicPublishDisabledErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`${n}.a`, "x", {
        "Nats-Batch-Id": "b1",
        "Nats-Batch-Sequence": "1",
        "Nats-Batch-Commit": "1",
      });
    },
  },
  {
    id: "JSAtomicPublishMissingSeqErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`], "allow_atomic": true });
      return c.req(`${n}.a`, "x", { "Nats-Batch-Id": "b1" });
    },
  },
  // ---- Account limits -------------------------------------------------------------------------------------
  {
    id: "JSMaximumStreamsLimitErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] }, "l1");
      return c.req(`$JS.API.STREAM.CREATE.${n}B`, { name: `${n}B`, storage: "memory" }, {}, "l1");
    },
  },
  {
    id: "JSMaximumConsumersLimitErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] }, "l2");
      const r = await c.consumer(n, { "durable_name": "d1", "ack_policy": "explicit" }, "l2");
      if (r.error) throw new Error(JSON.stringify(r.error));
      return c.consumer(n, { "durable_name": "d2", "ack_policy": "explicit" }, "l2");
    },
  },
  {
    id: "JSStreamMaxBytesRequired",
    ref: true,
    run: (c, n) => c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, storage: "memory" }, {}, "l3"),
  },
  {
    id: "JSStreamMaxStreamBytesExceeded",
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, storage: "memory", "max_bytes": 4096 }, {}, "l4"),
  },
  {
    id: "JSMemoryResourcesExceededErr",
    ref: true,
    run: (c, n) =>
      c.req(`$JS.API.STREAM.CREATE.${n}`, { name: n, storage: "memory", "max_bytes": 4096 }, {}, "l5"),
  },
  {
    id: "JSAccountResourcesExceededErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] }, "l5");
      let r: Json;
      for (let i = 0; i < 20; i++) {
        r = await c.req(`${n}.a`, "x".repeat(200), {}, "l5");
        if (r.error) break;
      }
      return r;
    },
  },
  {
    id: "JSConsumerMaxPendingAckExcessErrF",
    args: { limit: 10 },
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] }, "l6");
      return c.consumer(n, { "durable_name": "d", "ack_policy": "explicit", "max_ack_pending": 100 }, "l6");
    },
  },
  // ---- Consumers ------------------------------------------------------------------------------------------
  {
    id: "JSConsumerNotFoundErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.INFO.${n}.NONE`);
    },
  },
  {
    id: "JSConsumerEphemeralWithDurableNameErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.CREATE.${n}`, {
        "stream_name": n,
        config: { "durable_name": "B", "ack_policy": "explicit" },
      });
    },
  },
  {
    id: "JSConsumerDurableNameNotMatchSubjectErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.DURABLE.CREATE.${n}.A`, {
        "stream_name": n,
        config: { "durable_name": "B", "ack_policy": "explicit" },
      });
    },
  },
  {
    id: "JSConsumerDurableNameNotSetErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.DURABLE.CREATE.${n}.A`, {
        "stream_name": n,
        config: { "ack_policy": "explicit" },
      });
    },
  },
  {
    id: "JSStreamInvalidConfigF",
    args: { err: "consumer name can not contain '.', '*', '>', '\\', '/'" },
    ref: "2.9.10 answers JSConsumerBadDurableNameErr",
    run: (c, n) => c.onStream(n, { name: "a.b", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerCreateDurableAndNameMismatch",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.DURABLE.CREATE.${n}.b`, {
        "stream_name": n,
        config: { name: "a", "durable_name": "b", "ack_policy": "explicit" },
      });
    },
  },
  {
    id: "JSConsumerNameTooLongErrF",
    args: { max: 255 },
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "durable_name": "d".repeat(300), "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerDeliverToWildcardsErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "deliver_subject": "x.*", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerDeliverCycleErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "deliver_subject": `${n}.d`, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerDescriptionTooLongErrF",
    args: { max: 4096 },
    ref: true,
    run: (c, n) => c.onStream(n, { description: "d".repeat(5000), "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerDirectRequiresPushErr",
    ref: true,
    run: (c, n) => c.onStream(n, { direct: true, "ack_policy": "none" }),
  },
  {
    id: "JSConsumerDirectRequiresEphemeralErr",
    ref: true,
    run: (c, n) =>
      c.onStream(n, { direct: true, "durable_name": "d", "deliver_subject": "dx", "ack_policy": "none" }),
  },
  {
    id: "JSConsumerFCRequiresPushErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "flow_control": true, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerHBRequiresPushErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "idle_heartbeat": 1e9, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerFilterNotSubsetErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "filter_subject": "zzz", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerInvalidPolicyErrF",
    args: {
      err: "consumer delivery policy is deliver by start sequence, but optional start sequence is not set",
    },
    ref: true,
    run: (c, n) => c.onStream(n, { "deliver_policy": "by_start_sequence", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerInvalidSamplingErrF",
    args: { err: 'strconv.Atoi: parsing "abc": invalid syntax' },
    ref: true,
    run: (c, n) => c.onStream(n, { "sample_freq": "abc", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerMaxDeliverBackoffErr",
    ref: true,
    run: (c, n) => c.onStream(n, { backoff: [1e9, 2e9], "max_deliver": 1, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerBackOffNegativeErr",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { backoff: [-1], "max_deliver": 5, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerAckWaitNegativeErr",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "ack_wait": -1, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerMaxPendingAckPolicyRequiredErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "ack_policy": "none", "max_ack_pending": 5, "deliver_subject": "dx" }),
  },
  {
    id: "JSConsumerMaxRequestExpiresTooSmall",
    ref: true,
    run: (c, n) => c.onStream(n, { "max_expires": 500_000, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPullRequiresAckErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "ack_policy": "none", "durable_name": "d" }, { retention: "workqueue" }),
  },
  {
    id: "JSConsumerPullWithRateLimitErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "rate_limit_bps": 1000, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPushMaxWaitingErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "deliver_subject": "dx", "max_waiting": 5, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerSmallHeartbeatErr",
    ref: true,
    run: (c, n) =>
      c.onStream(n, { "deliver_subject": "dx", "idle_heartbeat": 10 * MS, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerWithFlowControlNeedsHeartbeats",
    ref: true,
    run: (c, n) => c.onStream(n, { "deliver_subject": "dx", "flow_control": true, "ack_policy": "explicit" }),
  },
  {
    id: "JSStreamReplicasNotSupportedErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "num_replicas": 3, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerMetadataLengthErrF",
    args: { limit: "128KB" },
    ref: NEWER,
    run: (c, n) => c.onStream(n, { metadata: { k: "v".repeat(130 * 1024) }, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerWQRequiresExplicitAckErr",
    ref: true,
    run: (c, n) => c.onStream(n, { "ack_policy": "all", "durable_name": "d" }, { retention: "workqueue" }),
  },
  {
    id: "JSConsumerWQConsumerNotDeliverAllErr",
    ref: true,
    run: (c, n) =>
      c.onStream(n, { "ack_policy": "explicit", "deliver_policy": "last", "durable_name": "d" }, {
        retention: "workqueue",
      }),
  },
  {
    id: "JSConsumerWQMultipleUnfilteredErr",
    ref: true,
    run: async (c, n) => {
      const r = await c.onStream(n, { "ack_policy": "explicit", "durable_name": "d1" }, {
        retention: "workqueue",
      });
      if (r.error) throw new Error(JSON.stringify(r.error));
      return c.consumer(n, { "ack_policy": "explicit", "durable_name": "d2" });
    },
  },
  {
    id: "JSConsumerWQConsumerNotUniqueErr",
    ref: true,
    run: async (c, n) => {
      const r = await c.onStream(n, {
        "ack_policy": "explicit",
        "durable_name": "d1",
        "filter_subject": `${n}.a`,
      }, {
        retention: "workqueue",
      });
      if (r.error) throw new Error(JSON.stringify(r.error));
      return c.consumer(n, { "ack_policy": "explicit", "durable_name": "d2", "filter_subject": `${n}.a` });
    },
  },
  {
    id: "JSConsumerNameExistErr",
    ref: true,
    run: async (c, n) => {
      const r = await c.onStream(n, {
        "durable_name": "d",
        "deliver_subject": "dx1",
        "ack_policy": "explicit",
      });
      if (r.error) throw new Error(JSON.stringify(r.error));
      // The deliver subject is bound: a subscriber is interested.
      const sub = c.conns.a.subscribe("dx1");
      await c.conns.a.flush();
      const out = await c.consumer(n, {
        "durable_name": "d",
        "deliver_subject": "dx2",
        "ack_policy": "explicit",
      });
      sub.unsubscribe();
      return out;
    },
  },
  {
    id: "JSConsumerAlreadyExists",
    ref: NEWER,
    run: async (c, n) => {
      const r = await c.onStream(n, { "durable_name": "d", "ack_policy": "explicit" });
      if (r.error) throw new Error(JSON.stringify(r.error));
      return c.req(`$JS.API.CONSUMER.CREATE.${n}.d`, {
        "stream_name": n,
        action: "create",
        config: { "durable_name": "d", "ack_policy": "explicit", "max_deliver": 3 },
      });
    },
  },
  {
    id: "JSConsumerDoesNotExist",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.CREATE.${n}.d`, {
        "stream_name": n,
        action: "update",
        config: { "durable_name": "d", "ack_policy": "explicit" },
      });
    },
  },
  {
    id: "JSConsumerCreateFilterSubjectMismatchErr",
    ref: NEWER,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.CONSUMER.CREATE.${n}.d.${n}.a`, {
        "stream_name": n,
        config: { "durable_name": "d", "ack_policy": "explicit", "filter_subject": `${n}.b` },
      });
    },
  },
  {
    id: "JSConsumerDuplicateFilterSubjects",
    ref: NEWER,
    run: (c, n) =>
      c.onStream(n, { "filter_subject": `${n}.a`, "filter_subjects": [`${n}.b`], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerOverlappingSubjectFilters",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "filter_subjects": [`${n}.a`, `${n}.*`], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerEmptyFilter",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "filter_subjects": [`${n}.a`, ""], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPriorityPolicyWithoutGroup",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "priority_policy": "overflow", "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPriorityGroupWithPolicyNone",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "priority_groups": ["g"], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerEmptyGroupName",
    ref: NEWER,
    run: (c, n) =>
      c.onStream(n, { "priority_policy": "overflow", "priority_groups": [""], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerInvalidGroupNameErr",
    ref: NEWER,
    run: (c, n) =>
      c.onStream(n, { "priority_policy": "overflow", "priority_groups": ["a b"], "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPinnedTTLWithoutPriorityPolicyNone",
    ref: NEWER,
    run: (c, n) => c.onStream(n, { "priority_timeout": 1e9, "ack_policy": "explicit" }),
  },
  {
    id: "JSConsumerPushWithPriorityGroupErr",
    ref: NEWER,
    run: (c, n) =>
      c.onStream(n, {
        "deliver_subject": "dx",
        "priority_policy": "overflow",
        "priority_groups": ["g"],
        "ack_policy": "explicit",
      }),
  },
  {
    id: "JSConsumerInvalidResetErr",
    args: { err: "sequence out of range" },
    ref: NEWER,
    run: async (c, n) => {
      const r = await c.onStream(n, { "durable_name": "d", "ack_policy": "explicit" });
      if (r.error) throw new Error(JSON.stringify(r.error));
      return c.req(`$JS.API.CONSUMER.RESET.${n}.d`, { seq: 1000 });
    },
  },
  {
    id: "JSClusterRequiredErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.LEADER.STEPDOWN.${n}`);
    },
  },
  {
    id: "JSSnapshotDeliverSubjectInvalidErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.SNAPSHOT.${n}`, { "deliver_subject": "" });
    },
  },
  {
    id: "JSStreamNameExistRestoreFailedErr",
    ref: true,
    run: async (c, n) => {
      await c.stream({ name: n, subjects: [`${n}.>`] });
      return c.req(`$JS.API.STREAM.RESTORE.${n}`, { config: { name: n, storage: "memory" }, state: {} });
    },
  },
];

async function connectAll(port: number): Promise<Record<string, NatsConnection>> {
  const out: Record<string, NatsConnection> = {};
  for (const u of ["a", "n", "l1", "l2", "l3", "l4", "l5", "l6"]) {
    out[u] = await connect({ servers: `127.0.0.1:${port}`, user: u, pass: u });
  }
  return out;
}

/** Runs every case on one server; the error objects by case id (or a thrown setup failure). */
async function runAll(port: number): Promise<Json[]> {
  const conns = await connectAll(port);
  const ctx = new Ctx(conns);
  const out: Json[] = [];
  try {
    let i = 0;
    for (const k of CASES) {
      const n = `E${i++}`;
      try {
        const r = await k.run(ctx, n);
        out.push(r?.error ?? { none: r });
      } catch (e) {
        out.push({ thrown: String((e as Error).message ?? e) });
      }
    }
  } finally {
    for (const nc of Object.values(conns)) await nc.close();
  }
  return out;
}

Deno.test("JetStream API errors: every error one server returns matches the table", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "natsdeno-jserr-" });
  const opts = configToOptions(parseConfig(conf(dir)));
  await using s = await runJsServer({ ...opts, host: "127.0.0.1", port: 0, storeDir: dir });
  const got = await runAll(s.port);
  const exe = natsServerPath();
  let ref: Json[] | undefined;
  // deno-lint-ignore no-console
  if (exe === undefined) console.warn("nats-server not on PATH: reference comparison skipped");
  else {
    const rdir = await Deno.makeTempDir({ prefix: "natsdeno-jserr-ref-" });
    await using r = await runRefServer(exe, conf(rdir));
    ref = await runAll(r.port);
    await Deno.remove(rdir, { recursive: true }).catch(() => {});
  }
  if (Deno.env.get("JS_ERR_DUMP")) {
    // deno-lint-ignore no-console
    CASES.forEach((k, i) => console.log(k.id, JSON.stringify(got[i]), "| ref:", JSON.stringify(ref?.[i])));
  }
  for (const [i, k] of CASES.entries()) {
    await t.step(`${k.id} (${i})`, () => {
      // deno-lint-ignore no-explicit-any
      const want = (newJSError as any)(k.id, k.args).toJSON();
      const e = got[i];
      if (k.prefix) {
        assertEquals([e.code, e.err_code], [want.code, want.err_code], JSON.stringify(e));
        assert(String(e.description).startsWith(want.description.replace(/\{\w+\}.*$/, "")), e.description);
      } else assertEquals(e, want);
      if (ref !== undefined && k.ref === true) assertEquals(ref[i], e, "reference differs");
    });
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
});
