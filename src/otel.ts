/**
 * `wsmachine/otel`: OpenTelemetry traces and metrics for a wsmachine client, attached from the
 * outside. The only entry that imports `@opentelemetry/api` (an optional peer dependency); the core
 * and the browser entry never reach it.
 *
 * @example
 * ```ts
 * import { createClient } from 'wsmachine';
 * import { instrument } from 'wsmachine/otel';
 * const client = createClient({ url: 'wss://feed.example/v1' });
 * const detach = instrument(client); // the global tracer and meter providers
 * await client.start();
 * ```
 */
export {
  instrument,
  type InstrumentOptions,
  type InstrumentableClient,
} from './telemetry/instrument.js';
export {
  Attr,
  INSTRUMENTATION_SCOPE,
  Metrics,
  Outcomes,
  SpanNames,
  scrubText,
  urlAttributes,
} from './telemetry/attributes.js';
