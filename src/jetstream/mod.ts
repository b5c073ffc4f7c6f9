// JetStream on one server: enablement, the `$JS.API` dispatcher, the error table and streams.
// Behaviour follows nats-server server/jetstream.go, jetstream_api.go and stream.go.

export {
  ApiError,
  type ApiErrorDef,
  type ApiErrorJson,
  JS_ERRORS,
  type JSErrorArgs,
  type JSErrorId,
  newJSError,
} from "./api_errors.ts";
export {
  JetStream,
  type JetStreamDeps,
  JS_API_LEVEL,
  JsAccount,
  type JsLimits,
  type StreamStoreFactory,
} from "./jetstream.ts";
export { ApiDispatcher, type ApiHandler, type ApiRequest } from "./_api.ts";
export { type PurgeRequest, storeConfig, Stream, type StreamConsumer, type StreamHost } from "./stream.ts";
export { isValidName, type StreamConfig } from "./_stream_config.ts";
export { enableJetStream, jszBuilder } from "./_enable.ts";
export { Consumer, type ConsumerOpts, createConsumerName } from "./consumer.ts";
export { type ConsumerConfig, consumerConfigJson } from "./_consumer_config.ts";
