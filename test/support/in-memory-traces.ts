import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * What `@opentelemetry/context-async-hooks` gives a Node SDK, in the few lines the tests need: without
 * a context manager the active span is lost at the first `await`, and nothing would nest.
 */
class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(active: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(active, () => fn.apply(thisArg, args));
  }

  bind<T>(active: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(active, () => run(...args))) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

export interface InMemoryTraces {
  /** What the Temporal OpenTelemetry plugin sends workflow spans to, as a user's SDK setup would. */
  processor: SpanProcessor;
  provider: BasicTracerProvider;
  spans(): ReadableSpan[];
  close(): Promise<void>;
}

/**
 * A process-wide OpenTelemetry SDK that keeps every ended span in memory. The tracer provider, the
 * context manager and the propagator are globals of the process: close() takes all three back, so
 * that the tests after these run without tracing, as they were written.
 */
export function startInMemoryTraces(): InMemoryTraces {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return {
    processor,
    provider,
    spans: () => exporter.getFinishedSpans(),
    async close() {
      trace.disable();
      context.disable();
      propagation.disable();
      await provider.shutdown();
    },
  };
}
